/**
 * Archives one report: the vendor's files byte for byte, their records as gzip JSON Lines, and a
 * manifest.
 *
 * 1. The run takes an attempt id (its data and originals go to keys of its own, written once)
 *    and reads the manifest as it is now (`publish.ts`), before anything is downloaded.
 * 2. Every source is opened at once (links expire) and spooled to a temp file, hashed on the way.
 * 3. Data sources are extracted in order (`extract.ts`: gzip, CSV, JSON and a zip's first entry
 *    while they download, other zip entries from the finished file), parsed, mapped with
 *    `toRecord` and streamed into one multipart upload, completed only after the last record.
 * 4. Then the data's last parts are sent (its part buffers go to the originals), the originals are
 *    uploaded from the temp files, the data upload is completed, and the manifest is written (the
 *    commit mark) only if it is still the one read in step 1. If another run published first,
 *    the outcome is SUPERSEDED: the manifest describes that run's objects, never a mix. A
 *    published manifest is logged for the next signed digest (lambdas/digest/).
 *    A `derived` source (the connector's own rendering of paged answers) is parsed like data but
 *    never stored: the vendor's bytes are the `original` beside it, and what the connector
 *    dropped from it is counted in the manifest's `dropped`.
 * 5. On any failure before that the data upload is aborted, downloads are stopped and the error
 *    is rethrown; completed objects are never deleted (Object Lock would keep them anyway, and a
 *    delete marker would hide the previous good version). A run that fails after the data
 *    completed leaves no manifest, so its objects are named by nothing and the next run archives
 *    the date again under its own attempt. Temp files are removed in every outcome.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { sha256Hex } from '../../digest/digest.ts';
import { recordPublication } from '../../digest/publications.ts';
import { ArchiveError } from '../errors.ts';
import { attemptId, dataKey, manifestKey, originalKey } from '../layout.ts';
import type { DownloadedBody, JsonObject, ReportDefinition, ReportRequest, ReportSource } from '../types.ts';
import { createSpoolDir, Spool } from './download.ts';
import { type ExtractContext, extractSource } from './extract.ts';
import type { InflateOptions } from './inflate.ts';
import { JsonlUpload } from './jsonl-writer.ts';
import { type ArchiveLimits, ExtractBudget } from './limits.ts';
import { type Manifest, type ManifestEntry, type ManifestOriginal, renderManifest } from './manifest.ts';
import { type PublishedManifest, publishManifest, readPublished } from './publish.ts';
import { RecordSink } from './records.ts';
import { PartBuffers, type S3Target, uploadFile } from './s3-upload.ts';
import { type FileFormat, SNIFF_BYTES, sniffFormat } from './sniff.ts';

export interface ArchiveDeps {
  s3: S3Client;
  bucket: string;
  /** SSE-KMS with this key when set */
  kmsKeyId?: string;
  tmpDir: string;
  logger: Logger;
  now: () => Date;
  limits: ArchiveLimits;
  softwareVersion: string;
  /** multipart part size, default 8 MiB */
  partSizeBytes?: number;
  /** inflater settings, default 1 MiB chunks on zlib's native handle (tests: small chunks) */
  inflate?: InflateOptions;
  /** random bytes for the attempt id; default node:crypto */
  randomBytes?: (size: number) => Uint8Array;
}

export interface ArchiveInput {
  request: ReportRequest;
  report: ReportDefinition;
  sources: readonly ReportSource[];
  requestParameters: JsonObject;
  job: JsonObject;
  /** ISO time the run started; default now */
  startedAt?: string;
}

export type ArchiveResult = ArchivedResult | SupersededResult;

export interface ArchivedResult {
  outcome: 'ARCHIVED';
  vendor: string;
  tenant: string;
  report: string;
  date: string;
  keys: { data: string; manifest: string; originals: string[] };
  rowCount: number;
  bytes: { original: number; extracted: number; data: number };
  sha256: { data: string; originals: string[] };
}

/** Another run published this report while this one ran; this run's objects are named by nothing. */
export interface SupersededResult {
  outcome: 'SUPERSEDED';
  vendor: string;
  tenant: string;
  report: string;
  date: string;
  /** why, naming the winner when its manifest could be read */
  reason: string;
  /** this attempt's own (unpublished) keys */
  keys: Keys;
}

const CONTENT_TYPES: Record<ManifestOriginal['format'], string> = {
  zip: 'application/zip',
  gzip: 'application/gzip',
  csv: 'text/csv',
  json: 'application/json',
  // JSON texts back to back: not one JSON document
  'json-pages': 'application/octet-stream',
};

interface Run {
  readonly deps: ArchiveDeps;
  readonly report: ReportDefinition;
  readonly requestParameters: JsonObject;
  readonly writer: JsonlUpload;
  readonly budget: ExtractBudget;
  rows: number;
}

type Keys = ArchivedResult['keys'];
type Extracted = Map<number, { format: FileFormat; entries: ManifestEntry[] }>;
/** An original as downloaded, before its upload gave it a VersionId. */
type DescribedOriginal = Omit<ManifestOriginal, 'version_id'>;

export async function archiveReport(input: ArchiveInput, deps: ArchiveDeps): Promise<ArchiveResult> {
  const { request, sources } = input;
  const startedAt = input.startedAt ?? deps.now().toISOString();
  const attempt = attemptId(deps.now(), (deps.randomBytes ?? randomBytes)(4));
  // a derived source is parsed but not stored: its bytes are ours, not the vendor's
  const stored = sources.flatMap((source, i) => (source.role === 'derived' ? [] : [i]));
  const keys: Keys = {
    data: dataKey(request, attempt),
    manifest: manifestKey(request),
    originals: stored.map((i) => originalKey(request, attempt, sources[i]!.fileName)),
  };
  checkSources(sources, keys.originals);
  const target: S3Target = {
    s3: deps.s3,
    bucket: deps.bucket,
    kmsKeyId: deps.kmsKeyId,
    // the data upload's part buffers are reused by the originals' uploads after it
    parts: new PartBuffers(deps.partSizeBytes),
  };
  const { logger } = deps;
  // What this run may replace is fixed now: a manifest another run writes later wins.
  const seen = await readPublished(target, keys.manifest);
  logger.info('archive started', { sources: sources.length, attempt, dataKey: keys.data, replaces: seen });

  const workDir = await createSpoolDir(deps.tmpDir);
  // Open every source now: vendor links can expire within minutes.
  const opened: Opened = new Map();
  const spools = sources.map((source, i) =>
    Spool.start(remember(source, i, opened), join(workDir, `source-${i}`), {
      maxBytes: deps.limits.maxDownloadBytes,
      logger,
      deadlineMs: deps.limits.maxDownloadSeconds === undefined ? undefined : deps.limits.maxDownloadSeconds * 1000,
      maxReportBytes: deps.limits.maxReportBytes,
    }),
  );
  let writer: JsonlUpload | undefined;
  let dataDone = false;
  try {
    writer = new JsonlUpload(target, keys.data);
    const run: Run = {
      deps,
      report: input.report,
      requestParameters: input.requestParameters,
      writer,
      budget: new ExtractBudget(deps.limits.maxExtractedBytes),
      rows: 0,
    };
    // Data sources first (in order), while the others keep downloading; then every source's facts.
    const extracted = await extractDataSources(run, sources, spools);
    const described = await describeOriginals({ sources, spools, stored, opened }, keys, extracted, logger);
    const storedSpools = stored.map((i) => spools[i]!);
    const { data, originals } = await uploadAll(target, writer, described, storedSpools);
    dataDone = true;
    logger.info('data uploaded', { key: keys.data, rows: run.rows, bytes: data.bytes });
    const dropped = sumDropped(sources, opened);
    const manifest = buildManifest(input, run, { startedAt, attempt, keys, data, originals, seen, dropped });
    return await publish(target, manifest, sources, buildResult(request, run, keys, data, originals), deps);
  } catch (caught) {
    const error = rootCause(caught, writer);
    for (const spool of spools) spool.abort(error);
    if (writer && !dataDone) await writer.abort(error);
    logger.error('archive failed', { error: { name: error.name, message: error.message } });
    throw error;
  } finally {
    for (const spool of spools) spool.abort(new Error('archive run ended'));
    await Promise.all(spools.map((spool) => spool.settled()));
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Writes the manifest if no other run published first; the archived result, or SUPERSEDED. */
async function publish(
  target: S3Target,
  manifest: Manifest,
  sources: readonly ReportSource[],
  archived: ArchivedResult,
  deps: ArchiveDeps,
): Promise<ArchiveResult> {
  const { logger } = deps;
  const text = renderManifest(manifest);
  assertNoPassword(text, sources);
  const published = await publishManifest(target, archived.keys.manifest, text, seenOf(manifest));
  if (published.outcome === 'SUPERSEDED') {
    logger.warn('archive superseded', { reason: published.reason, attempt: manifest.attempt });
    const { vendor, tenant, report, date, keys } = archived;
    return { outcome: 'SUPERSEDED', vendor, tenant, report, date, reason: published.reason, keys };
  }
  await recordPublication(
    { ...target, now: deps.now },
    {
      manifest_key: archived.keys.manifest,
      version_id: published.versionId ?? null,
      sha256: sha256Hex(text),
      bytes: Buffer.byteLength(text),
    },
  );
  logger.info('archive completed', {
    rowCount: archived.rowCount,
    bytes: archived.bytes,
    manifestVersionId: published.versionId,
  });
  return archived;
}

/** The write is conditioned on exactly the manifest this one records as replaced. */
function seenOf(manifest: Manifest): PublishedManifest | null {
  return manifest.replaces && { etag: manifest.replaces.etag, runId: manifest.replaces.run_id };
}

/** Extracts and parses every data source, in order, into the data upload. */
async function extractDataSources(
  run: Run,
  sources: readonly ReportSource[],
  spools: readonly Spool[],
): Promise<Extracted> {
  const extracted: Extracted = new Map();
  for (const [i, source] of sources.entries()) {
    if (source.role === 'original') continue;
    const result = await extractSource(spools[i]!, recordExtraction(run));
    run.deps.logger.info('source extracted', {
      fileName: source.fileName,
      role: source.role,
      format: result.format,
      entries: result.entries.length,
      rows: run.rows,
    });
    extracted.set(i, result);
  }
  return extracted;
}

/** Waits for every stored download and describes it for the manifest. */
async function describeOriginals(
  from: { sources: readonly ReportSource[]; spools: readonly Spool[]; stored: readonly number[]; opened: Opened },
  keys: Keys,
  extracted: Extracted,
  logger: Logger,
): Promise<DescribedOriginal[]> {
  const originals: DescribedOriginal[] = [];
  for (const [n, i] of from.stored.entries()) {
    const source = from.sources[i]!;
    const spool = from.spools[i]!;
    const what = source.fileName;
    const file = await spool.done;
    const format = extracted.get(i)?.format ?? source.format ?? sniffFormat(await spool.head(SNIFF_BYTES), what);
    logger.info('source downloaded', { fileName: what, role: source.role, format, bytes: file.bytes });
    originals.push({
      file_name: source.fileName,
      key: keys.originals[n]!,
      role: source.role === 'data' ? 'data' : 'original',
      bytes: file.bytes,
      sha256: file.sha256,
      format,
      content_type: spool.contentType ?? null,
      entries: extracted.get(i)?.entries ?? from.opened.get(i)?.parts?.() ?? [],
    });
  }
  return originals;
}

/** What each source's `open()` answered, by source index: parts and drop counts are read from it at the end. */
type Opened = Map<number, DownloadedBody>;

function remember(source: ReportSource, i: number, opened: Opened): ReportSource {
  return {
    ...source,
    open: async () => {
      const body = await source.open();
      opened.set(i, body);
      return body;
    },
  };
}

/** The derived sources' drop counts, summed by reason. */
function sumDropped(sources: readonly ReportSource[], opened: Opened): Record<string, number> {
  const total: Record<string, number> = {};
  for (const [i, source] of sources.entries()) {
    if (source.role !== 'derived') continue;
    for (const [reason, count] of Object.entries(opened.get(i)?.dropped?.() ?? {})) {
      total[reason] = (total[reason] ?? 0) + count;
    }
  }
  return total;
}

/**
 * The data's last parts go up first, which frees their buffers for the originals. Originals go
 * up before the data upload completes: if one fails, the data upload is aborted and no data
 * object appears. Nothing completed is ever deleted: under Object Lock a delete would only add
 * a marker that hides the previous good version.
 */
async function uploadAll(
  target: S3Target,
  writer: JsonlUpload,
  described: readonly DescribedOriginal[],
  spools: readonly Spool[],
): Promise<{ data: UploadedData; originals: ManifestOriginal[] }> {
  await writer.end();
  const originals: ManifestOriginal[] = [];
  for (const [i, original] of described.entries()) {
    const stored = await uploadFile(target, original.key, spools[i]!.path, CONTENT_TYPES[original.format]);
    originals.push({ ...original, version_id: stored.versionId ?? null });
  }
  return { data: await writer.finish(), originals };
}

type UploadedData = Awaited<ReturnType<JsonlUpload['finish']>>;

function buildManifest(
  input: ArchiveInput,
  run: Run,
  facts: {
    startedAt: string;
    attempt: string;
    keys: Keys;
    data: UploadedData;
    originals: ManifestOriginal[];
    seen: PublishedManifest | null;
    dropped: Record<string, number>;
  },
): Manifest {
  const { request } = input;
  const { data, seen } = facts;
  return {
    schema_version: 2,
    attempt: facts.attempt,
    vendor: request.vendor,
    tenant: request.tenant,
    report: request.report,
    report_date: request.date,
    run_id: request.runId,
    started_at: facts.startedAt,
    completed_at: run.deps.now().toISOString(),
    software_version: run.deps.softwareVersion,
    request_parameters: input.requestParameters,
    job: input.job,
    row_count: run.rows,
    columns: run.report.columns.map((column) => column.name),
    data: {
      key: facts.keys.data,
      bytes: data.bytes,
      sha256: data.sha256,
      format: 'jsonl.gz',
      version_id: data.versionId ?? null,
    },
    originals: facts.originals,
    dropped: facts.dropped,
    replaces: seen && { etag: seen.etag, run_id: seen.runId },
  };
}

function buildResult(
  request: ReportRequest,
  run: Run,
  keys: Keys,
  data: UploadedData,
  originals: readonly ManifestOriginal[],
): ArchivedResult {
  return {
    outcome: 'ARCHIVED',
    vendor: request.vendor,
    tenant: request.tenant,
    report: request.report,
    date: request.date,
    keys,
    rowCount: run.rows,
    bytes: {
      original: originals.reduce((sum, original) => sum + original.bytes, 0),
      extracted: run.budget.used,
      data: data.bytes,
    },
    sha256: { data: data.sha256, originals: originals.map((original) => original.sha256) },
  };
}

function checkSources(sources: readonly ReportSource[], originalKeys: readonly string[]): void {
  if (!sources.some((source) => source.role === 'data' || source.role === 'derived')) {
    throw new Error(
      `a report needs at least one source with role "data" or "derived"; received ${sources.length} sources`,
    );
  }
  const seen = new Set<string>();
  for (const key of originalKeys) {
    if (seen.has(key)) throw new Error(`two sources map to the same original key ${key}`);
    seen.add(key);
  }
}

/** Extracted files are parsed into records for the data upload. */
function recordExtraction(run: Run): ExtractContext<RecordSink> {
  const { deps, report, writer } = run;
  return {
    limits: deps.limits,
    budget: run.budget,
    logger: deps.logger,
    createSink: ({ what }) => new RecordSink({ what, report, requestParameters: run.requestParameters, writer }),
    ...(deps.inflate ? { inflate: deps.inflate } : {}),
    fileDone: (file, sink) => {
      run.rows += sink.records;
      deps.logger.info('file parsed', {
        file: file.name,
        format: sink.format,
        rows: sink.records,
        bytes: file.bytes,
        columns: sink.columns,
      });
    },
  };
}

/** When the upload failed first, its error explains the "stream destroyed" that parsing then hit. */
function rootCause(caught: unknown, writer: JsonlUpload | undefined): Error {
  if (caught instanceof ArchiveError) return caught;
  if (writer?.failure) return writer.failure;
  return caught instanceof Error ? caught : new Error(String(caught));
}

/** Defence in depth: the connector's parameters must never carry a zip password into the manifest. */
function assertNoPassword(text: string, sources: readonly ReportSource[]): void {
  for (const source of sources) {
    if (source.password && source.password.length >= 6 && text.includes(JSON.stringify(source.password).slice(1, -1))) {
      throw new Error(`the manifest would contain the password of ${source.fileName}; refusing to write it`);
    }
  }
}
