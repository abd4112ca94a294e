/**
 * Every measurement is checked against the generated data set; a wrong result ends the run with
 * an error naming what differed. A fast benchmark of a wrong answer is worth nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import Papa from 'papaparse';
import { rawStatisticsReport } from '../lambdas/connectors/openathens/records.ts';
import type { ArchivedResult } from '../lambdas/core/archive/index.ts';
import { S3RVER_SUFFIX } from '../scripts/local/s3.ts';
import { CSV_FILE, type DataSet, type Format, type Measurement } from './common.ts';
import type { NullS3 } from './servers.ts';

export class WrongResultError extends Error {
  override readonly name = 'WrongResultError';
}

function expectEqual(what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) {
    throw new WrongResultError(`${what}: expected ${JSON.stringify(expected)}; received ${JSON.stringify(actual)}`);
  }
}

function fileOf(ds: DataSet, format: Format) {
  const file = ds.files[format];
  if (!file) throw new Error(`the data set has no ${format} file`);
  return file;
}

export function verifyRaw(m: Measurement, ds: DataSet, label: string): void {
  expectEqual(`${label}: inflated bytes`, m.bytes, ds.csv.bytes);
}

export function verifyFetch(m: Measurement, ds: DataSet, label: string): void {
  expectEqual(`${label}: extracted bytes`, m.bytes, ds.csv.bytes);
  expectEqual(`${label}: SHA-256 of the extracted CSV`, m.sha256, ds.csv.sha256);
}

interface ManifestView {
  row_count: number;
  data: { key: string; bytes: number; sha256: string };
  originals: Array<{ bytes: number; sha256: string; entries: Array<{ bytes: number; sha256: string }> }>;
}

function verifyManifest(text: string, ds: DataSet, format: Format, result: ArchivedResult, label: string): void {
  const manifest = JSON.parse(text) as ManifestView;
  expectEqual(`${label}: manifest row_count`, manifest.row_count, ds.rows);
  expectEqual(`${label}: manifest data sha256`, manifest.data.sha256, result.sha256.data);
  expectEqual(`${label}: manifest original sha256`, manifest.originals[0]?.sha256, fileOf(ds, format).sha256);
  expectEqual(`${label}: manifest extracted bytes`, manifest.originals[0]?.entries[0]?.bytes, ds.csv.bytes);
  expectEqual(`${label}: manifest extracted sha256`, manifest.originals[0]?.entries[0]?.sha256, ds.csv.sha256);
}

function verifyResult(m: Measurement, ds: DataSet, format: Format, label: string): ArchivedResult {
  const result = m.detail?.result as ArchivedResult | undefined;
  if (!result) throw new WrongResultError(`${label}: the child returned no archive result`);
  expectEqual(`${label}: rows`, m.rows, ds.rows);
  expectEqual(`${label}: extracted bytes`, m.bytes, ds.csv.bytes);
  expectEqual(`${label}: original bytes`, result.bytes.original, fileOf(ds, format).bytes);
  expectEqual(`${label}: original sha256`, result.sha256.originals[0], fileOf(ds, format).sha256);
  return result;
}

export function verifyArchiveNull(
  m: Measurement,
  ds: DataSet,
  format: Format,
  s3: NullS3,
  bucket: string,
  label: string,
) {
  const result = verifyResult(m, ds, format, label);
  const object = (key: string) => {
    const found = s3.objects.get(`${bucket}/${key}`);
    if (!found) throw new WrongResultError(`${label}: ${key} was not uploaded (null S3)`);
    return found;
  };
  expectEqual(`${label}: uploaded data bytes`, object(result.keys.data).bytes, result.bytes.data);
  expectEqual(`${label}: uploaded original bytes`, object(result.keys.originals[0]!).bytes, fileOf(ds, format).bytes);
  const manifest = object(result.keys.manifest).body;
  if (!manifest) throw new WrongResultError(`${label}: the manifest body was not kept`);
  verifyManifest(manifest.toString('utf8'), ds, format, result, label);
}

/**
 * s3rver keeps objects on disk: sizes and SHA-256 of the data object and the original, the
 * manifest, and (`deep`) every line of the data object counted and the first one compared with
 * what `toRecord` makes of the CSV's first record.
 */
export async function verifyArchiveS3rver(
  m: Measurement,
  ds: DataSet,
  format: Format,
  s3rverDir: string,
  bucket: string,
  deep: boolean,
  label: string,
): Promise<void> {
  const result = verifyResult(m, ds, format, label);
  const path = (key: string) => join(s3rverDir, bucket, `${key}${S3RVER_SUFFIX}`);
  const dataPath = path(result.keys.data);
  expectEqual(`${label}: stored data bytes`, (await stat(dataPath)).size, result.bytes.data);
  expectEqual(`${label}: stored data sha256`, await sha256File(dataPath), result.sha256.data);
  const originalPath = path(result.keys.originals[0]!);
  expectEqual(`${label}: stored original sha256`, await sha256File(originalPath), fileOf(ds, format).sha256);
  verifyManifest(await readFile(path(result.keys.manifest), 'utf8'), ds, format, result, label);
  if (deep) {
    const { lines, first } = await countGzipLines(dataPath);
    expectEqual(`${label}: lines in the data object`, lines, ds.rows);
    expectEqual(`${label}: first record`, first, await expectedFirstRecord(ds));
  }
}

export async function verifyDuckDb(m: Measurement, ds: DataSet, out: string, deep: boolean): Promise<void> {
  expectEqual('DuckDB: rows', m.rows, ds.rows);
  if (deep) expectEqual('DuckDB: lines in its output', (await countGzipLines(out)).lines, ds.rows);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function countGzipLines(path: string): Promise<{ lines: number; first: string }> {
  let lines = 0;
  let head = '';
  const counter = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (lines === 0 && head.length < 1024 * 1024) head += chunk.toString('utf8');
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      callback();
    },
  });
  await pipeline(
    createReadStream(path, { highWaterMark: 1024 * 1024 }),
    createGunzip({ chunkSize: 256 * 1024 }),
    counter,
  );
  return { lines, first: head.slice(0, head.indexOf('\n')) };
}

/** The first CSV record as the archiver should write it (parsed independently, with papaparse). */
async function expectedFirstRecord(ds: DataSet): Promise<string> {
  const fh = await open(join(ds.dir, CSV_FILE), 'r');
  try {
    const buf = Buffer.alloc(256 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const parsed = Papa.parse<Record<string, string>>(buf.subarray(0, bytesRead).toString('utf8'), {
      header: true,
      preview: 1,
    });
    const first = parsed.data[0];
    if (!first) throw new Error('could not parse the first record of the CSV');
    return JSON.stringify(rawStatisticsReport.toRecord(first));
  } finally {
    await fh.close();
  }
}
