/**
 * Size and ratio limits, and the meter every extracted byte passes through (count, SHA-256,
 * CRC-32, limits). One meter per extracted file; one budget per archive run.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CompressionRatioError, CorruptArchiveError, SizeLimitError } from '../errors.ts';

export interface ArchiveLimits {
  /** per downloaded file */
  readonly maxDownloadBytes: number;
  /** all extracted (decompressed) bytes of one run together */
  readonly maxExtractedBytes: number;
  /** extracted bytes per compressed byte, per zip entry or gzip file */
  readonly maxCompressionRatio: number;
  /** entries in one zip, directories and OS junk included */
  readonly maxEntries: number;
  /**
   * seconds one download may take in all, however steadily bytes arrive (the idle timer only
   * catches a silent vendor, not one trickling a byte a second); absent: no overall deadline
   */
  readonly maxDownloadSeconds?: number;
  /**
   * the largest file, by its declared size (Content-Length), the archive function can parse
   * within its timeout (`reportBytesWithin`); a larger one is refused before it downloads.
   * Absent: not checked
   */
  readonly maxReportBytes?: number;
}

/**
 * CPU seconds the archive step spends per GB (10^9 bytes) of CSV at one vCPU, for planning. The
 * reference runs of bench/RESULTS.md measured stage (b) at 23-26 s (2026-11-22, AES the slowest);
 * the same code measured 48-51 s on a slow day of that machine (2026-12-07). Lambda's arm64 vCPU
 * is neither, so the slow day, rounded up, is the figure: about twice the usual cost.
 */
export const PLANNED_CPU_SECONDS_PER_GB = 52;
/** Lambda gives one full vCPU at 1,769 MB and a share of one below; the parse is one thread, so more adds little. */
const ONE_VCPU_MB = 1769;
/** The share of the timeout the parse may use: the originals' uploads and the manifest come after it. */
const PARSE_SHARE = 0.9;

/**
 * Bytes of CSV the archive function parses within its timeout at the planned throughput:
 * 15.5 GB at one vCPU and 15 minutes. A download is at least as many bytes of text as it declares
 * (compression only adds), so a declared size above this cannot finish, and fails at once instead
 * of timing out every day until the vendor stops serving the date.
 */
export function reportBytesWithin(archiveFunction: {
  readonly memoryMb: number;
  readonly timeoutMinutes: number;
}): number {
  const vcpu = Math.min(1, archiveFunction.memoryMb / ONE_VCPU_MB);
  const seconds = archiveFunction.timeoutMinutes * 60 * PARSE_SHARE;
  return Math.floor(((seconds * vcpu) / PLANNED_CPU_SECONDS_PER_GB) * 1e9);
}

/**
 * Below this many extracted bytes the ratio is not checked: a 2 KiB file that inflates to 1 MiB is
 * harmless, and small files have noisy ratios. The extracted-bytes budget still applies.
 */
export const RATIO_GRACE_BYTES = 1024 * 1024;

export function checkRatio(compressedBytes: number, extractedBytes: number, maxRatio: number, what: string): void {
  if (extractedBytes <= RATIO_GRACE_BYTES) return;
  const ratio = extractedBytes / Math.max(compressedBytes, 1);
  if (ratio > maxRatio) {
    throw new CompressionRatioError(
      `${what} expands ${compressedBytes} compressed bytes to ${extractedBytes} bytes (ratio ${ratio.toFixed(0)}); the limit is ${maxRatio}`,
    );
  }
}

/** Extracted bytes of one run, shared by every entry and file. */
export class ExtractBudget {
  used = 0;
  constructor(readonly max: number) {}

  take(bytes: number, what: string): void {
    this.used += bytes;
    if (this.used > this.max) {
      throw new SizeLimitError(`${what}: extracted data exceeds the limit of ${this.max} bytes`);
    }
  }
}

export interface ExtractMeterOptions {
  /** name in error messages, e.g. `entry "users.csv" of export.zip` */
  readonly what: string;
  readonly budget: ExtractBudget;
  readonly maxRatio: number;
  /** compressed bytes consumed so far; omit for uncompressed data */
  readonly compressedBytes?: () => number;
  /** size declared by the container (zip central directory); more or fewer bytes is corruption */
  readonly declaredSize?: number;
  /** CRC-32 declared by the container; checked at the end */
  readonly declaredCrc32?: number;
  /** compute the CRC-32 even when nothing declares it (the caller compares it afterwards) */
  readonly crc32?: boolean;
  /** error to raise when the CRC or declared size does not match (wrong ZipCrypto password) */
  readonly mismatchError?: (message: string) => Error;
  /** false: skip SHA-256 (the file is the download, already hashed) */
  readonly hash?: boolean;
}

export interface ExtractedFile {
  readonly bytes: number;
  readonly sha256: string;
  readonly crc32: number;
}

/**
 * Counts, hashes (SHA-256, CRC-32) and enforces every limit on one file's extracted bytes, a
 * chunk at a time, before the chunk goes on. Hashing here runs while the inflater (`inflate.ts`)
 * fills its other buffer on the thread pool.
 */
export class ExtractMeter {
  private readonly hash?: Hash;
  private readonly crcWanted: boolean;
  private crc = 0;
  private count = 0;
  private result?: ExtractedFile;

  constructor(private readonly options: ExtractMeterOptions) {
    if (options.hash !== false) this.hash = createHash('sha256');
    this.crcWanted = options.crc32 === true || options.declaredCrc32 !== undefined;
  }

  get file(): ExtractedFile {
    if (!this.result) throw new Error(`${this.options.what} was not read to the end`);
    return this.result;
  }

  /** Takes the next chunk; throws, before it is passed on, when it breaks a limit. */
  take(chunk: Buffer): void {
    const { what, declaredSize } = this.options;
    this.count += chunk.length;
    // Ratio first: a bomb with lying headers is reported as what it is.
    if (this.options.compressedBytes) {
      checkRatio(this.options.compressedBytes(), this.count, this.options.maxRatio, what);
    }
    if (declaredSize !== undefined && this.count > declaredSize) {
      // A header that under-declares a highly compressed entry is a bomb, whatever the grace size.
      const compressed = this.options.compressedBytes?.();
      if (compressed !== undefined && this.count / Math.max(compressed, 1) > this.options.maxRatio) {
        throw new CompressionRatioError(
          `${what} expands ${compressed} compressed bytes to more than ${this.count} bytes, past its declared ${declaredSize}; the ratio limit is ${this.options.maxRatio}`,
        );
      }
      throw this.mismatch(`${what} holds more than its declared ${declaredSize} bytes`);
    }
    this.options.budget.take(chunk.length, what);
    this.hash?.update(chunk);
    if (this.crcWanted) this.crc = crc32(chunk, this.crc);
  }

  /** Checks the declared size and CRC-32 once the file ended. */
  finish(): ExtractedFile {
    const { what, declaredSize, declaredCrc32 } = this.options;
    if (declaredSize !== undefined && this.count !== declaredSize) {
      throw this.mismatch(`${what} holds ${this.count} bytes; its header declares ${declaredSize}`);
    }
    if (declaredCrc32 !== undefined && this.crc !== declaredCrc32) {
      throw this.mismatch(`${what} fails its CRC-32 check (${hex(this.crc)}; expected ${hex(declaredCrc32)})`);
    }
    this.result = { bytes: this.count, sha256: this.hash?.digest('hex') ?? '', crc32: this.crc };
    return this.result;
  }

  private mismatch(message: string): Error {
    return this.options.mismatchError?.(message) ?? new CorruptArchiveError(message);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
