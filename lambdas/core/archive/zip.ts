/**
 * Zip reading from a spooled temp file.
 *
 * 1. yauzl reads the central directory (ZIP64 included); every entry name, the entry count, the
 *    declared sizes and ratios (per entry and for the archive as a whole) are checked before a
 *    byte is inflated, and so is the layout (`layout.ts`): every local header names its entry,
 *    no two entries share or overlap bytes, no name repeats, no entry is a symbolic link.
 * 2. Unencrypted entries: the raw entry bytes are read straight from the file and inflated by
 *    `inflate.ts` (zlib, 1 MiB chunks: more than twice as fast as yauzl's own inflate).
 * 3. Encrypted entries (ZipCrypto, WinZip AES): zip.js decrypts only (`passThrough: 'compressed'`,
 *    AES HMAC checked by zip.js), then the same inflate. CRC-32 is checked by the caller's
 *    meter for every entry (yauzl does not check it).
 * 4. `readFirstLocalEntry` lets the caller inflate an unencrypted first
 *    entry from its local header while the zip still downloads (see `extract.ts`).
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import {
  ERR_INVALID_AUTHENTICATION_CODE,
  ERR_INVALID_PASSWORD,
  type FileEntry,
  Reader,
  ZipReader,
} from '@zip.js/zip.js';
import yauzl from 'yauzl';
import {
  ArchiveError,
  CorruptArchiveError,
  SizeLimitError,
  UnsafeEntryError,
  UnsafeEntryNameError,
  UnsupportedFormatError,
  WrongPasswordError,
} from '../errors.ts';
import { type Inflated, type InflateOptions, inflate } from './inflate.ts';
import { type ArchiveLimits, checkRatio } from './limits.ts';
import { checkEntryLayout } from './zip-layout.ts';

export type EntryEncryption = 'none' | 'zipcrypto' | 'aes';

export interface ZipEntryInfo {
  readonly name: string;
  readonly directory: boolean;
  /** OS junk such as `__MACOSX/` and `.DS_Store`: skipped */
  readonly junk: boolean;
  readonly encryption: EntryEncryption;
  /** the real compression method (for AES, the one in its extra field) */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** undefined for WinZip AE-2, which stores no CRC */
  readonly crc32?: number;
  readonly localHeaderOffset: number;
  readonly entry: yauzl.Entry;
}

const CHUNK = 1024 * 1024;
const JUNK_NAMES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);
const AES_EXTRA_FIELD = 0x9901;

export class ZipArchive {
  private zipJs?: Promise<Map<number, FileEntry>>;
  private zipJsHandle?: FileHandle;

  private constructor(
    private readonly path: string,
    readonly what: string,
    private readonly zipfile: yauzl.ZipFile,
    readonly entries: readonly ZipEntryInfo[],
  ) {}

  /** Reads and checks the central directory. */
  static async open(path: string, what: string, limits: ArchiveLimits, extractedBudget: number): Promise<ZipArchive> {
    let zipfile: yauzl.ZipFile;
    try {
      zipfile = await yauzl.openPromise(path, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false,
        validateEntrySizes: true,
      });
    } catch (error) {
      throw zipError(error, what);
    }
    try {
      if (zipfile.entryCount > limits.maxEntries) {
        throw new SizeLimitError(`${what} holds ${zipfile.entryCount} entries; the limit is ${limits.maxEntries}`);
      }
      const entries: ZipEntryInfo[] = [];
      try {
        for await (const entry of zipfile.eachEntry()) entries.push(describe(entry, what));
      } catch (error) {
        throw zipError(error, what);
      }
      const archive = new ZipArchive(path, what, zipfile, entries);
      archive.checkDeclaredSizes(limits, extractedBudget, zipfile.fileSize);
      await checkEntryLayout(path, entries, zipfile.fileSize, what);
      return archive;
    } catch (error) {
      zipfile.close();
      throw error;
    }
  }

  get dataEntries(): ZipEntryInfo[] {
    return this.entries.filter((entry) => !entry.directory && !entry.junk);
  }

  private checkDeclaredSizes(limits: ArchiveLimits, extractedBudget: number, zipBytes: number): void {
    let total = 0;
    for (const entry of this.dataEntries) {
      total += entry.uncompressedSize;
      checkRatio(entry.compressedSize, entry.uncompressedSize, limits.maxCompressionRatio, this.entryWhat(entry));
      if (entry.method !== 0 && entry.method !== 8) {
        throw new UnsupportedFormatError(
          `${this.entryWhat(entry)} uses compression method ${entry.method}; expected stored (0) or deflate (8)`,
        );
      }
    }
    if (total > extractedBudget) {
      throw new SizeLimitError(
        `${this.what} declares ${total} bytes of data entries; ${extractedBudget} bytes of the extraction limit remain`,
      );
    }
    // Many entries just under the per-entry grace size add up: the archive as a whole is a bomb too.
    checkRatio(zipBytes, total, limits.maxCompressionRatio, `${this.what} as a whole`);
  }

  entryWhat(entry: ZipEntryInfo): string {
    return `entry ${JSON.stringify(entry.name)} of ${this.what}`;
  }

  /** Opens one entry's decompressed bytes. */
  async openEntry(entry: ZipEntryInfo, password: string | undefined, options?: InflateOptions): Promise<Inflated> {
    const raw = entry.encryption === 'none' ? await this.openPlain(entry) : await this.openEncrypted(entry, password);
    if (entry.method !== 8) return { chunks: raw, compressedBytes: () => entry.compressedSize };
    return inflate(raw, 'deflate-raw', options);
  }

  private async openPlain(entry: ZipEntryInfo): Promise<Readable> {
    let fileDataStart: number;
    try {
      ({ fileDataStart } = await this.zipfile.readLocalFileHeaderPromise(entry.entry, { minimal: true }));
    } catch (error) {
      throw zipError(error, this.entryWhat(entry));
    }
    if (entry.compressedSize === 0) return Readable.from([]);
    return createReadStream(this.path, {
      start: fileDataStart,
      end: fileDataStart + entry.compressedSize - 1,
      highWaterMark: CHUNK,
    });
  }

  private async openEncrypted(entry: ZipEntryInfo, password: string | undefined): Promise<Readable> {
    const what = this.entryWhat(entry);
    if (!password) {
      throw new WrongPasswordError(`${what} is encrypted (${entry.encryption}) and no password was given`);
    }
    this.zipJs ??= this.readZipJsEntries();
    const zipJsEntry = (await this.zipJs).get(entry.localHeaderOffset);
    if (!zipJsEntry) throw new CorruptArchiveError(`${what} is not where the central directory says`);
    const out = new PassThrough({ highWaterMark: CHUNK });
    const controller = new AbortController();
    out.on('close', () => controller.abort());
    // Not Writable.toWeb: its abort would destroy `out` with zip.js's raw error before it is mapped.
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => (out.write(chunk) ? undefined : drained(out)),
      close: () => {
        out.end();
      },
    });
    zipJsEntry
      .getData(writable, {
        password,
        passThrough: 'compressed',
        checkAuthenticationCode: true,
        useWebWorkers: false,
        useCompressionStream: false,
        signal: controller.signal,
      })
      .then(
        () => undefined,
        (error: unknown) => out.destroy(zipJsError(error, what)),
      );
    return out;
  }

  private async readZipJsEntries(): Promise<Map<number, FileEntry>> {
    this.zipJsHandle = await open(this.path, 'r');
    const { size } = await this.zipJsHandle.stat();
    const reader = new ZipReader(new FileHandleReader(this.zipJsHandle, size), {
      useWebWorkers: false,
      useCompressionStream: false,
    });
    try {
      const entries = await reader.getEntries();
      const byOffset = new Map<number, FileEntry>();
      for (const entry of entries) if (!entry.directory) byOffset.set(entry.offset, entry);
      return byOffset;
    } catch (error) {
      throw zipJsError(error, this.what);
    }
  }

  async close(): Promise<void> {
    this.zipfile.close();
    await this.zipJs?.catch(() => undefined);
    await this.zipJsHandle?.close().catch(() => undefined);
  }
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
/** The length of the local header that `head` starts with (its fixed part when `head` is shorter). */
export function localHeaderBytes(head: Buffer): number {
  if (head.length < LOCAL_HEADER_BYTES) return LOCAL_HEADER_BYTES;
  return LOCAL_HEADER_BYTES + head.readUInt16LE(26) + head.readUInt16LE(28);
}

/** The first entry of a zip, read from its local header. */
export interface LocalEntry {
  readonly name: string;
  readonly nameRaw: Buffer;
  /** where its local header starts */
  readonly offset: number;
  /** where its data starts */
  readonly dataStart: number;
  readonly method: number;
  /** sizes and CRC-32 from the local header, unless it defers them to a data descriptor or ZIP64 */
  readonly declared?: { readonly compressedSize: number; readonly uncompressedSize: number; readonly crc32: number };
}

/**
 * The zip's first entry when it can be inflated before the central directory is read: an
 * unencrypted, deflated data entry (not a directory or OS junk) at offset 0. Anything else
 * (another method, encryption, a preamble, a damaged header) is left to the central directory.
 * A name that climbs out of the archive is an error at once.
 */
export function readFirstLocalEntry(head: Buffer, what: string): LocalEntry | undefined {
  if (head.length < LOCAL_HEADER_BYTES || head.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) return undefined;
  const flags = head.readUInt16LE(6);
  const method = head.readUInt16LE(8);
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  const dataStart = LOCAL_HEADER_BYTES + nameLength + extraLength;
  // bit 0: encrypted; bit 6: strong encryption
  if ((flags & 0x41) !== 0 || method !== 8 || nameLength === 0 || head.length < dataStart) return undefined;
  const nameRaw = Buffer.from(head.subarray(LOCAL_HEADER_BYTES, LOCAL_HEADER_BYTES + nameLength));
  let name: string;
  try {
    const extraFields = yauzl.parseExtraFields(head.subarray(LOCAL_HEADER_BYTES + nameLength, dataStart));
    name = yauzl.getFileNameLowLevel(flags, nameRaw, extraFields, false);
  } catch {
    return undefined;
  }
  checkEntryName(name, what);
  if (name.endsWith('/') || isJunk(name)) return undefined;
  const compressedSize = head.readUInt32LE(18);
  const uncompressedSize = head.readUInt32LE(22);
  // bit 3: sizes and CRC follow the data; 0xffffffff: they are in the ZIP64 extra field
  const deferred = (flags & 0x08) !== 0 || compressedSize === 0xffffffff || uncompressedSize === 0xffffffff;
  const declared = deferred ? undefined : { compressedSize, uncompressedSize, crc32: head.readUInt32LE(14) };
  return { name, nameRaw, offset: 0, dataStart, method, ...(declared ? { declared } : {}) };
}

function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('entry stream closed'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}

/** zip.js reads byte ranges through this; it never holds more than one chunk. */
class FileHandleReader extends Reader<FileHandle> {
  constructor(
    private readonly fh: FileHandle,
    size: number,
  ) {
    super(fh);
    this.size = size;
  }

  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(Math.max(0, Math.min(length, this.size - index)));
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await this.fh.read(buf, filled, buf.length - filled, index + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === buf.length ? buf : buf.subarray(0, filled);
  }
}

const UNIX_HOST = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function describe(entry: yauzl.Entry, what: string): ZipEntryInfo {
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
  checkEntryName(name, what);
  // Unix hosts keep the file mode in the high 16 bits of the external attributes.
  if (entry.versionMadeBy >> 8 === UNIX_HOST && ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    throw new UnsafeEntryError(`entry ${JSON.stringify(name)} of ${what} is a symbolic link; expected a file`);
  }
  const directory = name.endsWith('/');
  const junk = isJunk(name);
  let encryption: EntryEncryption = 'none';
  let method = entry.compressionMethod;
  let crc32: number | undefined = entry.crc32;
  if (entry.isEncrypted()) {
    const aes = entry.extraFields.find((field) => field.id === AES_EXTRA_FIELD);
    if (entry.compressionMethod === 99 && aes && aes.data.length >= 7) {
      encryption = 'aes';
      method = aes.data.readUInt16LE(5);
      if (aes.data.readUInt16LE(0) === 2) crc32 = undefined; // AE-2 stores no CRC
    } else if (entry.compressionMethod === 99) {
      throw new CorruptArchiveError(`entry ${JSON.stringify(name)} of ${what} is AES-encrypted without its AES field`);
    } else {
      encryption = 'zipcrypto';
    }
  }
  return {
    name,
    directory,
    junk,
    encryption,
    method,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    crc32,
    localHeaderOffset: entry.relativeOffsetOfLocalHeader,
    entry,
  };
}

/** OS junk such as `__MACOSX/`, `.DS_Store` and AppleDouble `._` files. */
function isJunk(name: string): boolean {
  const segments = name.split('/');
  const base = segments[segments.length - (name.endsWith('/') ? 2 : 1)] ?? '';
  return segments[0] === '__MACOSX' || JUNK_NAMES.has(base) || base.startsWith('._');
}

/** Names are never used as paths here, but a name that climbs out of the archive marks a hostile file. */
export function checkEntryName(name: string, what: string): void {
  const quoted = JSON.stringify(name);
  if (name.length === 0 || name.includes('\0')) {
    throw new UnsafeEntryNameError(`${what} has an entry with an empty or NUL-containing name: ${quoted}`);
  }
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) {
    throw new UnsafeEntryNameError(`${what} has an entry with an absolute path: ${quoted}; expected a relative name`);
  }
  if (name.split('/').includes('..')) {
    throw new UnsafeEntryNameError(`${what} has an entry that climbs out of the archive with "..": ${quoted}`);
  }
}

function zipError(error: unknown, what: string): Error {
  if (error instanceof ArchiveError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/strong encryption|multi-disk/i.test(message)) {
    return new UnsupportedFormatError(`${what} uses an unsupported zip feature: ${message}`);
  }
  return new CorruptArchiveError(`${what} is not a readable zip (truncated or damaged): ${message}`);
}

function zipJsError(error: unknown, what: string): Error {
  if (error instanceof ArchiveError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === ERR_INVALID_PASSWORD) return new WrongPasswordError(`${what}: the password is wrong`);
  if (message === ERR_INVALID_AUTHENTICATION_CODE) {
    return new CorruptArchiveError(`${what} fails its AES authentication code check (corrupt or tampered)`);
  }
  return new CorruptArchiveError(`${what} cannot be decrypted: ${message}`);
}
