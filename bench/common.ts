/**
 * What the benchmark's parent process and its measurement children share: formats, paths, the
 * task and result messages, and unit helpers.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO_DIR = join(BENCH_DIR, '..');
/** git-ignored: generated reports, temp files, the local S3, profiles, the bundled worker */
export const DATA_DIR = join(BENCH_DIR, '.data');

export const FORMATS = ['deflate', 'gzip', 'aes'] as const;
export type Format = (typeof FORMATS)[number];

/** The file each format is served as, inside a generated data set's folder. */
export const FORMAT_FILES: Readonly<Record<Format, string>> = {
  deflate: 'report-deflate.zip',
  gzip: 'report.csv.gz',
  aes: 'report-aes.zip',
};
export const CSV_FILE = 'report.csv';
/** Name of the CSV inside both zips. */
export const ZIP_ENTRY_NAME = 'report.csv';
/** Not a secret: the password of a generated benchmark file. */
export const AES_PASSWORD = 'bench-aes-256-password';

export const MB = 1e6;
export const MIB = 1024 * 1024;

/** `1g`, `512m`, `4g`, `2.5g`, or a byte count; binary units (1g = 1 GiB). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)i?b?$/i.exec(text.trim());
  if (!match) throw new Error(`--size: expected e.g. 1g, 512m or a byte count; received ${JSON.stringify(text)}`);
  const unit = { '': 1, k: 1024, m: MIB, g: 1024 * MIB }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(match[1]) * unit);
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * MIB && bytes % (1024 * MIB) === 0) return `${bytes / (1024 * MIB)}g`;
  if (bytes % MIB === 0) return `${bytes / MIB}m`;
  return String(bytes);
}

/** What `generate.ts` records about a data set (written last: its presence marks the set complete). */
export interface DataSet {
  readonly dir: string;
  readonly seed: number;
  readonly targetBytes: number;
  readonly rows: number;
  readonly csv: FileInfo;
  readonly files: Readonly<Partial<Record<Format, FileInfo>>>;
}

export interface FileInfo {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export type Stage = 'raw' | 'fetch' | 'archive' | 'duckdb';
export type Sink = 'null' | 's3rver';

/** One measurement, run in its own child process. */
export type Task =
  | { readonly kind: 'raw'; readonly format: Format; readonly file: string; readonly password?: string }
  | {
      readonly kind: 'fetch';
      readonly format: Format;
      readonly url: string;
      readonly fileName: string;
      readonly password?: string;
      readonly tmpDir: string;
    }
  | {
      readonly kind: 'archive';
      readonly format: Format;
      readonly url: string;
      readonly fileName: string;
      readonly password?: string;
      readonly tmpDir: string;
      readonly sink: Sink;
      readonly endpoint: string;
      readonly bucket: string;
      /** multipart part size; the core's default when absent */
      readonly partSizeBytes?: number;
    }
  | { readonly kind: 'duckdb'; readonly csv: string; readonly out: string; readonly threads: number };

/** What a child reports back. */
export interface Measurement {
  /** wall time of the measured work only (imports and setup excluded) */
  readonly seconds: number;
  /** extracted CSV bytes (the throughput numerator) */
  readonly bytes: number;
  /** process peak resident set size over the child's whole life */
  readonly maxRssMb: number;
  /** RSS after imports and setup, right before the measured work */
  readonly rssBeforeMb: number;
  /** highest sampled V8 heap and off-heap (Buffers) use, every 100 ms */
  readonly peakHeapMb: number;
  readonly peakExternalMb: number;
  readonly cpuUserSeconds: number;
  readonly cpuSystemSeconds: number;
  /** SHA-256 of the extracted CSV, where the stage computes it */
  readonly sha256?: string;
  readonly rows?: number;
  /** bytes of the converted output (gzip JSON Lines) */
  readonly outputBytes?: number;
  /** stage-specific facts for verification */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export function mbPerSecond(m: Pick<Measurement, 'bytes' | 'seconds'>): number {
  return m.bytes / MB / m.seconds;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
