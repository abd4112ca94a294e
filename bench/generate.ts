/**
 * Deterministic benchmark reports, cached in `bench/.data/<size>-seed<seed>/`.
 *
 * 1. The CSV is OpenAthens raw statistics (`rows.ts`), written until the target size is reached
 *    (the last batch goes a little past it).
 * 2. From it: a deflate zip and a WinZip AES-256 zip (zip.js, level 6, ZIP64 when needed) and a
 *    gzip file (node:zlib, level 6), compressed concurrently.
 * 3. `dataset.json` is written last and records sizes, SHA-256s and the row count; a folder
 *    without it is regenerated.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ZipWriter } from '@zip.js/zip.js';
import {
  AES_PASSWORD,
  CSV_FILE,
  DATA_DIR,
  type DataSet,
  type FileInfo,
  FORMAT_FILES,
  type Format,
  formatSize,
  MIB,
  ZIP_ENTRY_NAME,
} from './common.ts';
import { csvField, HEADER, rowGenerator } from './rows.ts';

const BATCH_CHARS = 4 * MIB;
/** zip.js stores `ZipWriter.add`'s default "now" otherwise: fixed for byte-identical reruns */
const ZIP_DATE = new Date(Date.UTC(2026, 10, 22, 1, 30, 0));
const ZIP64_THRESHOLD = 0xffff_ffff - 64 * MIB;
const IO_CHUNK = MIB;

export interface GenerateOptions {
  readonly targetBytes: number;
  readonly seed: number;
  readonly formats: readonly Format[];
  readonly log: (line: string) => void;
}

export function dataSetDir(targetBytes: number, seed: number): string {
  return join(DATA_DIR, `${formatSize(targetBytes)}-seed${seed}`);
}

/** The cached data set, generating what is missing. */
export async function ensureDataSet(options: GenerateOptions): Promise<DataSet> {
  const dir = dataSetDir(options.targetBytes, options.seed);
  const metaPath = join(dir, 'dataset.json');
  let meta = await readMeta(metaPath);
  if (!meta || !(await fileMatches(dir, meta.csv))) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const started = Date.now();
    options.log(`generating ${formatSize(options.targetBytes)} CSV (seed ${options.seed}) in ${dir}`);
    const { csv, rows } = await writeCsv(join(dir, CSV_FILE), options.targetBytes, options.seed);
    options.log(`  ${CSV_FILE}: ${rows} rows, ${csv.bytes} bytes in ${seconds(started)} s`);
    meta = { dir, seed: options.seed, targetBytes: options.targetBytes, rows, csv, files: {} };
    await writeFile(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  }
  const missing: Format[] = [];
  for (const format of options.formats) {
    const info = meta.files[format];
    if (!info || !(await fileMatches(dir, info))) missing.push(format);
  }
  if (missing.length > 0) {
    const started = Date.now();
    const csvBytes = meta.csv.bytes;
    options.log(`compressing ${missing.join(', ')} (concurrently)`);
    const made = await Promise.all(
      missing.map(async (format) => [format, await compress(format, dir, csvBytes)] as const),
    );
    meta = { ...meta, files: { ...meta.files, ...Object.fromEntries(made) } };
    for (const [format, info] of made) options.log(`  ${info.name}: ${info.bytes} bytes (${format})`);
    options.log(`  compressed in ${seconds(started)} s`);
    await writeFile(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  }
  return { ...meta, dir };
}

async function readMeta(path: string): Promise<DataSet | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DataSet;
  } catch {
    return undefined;
  }
}

/** Size check only (hashing gigabytes on every run would cost more than the check is worth). */
async function fileMatches(dir: string, info: FileInfo): Promise<boolean> {
  try {
    return (await stat(join(dir, info.name))).size === info.bytes;
  } catch {
    return false;
  }
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

async function writeCsv(path: string, targetBytes: number, seed: number): Promise<{ csv: FileInfo; rows: number }> {
  const hash = createHash('sha256');
  const generator = rowGenerator(seed);
  let bytes = 0;
  let rows = 0;
  const batches = function* () {
    let text = `${HEADER.map(csvField).join(',')}\n`;
    while (bytes < targetBytes) {
      // event times rise through the day as the file grows
      text += generator.next(Math.min(86_399, Math.floor((bytes / targetBytes) * 86_400)));
      rows++;
      if (text.length >= BATCH_CHARS) {
        const chunk = Buffer.from(text, 'utf8');
        text = '';
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    }
    if (text.length > 0) {
      const chunk = Buffer.from(text, 'utf8');
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  };
  await pipeline(Readable.from(batches()), createWriteStream(path, { highWaterMark: 4 * MIB }));
  return { csv: { name: CSV_FILE, bytes, sha256: hash.digest('hex') }, rows };
}

async function compress(format: Format, dir: string, csvBytes: number): Promise<FileInfo> {
  const source = join(dir, CSV_FILE);
  const target = join(dir, FORMAT_FILES[format]);
  const hash = createHash('sha256');
  let bytes = 0;
  const file = createWriteStream(target, { highWaterMark: 4 * MIB });
  const hashing = new Writable({
    highWaterMark: 4 * MIB,
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (file.write(chunk)) callback();
      else file.once('drain', () => callback());
    },
    final(callback) {
      file.end(callback);
    },
  });
  if (format === 'gzip') {
    await pipeline(
      createReadStream(source, { highWaterMark: IO_CHUNK }),
      createGzip({ level: 6, chunkSize: 256 * 1024 }),
      hashing,
    );
  } else {
    const writer = new ZipWriter(Writable.toWeb(hashing), {
      level: 6,
      useWebWorkers: false,
      zip64: csvBytes > ZIP64_THRESHOLD,
      ...(format === 'aes' ? { password: AES_PASSWORD, encryptionStrength: 3 as const } : {}),
    });
    await writer.add(ZIP_ENTRY_NAME, Readable.toWeb(createReadStream(source, { highWaterMark: IO_CHUNK })) as never, {
      lastModDate: ZIP_DATE,
    });
    await writer.close();
  }
  return { name: FORMAT_FILES[format], bytes, sha256: hash.digest('hex') };
}
