/**
 * Extraction of one spooled source: sniff the format, then decrypt / unzip / gunzip / pass
 * through, every extracted file through an `ExtractMeter` (count, SHA-256, CRC-32, limits) into a
 * sink the caller makes. The archive step's sink parses records; the benchmark's discards bytes.
 *
 * - gzip, CSV and JSON are read while they download (the spool's reader follows the temp file).
 * - zip: when the file starts with an unencrypted deflated data entry, that entry is inflated
 *   while the zip downloads, from its local header (deflate ends itself, so no sizes are needed).
 *   Once the download is done the central directory is read and checked as for any zip, and that
 *   entry must match it exactly (offset, name, method, sizes, CRC-32) or the source fails. Every
 *   other entry is read after the download, through the central directory.
 *
 * Nothing here publishes anything: a failure after bytes went to the sink is the caller's to
 * abort (the archive step aborts its multipart upload).
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  ArchiveError,
  CompressionRatioError,
  CorruptArchiveError,
  SizeLimitError,
  UnsupportedFormatError,
  WrongPasswordError,
} from '../errors.ts';
import type { Spool } from './download.ts';
import { type InflateOptions, inflate } from './inflate.ts';
import {
  type ArchiveLimits,
  type ExtractBudget,
  type ExtractedFile,
  ExtractMeter,
  type ExtractMeterOptions,
} from './limits.ts';
import type { ManifestEntry } from './manifest.ts';
import { type FileFormat, SNIFF_BYTES, sniffFormat } from './sniff.ts';
import {
  type EntryEncryption,
  type LocalEntry,
  localHeaderBytes,
  readFirstLocalEntry,
  ZipArchive,
  type ZipEntryInfo,
} from './zip.ts';

export interface ExtractContext<S extends Writable> {
  readonly limits: ArchiveLimits;
  /** extracted bytes of the whole run */
  readonly budget: ExtractBudget;
  readonly logger: Logger;
  /**
   * where one extracted file's bytes go. A chunk is valid until the sink's write callback: a sink
   * that keeps bytes beyond it must copy them (inflated chunks are written into reused buffers).
   */
  readonly createSink: (file: { readonly what: string; readonly name: string }) => S;
  /** called once a file was read to its end and passed every check */
  readonly fileDone?: (entry: ManifestEntry, sink: S) => void;
  /** inflater settings (tests: small chunks, the fallback engine) */
  readonly inflate?: InflateOptions;
}

export interface ExtractedSource {
  readonly format: FileFormat;
  /** extracted files (none for plain CSV or JSON: the download is the file) */
  readonly entries: ManifestEntry[];
}

/** The meter's options for one file (the run supplies budget and ratio), and its manifest facts. */
interface FileOptions extends Omit<ExtractMeterOptions, 'budget' | 'maxRatio'> {
  readonly name: string;
  readonly encryption: EntryEncryption;
}

/** What an early entry's bytes run into when the zip as a whole is damaged, a bomb or too large. */
const ZIP_EXPLAINS = [CorruptArchiveError, CompressionRatioError, SizeLimitError, UnsupportedFormatError];

export async function extractSource<S extends Writable>(
  spool: Spool,
  ctx: ExtractContext<S>,
): Promise<ExtractedSource> {
  const what = spool.source.fileName;
  const format = sniffFormat(await spool.head(SNIFF_BYTES), what);
  const entries: ManifestEntry[] = [];
  if (format === 'zip') {
    entries.push(...(await extractZip(spool, ctx)));
  } else if (format === 'gzip') {
    const opened = inflate(spool.chunks(), 'gzip', ctx.inflate);
    const { file } = await extractFile(ctx, opened.chunks, {
      what: `${what} (gzip)`,
      name: what.replace(/\.(gz|gzip)$/i, '') || what,
      encryption: 'none',
      compressedBytes: opened.compressedBytes,
    });
    entries.push(file);
  } else {
    // Plain CSV or JSON: the original is the extracted file; its hash is the download's.
    const { meter } = await extractFile(ctx, spool.chunks(), { what, name: what, encryption: 'none', hash: false });
    // Nothing ends a plain file but the download: every downloaded byte must have been read.
    const { bytes } = await spool.done;
    if (meter.bytes !== bytes) {
      throw new Error(`${what}: ${meter.bytes} of its ${bytes} downloaded bytes were read; refusing a partial file`);
    }
  }
  return { format, entries };
}

async function extractZip<S extends Writable>(spool: Spool, ctx: ExtractContext<S>): Promise<ManifestEntry[]> {
  const what = spool.source.fileName;
  const local = readFirstLocalEntry(await spool.head(localHeaderBytes(await spool.head(SNIFF_BYTES))), what);
  let early: { entry: ManifestEntry; local: LocalEntry; meter: ExtractedFile; compressed: number } | undefined;
  const usedBefore = ctx.budget.used;
  if (local) {
    try {
      // deflate ends itself: the rest of the zip after the entry is not read
      const opened = inflate(spool.chunks(local.dataStart), 'deflate-raw', ctx.inflate);
      const { file, meter } = await extractFile(ctx, opened.chunks, {
        what: `entry ${JSON.stringify(local.name)} of ${what}`,
        name: local.name,
        encryption: 'none',
        compressedBytes: opened.compressedBytes,
        declaredSize: local.declared?.uncompressedSize,
        declaredCrc32: local.declared?.crc32,
        crc32: true,
      });
      early = { entry: file, local, meter, compressed: opened.compressedBytes() };
    } catch (error) {
      // A zip that fails the central directory's checks (damaged, a declared bomb, over the
      // extraction limit) says so better than what its first entry's bytes ran into. Other
      // errors (a malformed row, a failed upload) are not worth waiting for the download.
      if (!ZIP_EXPLAINS.some((kind) => error instanceof kind)) throw error;
      await spool.done;
      const zip = await ZipArchive.open(spool.path, what, ctx.limits, ctx.budget.max - usedBefore);
      await zip.close();
      throw error;
    }
  }
  await spool.done;
  // The declared total includes the early entry, whose bytes are in the budget already.
  const zip = await ZipArchive.open(spool.path, what, ctx.limits, ctx.budget.max - usedBefore);
  try {
    const dataEntries = zip.dataEntries;
    const skipped = zip.entries.filter((entry) => entry.junk && !entry.directory).map((entry) => entry.name);
    if (skipped.length > 0) ctx.logger.info('skipped os junk entries', { fileName: what, entries: skipped });
    if (dataEntries.length === 0) {
      throw new UnsupportedFormatError(`${what} holds no data entries (${zip.entries.length} entries in all)`);
    }
    const extracted: ManifestEntry[] = [];
    let earlyEntry: ZipEntryInfo | undefined;
    if (early) {
      earlyEntry = matchCentral(zip, early.local, early.meter, early.compressed);
      extracted.push(early.entry);
    }
    for (const entry of dataEntries) {
      if (entry !== earlyEntry) extracted.push(await extractZipEntry(ctx, zip, entry, spool.source.password));
    }
    return extracted;
  } finally {
    await zip.close();
  }
}

/** The entry read from its local header must be the central directory's entry at offset 0, exactly. */
function matchCentral(zip: ZipArchive, local: LocalEntry, file: ExtractedFile, compressed: number): ZipEntryInfo {
  const central = zip.entries.find((entry) => entry.localHeaderOffset === local.offset);
  const what = `entry ${JSON.stringify(local.name)} of ${zip.what}`;
  const differences: string[] = [];
  if (!central) {
    differences.push(`no central directory entry starts at offset ${local.offset}`);
  } else {
    if (!central.entry.fileNameRaw.equals(local.nameRaw)) differences.push(`name ${JSON.stringify(central.name)}`);
    if (central.directory || central.junk) differences.push('a directory or OS junk');
    if (central.encryption !== 'none') differences.push(`encrypted (${central.encryption})`);
    if (central.method !== local.method) differences.push(`compression method ${central.method}`);
    if (central.compressedSize !== compressed) {
      differences.push(`${central.compressedSize} compressed bytes where the deflate stream took ${compressed}`);
    }
    if (central.uncompressedSize !== file.bytes) {
      differences.push(`${central.uncompressedSize} bytes where ${file.bytes} were extracted`);
    }
    if (central.crc32 !== file.crc32) differences.push('a different CRC-32');
  }
  if (!central || differences.length > 0) {
    throw new CorruptArchiveError(
      `${what} does not match the zip's central directory (${differences.join('; ')}): the zip is damaged or inconsistent`,
    );
  }
  return central;
}

async function extractZipEntry<S extends Writable>(
  ctx: ExtractContext<S>,
  zip: ZipArchive,
  entry: ZipEntryInfo,
  password: string | undefined,
): Promise<ManifestEntry> {
  const what = zip.entryWhat(entry);
  const zipCrypto = entry.encryption === 'zipcrypto';
  // ZipCrypto checks a password against one byte only: a wrong one usually shows as bad data.
  const mismatchError = zipCrypto
    ? (message: string) => new WrongPasswordError(`${message}: the password is wrong or the entry is corrupt`)
    : undefined;
  try {
    const opened = await zip.openEntry(entry, password, ctx.inflate);
    const { file } = await extractFile(ctx, opened.chunks, {
      what,
      name: entry.name,
      encryption: entry.encryption,
      compressedBytes: entry.method === 8 ? opened.compressedBytes : undefined,
      declaredSize: entry.uncompressedSize,
      declaredCrc32: entry.crc32,
      mismatchError,
    });
    return file;
  } catch (error) {
    if (zipCrypto && error instanceof CorruptArchiveError) {
      throw new WrongPasswordError(`${what} did not decrypt: the password is wrong or the entry is corrupt`);
    }
    throw error;
  }
}

async function extractFile<S extends Writable>(
  ctx: ExtractContext<S>,
  chunks: AsyncIterable<Buffer>,
  options: FileOptions,
): Promise<{ file: ManifestEntry; meter: ExtractedFile }> {
  const { name, encryption, ...meterOptions } = options;
  const meter = new ExtractMeter({ ...meterOptions, budget: ctx.budget, maxRatio: ctx.limits.maxCompressionRatio });
  const sink = ctx.createSink({ what: options.what, name });
  const sinkFinished = finished(sink);
  sinkFinished.catch(() => {}); // awaited below, or the sink is destroyed with the error
  try {
    for await (const chunk of chunks) {
      meter.take(chunk);
      // The next chunk is asked for only once the sink is done with this one (see createSink).
      await Promise.race([written(sink, chunk), sinkFinished]);
    }
    meter.finish();
    sink.end();
    await sinkFinished;
  } catch (error) {
    const mapped = streamError(error, options.what);
    sink.destroy(mapped as Error);
    throw mapped;
  }
  const file: ManifestEntry = { name, bytes: meter.file.bytes, sha256: meter.file.sha256, encryption };
  ctx.fileDone?.(file, sink);
  return { file, meter: meter.file };
}

function written(sink: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/** zlib reports damaged or truncated data with Z_* codes. */
function streamError(error: unknown, what: string): unknown {
  const code = (error as { code?: unknown })?.code;
  if (!(error instanceof ArchiveError) && typeof code === 'string' && code.startsWith('Z_')) {
    const reason = code === 'Z_BUF_ERROR' ? 'ends early (truncated)' : `is corrupt (${(error as Error).message})`;
    return new CorruptArchiveError(`${what} ${reason}`);
  }
  return error;
}
