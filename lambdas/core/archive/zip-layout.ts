/**
 * The byte layout of a zip's entries, checked before anything is inflated.
 *
 * The central directory only points at local headers; a hostile zip can point two entries at one
 * local header (caught as a repeated name or a name mismatch), make one entry's data run over the
 * next one's header (the overlapping-entry bomb:
 * a few KB that inflate to gigabytes, each entry passing its own ratio check), repeat a name so a
 * reader picks either copy (or two names that unzip to one file: `A.csv` and `./a.csv`), or give a
 * local header a name other than the directory's. Each of
 * these is refused here with a named error; a zip written by an ordinary tool has none of them.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type yauzl from 'yauzl';
import { CorruptArchiveError, UnsafeEntryError } from '../errors.ts';

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;

/** What the layout check needs of an entry (`ZipEntryInfo` has it). */
export interface LaidOutEntry {
  readonly name: string;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
  readonly entry: Pick<yauzl.Entry, 'fileNameRaw'>;
}

interface Span {
  readonly name: string;
  readonly start: number;
  /** one past the entry's last data byte (a data descriptor, if any, follows) */
  readonly end: number;
}

export async function checkEntryLayout(
  path: string,
  entries: readonly LaidOutEntry[],
  fileBytes: number,
  what: string,
): Promise<void> {
  checkUniqueNames(entries, what);
  const file = await open(path, 'r');
  try {
    const spans: Span[] = [];
    for (const entry of entries) spans.push(await readSpan(file, entry, fileBytes, what));
    checkDisjoint(spans, what);
  } finally {
    await file.close();
  }
}

function checkUniqueNames(entries: readonly LaidOutEntry[], what: string): void {
  const seen = new Map<string, string>();
  for (const { name } of entries) {
    const key = extractedPath(name);
    const earlier = seen.get(key);
    if (earlier === name) throw new UnsafeEntryError(`${what} has two entries named ${JSON.stringify(name)}`);
    if (earlier !== undefined) {
      throw new UnsafeEntryError(
        `${what} has entries ${JSON.stringify(earlier)} and ${JSON.stringify(name)}, one file once extracted`,
      );
    }
    seen.set(key, name);
  }
}

/**
 * The file a name becomes when an auditor unzips the original: case-insensitive file systems
 * (Windows, macOS) fold case, macOS stores Unicode decomposed, and `./` or `//` add nothing.
 * Two names with the same path here would leave one file where the archive counted two.
 */
function extractedPath(name: string): string {
  const segments = name
    .normalize('NFC')
    .toLowerCase()
    .replaceAll('\\', '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  return segments.join('/');
}

/** Reads one local header: it must be a header, name the same bytes, and fit in the file. */
async function readSpan(file: FileHandle, entry: LaidOutEntry, fileBytes: number, what: string): Promise<Span> {
  const quoted = `entry ${JSON.stringify(entry.name)} of ${what}`;
  const centralName = entry.entry.fileNameRaw;
  const head = Buffer.alloc(LOCAL_HEADER_BYTES + centralName.length);
  const { bytesRead } = await file.read(head, 0, head.length, entry.localHeaderOffset);
  if (bytesRead < head.length || head.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw new CorruptArchiveError(`${quoted} has no local header where the central directory says`);
  }
  const nameBytes = head.readUInt16LE(26);
  const localName = head.subarray(LOCAL_HEADER_BYTES, LOCAL_HEADER_BYTES + nameBytes);
  if (nameBytes !== centralName.length || !localName.equals(centralName)) {
    // Worded as the first entry's check in extract.ts: the local entry, then what the directory says.
    throw new CorruptArchiveError(
      `entry ${JSON.stringify(localName.toString('utf8'))} of ${what} does not match the zip's central directory (name ${JSON.stringify(entry.name)}): the zip is damaged or inconsistent`,
    );
  }
  const dataStart = entry.localHeaderOffset + LOCAL_HEADER_BYTES + nameBytes + head.readUInt16LE(28);
  const end = dataStart + entry.compressedSize;
  if (end > fileBytes) {
    throw new CorruptArchiveError(`${quoted} runs past the end of the file (truncated or damaged)`);
  }
  return { name: entry.name, start: entry.localHeaderOffset, end };
}

function checkDisjoint(spans: Span[], what: string): void {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1] as Span;
    const span = sorted[i] as Span;
    if (span.start < before.end) {
      const names = `${JSON.stringify(before.name)} and ${JSON.stringify(span.name)}`;
      throw new UnsafeEntryError(`${what}: entries ${names} overlap (a zip bomb built from shared bytes)`);
    }
  }
}
