/**
 * Fixtures for the archiver tests: a local S3 (s3rver on loopback), a loopback "vendor" serving
 * files over real HTTP, zip builders (zip.js for real archives, a hand-rolled writer for hostile
 * ones), a captured Powertools logger and a small report definition.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import S3rver from 's3rver';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { Spool } from '../../lambdas/core/archive/download.ts';
import type {
  ArchiveDeps,
  ArchivedResult,
  ArchiveInput,
  ArchiveLimits,
  ArchiveResult,
} from '../../lambdas/core/archive/index.ts';
import type {
  DownloadedBody,
  JsonObject,
  ReportDefinition,
  ReportRequest,
  ReportSource,
} from '../../lambdas/core/types.ts';
import { generateReport, toCsv } from '../../simulators/openathens/data.ts';
import { type Loopback, startLoopback } from './loopback.ts';

export const BUCKET = 'archive';

export interface LocalS3 {
  readonly s3: S3Client;
  /** a new client for the same server (to add test middleware) */
  client(): S3Client;
  /** every object key in the bucket */
  keys(): Promise<string[]>;
  getBytes(key: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function startLocalS3(): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await server.run();
  const client = () =>
    new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  const s3 = client();
  const bucketDir = join(directory, BUCKET);
  return {
    s3,
    client,
    async keys() {
      // s3rver keeps `<key>._S3rver_object` on disk; listing the disk avoids its paged-listing quirks.
      const files = await readdir(bucketDir, { recursive: true }).catch(() => [] as string[]);
      return files
        .filter((file) => file.endsWith('._S3rver_object'))
        .map((file) => file.slice(0, -'._S3rver_object'.length))
        .sort();
    },
    async getBytes(key) {
      const output = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await output.Body!.transformToByteArray());
    },
    async close() {
      s3.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface VendorFile {
  readonly body: Buffer;
  readonly contentType?: string;
  /** send this many bytes, then cut the connection (a dropped download) */
  readonly cutAfter?: number;
  /** no Content-Length (chunked transfer encoding) */
  readonly chunked?: boolean;
  /** send one byte every this many milliseconds (a vendor that trickles), until the client leaves */
  readonly trickleMs?: number;
}

/** A loopback HTTP server serving files at `/<name>`; `files` can change between tests. */
export async function startVendor(): Promise<Loopback & { files: Map<string, VendorFile> }> {
  const files = new Map<string, VendorFile>();
  const loopback = await startLoopback((req: IncomingMessage, res: ServerResponse) => {
    const file = files.get(decodeURIComponent((req.url ?? '').split('?')[0]!.slice(1)));
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': file.contentType ?? 'application/octet-stream',
      ...(file.chunked ? {} : { 'content-length': String(file.body.length) }),
    });
    if (file.cutAfter !== undefined) {
      res.write(file.body.subarray(0, file.cutAfter), () => res.destroy());
      return;
    }
    if (file.trickleMs !== undefined) {
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < file.body.length) res.write(file.body.subarray(sent, ++sent));
      }, file.trickleMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end(file.body);
  });
  return Object.assign(loopback, { files });
}

export type Vendor = Awaited<ReturnType<typeof startVendor>>;

export interface ArchiveTestBed {
  readonly s3: LocalS3;
  readonly vendor: Vendor;
  /** a fresh temp directory per test */
  readonly tmpDir: string;
}

/**
 * Registers the hooks an archiveReport suite needs: a local S3 and a loopback vendor for the
 * suite, a cleared vendor and a fresh temp directory per test. With `expectTempFilesRemoved`,
 * each test also checks that the archiver left nothing in its temp directory.
 */
export function useArchiveTestBed(prefix: string, options: { expectTempFilesRemoved?: boolean } = {}): ArchiveTestBed {
  const bed = {} as { s3: LocalS3; vendor: Vendor; tmpDir: string };
  beforeAll(async () => {
    bed.s3 = await startLocalS3();
    bed.vendor = await startVendor();
  });
  afterAll(async () => {
    await bed.vendor.close();
    await bed.s3.close();
  });
  beforeEach(async () => {
    bed.vendor.files.clear();
    bed.tmpDir = await mkdtemp(join(tmpdir(), prefix));
    return async () => {
      // temp files are removed in every outcome, failures included
      if (options.expectTempFilesRemoved) expect(await readdir(bed.tmpDir)).toEqual([]);
      await rm(bed.tmpDir, { recursive: true, force: true });
    };
  });
  return bed;
}

/** A download of `fileName` into `dir`, whose body the test writes by hand. */
export function handFedSpool(dir: string, fileName: string, maxBytes = 1e9): { body: PassThrough; spool: Spool } {
  const body = new PassThrough();
  const source: ReportSource = { fileName, role: 'data', open: async () => ({ body }) };
  const spool = Spool.start(source, join(dir, 'source-0'), { maxBytes, logger: capturedLogger().logger });
  return { body, spool };
}

/** A source whose `open()` does a real HTTP GET against the loopback vendor. */
export function httpSource(
  vendor: Loopback,
  fileName: string,
  options: { role?: 'data' | 'original'; password?: string; path?: string } = {},
): ReportSource {
  const url = `${vendor.url}/${encodeURIComponent(options.path ?? fileName)}?X-Amz-Signature=secret-signature`;
  return {
    fileName,
    role: options.role ?? 'data',
    password: options.password,
    open: () =>
      new Promise<DownloadedBody>((resolve, reject) => {
        httpGet(url, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`vendor answered ${res.statusCode}`));
            return;
          }
          const length = res.headers['content-length'];
          resolve({
            body: res,
            contentType: res.headers['content-type'],
            contentLength: length === undefined ? undefined : Number(length),
          });
        }).on('error', reject);
      }),
  };
}

/** A Powertools logger whose JSON lines are kept in memory. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger({ serviceName: 'archive-test', logLevel: 'DEBUG' });
  const sink = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  };
  // Powertools writes through its own Console instance; replace it with a collector.
  (logger as unknown as { console: Record<string, unknown> }).console = {
    log: sink,
    info: sink,
    warn: sink,
    error: sink,
    debug: sink,
    trace: sink,
  };
  return { logger, lines };
}

export const LIMITS: ArchiveLimits = {
  maxDownloadBytes: 64 * 1024 * 1024,
  maxExtractedBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxEntries: 100,
};

/** A report whose records are the source rows with every value kept as given. */
export const USERS_REPORT: ReportDefinition = {
  name: 'users',
  description: 'test users',
  columns: [
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'note', type: 'string' },
    { name: 'city', type: 'string' },
  ],
  toRecord(raw) {
    const record: JsonObject = {};
    for (const key of ['id', 'name', 'note', 'city']) record[key] = (raw[key] ?? null) as JsonObject[string];
    return record;
  },
};

let runCounter = 0;

/** A request with a tenant of its own, so each test's keys are distinct. */
export function newRequest(): ReportRequest {
  runCounter++;
  return { vendor: 'acme', tenant: `t${runCounter}`, report: 'users', date: '2026-11-21', runId: `run-${runCounter}` };
}

export function archiveInput(request: ReportRequest, sources: readonly ReportSource[]): ArchiveInput {
  return {
    request,
    report: USERS_REPORT,
    sources,
    requestParameters: { window: '1d' },
    job: { jobId: 'job-1' },
    startedAt: '2026-11-22T01:00:00.000Z',
  };
}

export function archiveDeps(
  s3: LocalS3,
  tmpDir: string,
  logger: Logger,
  limits: Partial<ArchiveLimits> = {},
): ArchiveDeps {
  return {
    s3: s3.s3,
    bucket: BUCKET,
    tmpDir,
    logger,
    now: () => new Date('2026-11-22T01:02:03.000Z'),
    randomBytes: () => Buffer.from(TEST_ATTEMPT.slice(-8), 'hex'),
    limits: { ...LIMITS, ...limits },
    softwareVersion: '1.2.3-test',
  };
}

/** The attempt id of every run with `archiveDeps` (its clock and random bytes are fixed). */
export const TEST_ATTEMPT = '20261122T010203Z-0a1b2c3d';

/** The archived result; fails the test on any other outcome. */
export function expectArchived(result: ArchiveResult): ArchivedResult {
  if (result.outcome !== 'ARCHIVED') throw new Error(`expected ARCHIVED; received ${result.outcome}: ${result.reason}`);
  return result;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface ZipJsEntry {
  readonly name: string;
  readonly data?: string | Buffer;
  /** 0 stores; default deflate */
  readonly level?: number;
  readonly password?: string;
  readonly zipCrypto?: boolean;
  readonly directory?: boolean;
}

/** A real zip written by zip.js (deflate/stored, ZipCrypto, AES-256, ZIP64). */
export async function zipJs(entries: readonly ZipJsEntry[], options: { zip64?: boolean } = {}): Promise<Buffer> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), {
    useWebWorkers: false,
    useCompressionStream: false,
    zip64: options.zip64,
  });
  for (const entry of entries) {
    const data = typeof entry.data === 'string' ? Buffer.from(entry.data) : entry.data;
    await writer.add(entry.name, entry.directory ? undefined : new Uint8ArrayReader(data ?? Buffer.alloc(0)), {
      directory: entry.directory,
      level: entry.level,
      password: entry.password,
      zipCrypto: entry.zipCrypto,
      encryptionStrength: entry.password && !entry.zipCrypto ? 3 : undefined,
    });
  }
  return Buffer.from(await writer.close());
}

export interface RawZipEntry {
  readonly name: string;
  readonly data: Buffer;
  /** 8 deflates `data`; 0 stores it */
  readonly method?: 0 | 8;
  /** override the declared values to build hostile archives */
  readonly crc32?: number;
  readonly uncompressedSize?: number;
}

/** A minimal zip writer with no checks at all, for names and headers real tools refuse to write. */
export function rawZip(entries: readonly RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const method = entry.method ?? 8;
    const payload = method === 8 ? deflateRawSync(entry.data) : entry.data;
    const name = Buffer.from(entry.name);
    const crc = entry.crc32 ?? crc32(entry.data);
    const size = entry.uncompressedSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(payload.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, payload);
    centrals.push(central, name);
    offset += local.length + name.length + payload.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Reads the archived records back. */
export async function readRecords(s3: LocalS3, key: string): Promise<unknown[]> {
  const { gunzipSync } = await import('node:zlib');
  const text = gunzipSync(await s3.getBytes(key)).toString('utf8');
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
}

/**
 * A CSV of `rows` rows with poorly compressible values (a seeded generator), so a few MB of it make
 * a multipart data object.
 */
export function bulkCsv(rows: number, seed = 1): string {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state.toString(36);
  };
  const lines = ['id,name,note,city'];
  for (let i = 0; i < rows; i++) {
    lines.push(
      `u${i},${next()}${next()}${next()},"${next()}, ${next()}${next()}${next()}${next()}${next()}",${next()}`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The bench's CSV shape, small: quoted commas and quotes, line breaks in fields, non-ASCII, attribute and extra columns. */
export function openathensCsv(rows: number, options: { bom?: boolean; lineEnding?: '\r\n' | '\n' } = {}): string {
  const report = generateReport({
    seed: 3,
    apiName: 'example.org',
    organisationId: '123456',
    date: '2023-06-20',
    rows,
    attributes: ['department', 'eduPersonAffiliation'],
    extraColumns: ['request.referrer'],
  });
  return toCsv(report, { bom: options.bom ?? true, lineEnding: options.lineEnding ?? '\r\n' });
}
