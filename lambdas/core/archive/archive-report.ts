/**
 * Archives one report: the vendor's files byte for byte, their records as gzip JSON Lines, and a
 * manifest.
 *
 * 1. Every source is opened at once (links expire) and spooled to a temp file, hashed on the way.
 * 2. Data sources are extracted in order (`extract.ts`: gzip, CSV, JSON and a zip's first entry
 *    while they download, other zip entries from the finished file), parsed, mapped with
 *    `toRecord` and streamed into one multipart upload, completed only after the last record.
 * 3. Then the data's last parts are sent (its part buffers go to the originals), the originals are
 *    uploaded from the temp files, the data upload is completed, and the manifest is written (the
 *    commit mark).
 * 4. On any failure before that the data upload is aborted, downloads are stopped and the error
 *    is rethrown; completed objects are never deleted (Object Lock would keep them anyway, and a
 *    delete marker would hide the previous good version). A run that fails after the data
 *    completed leaves no manifest, so the next run archives the date again at the same keys.
 *    Temp files are removed in every outcome.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { ArchiveError } from '../errors.ts';
import { dataKey, manifestKey, originalKey } from '../layout.ts';
import type { JsonObject, ReportDefinition, ReportRequest, ReportSource } from '../types.ts';
import { createSpoolDir, Spool } from './download.ts';
import { type ExtractContext, extractSource } from './extract.ts';
import type { InflateOptions } from './inflate.ts';
import { JsonlUpload } from './jsonl-writer.ts';
import { type ArchiveLimits, ExtractBudget } from './limits.ts';
import { type Manifest, type ManifestEntry, type ManifestOriginal, renderManifest } from './manifest.ts';
import { RecordSink } from './records.ts';
import { PartBuffers, putText, type S3Target, uploadFile } from './s3-upload.ts';
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

export interface ArchiveResult {
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

const CONTENT_TYPES: Record<FileFormat, string> = {
  zip: 'application/zip',
  gzip: 'application/gzip',
  csv: 'text/csv',
  json: 'application/json',
};

interface Run {
  readonly deps: ArchiveDeps;
  readonly report: ReportDefinition;
  readonly requestParameters: JsonObject;
  readonly writer: JsonlUpload;
  readonly budget: ExtractBudget;
  rows: number;
}

type Keys = ArchiveResult['keys'];
type Extracted = Map<number, { format: FileFormat; entries: ManifestEntry[] }>;

export async function archiveReport(input: ArchiveInput, deps: ArchiveDeps): Promise<ArchiveResult> {
  const { request, sources } = input;
  const startedAt = input.startedAt ?? deps.now().toISOString();
  const keys: Keys = {
    data: dataKey(request),
    manifest: manifestKey(request),
    originals: sources.map((source) => originalKey(request, source.fileName)),
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
  logger.info('archive started', { sources: sources.length, dataKey: keys.data });

  const workDir = await createSpoolDir(deps.tmpDir);
  // Open every source now: vendor links can expire within minutes.
  const spools = sources.map((source, i) =>
    Spool.start(source, join(workDir, `source-${i}`), {
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
    const extracted = await extractDataSources(run, sources, spools, keys);
    const originals = await describeOriginals(sources, spools, keys, extracted, logger);
    const data = await uploadAll(target, writer, originals, spools);
    dataDone = true;
    logger.info('data uploaded', { key: keys.data, rows: run.rows, bytes: data.bytes });
    const manifest = buildManifest(input, run, { startedAt, keys, data, originals });
    const text = renderManifest(manifest);
    assertNoPassword(text, sources);
    await putText(target, keys.manifest, text, 'application/json');
    const result = buildResult(request, run, keys, data, originals);
    logger.info('archive completed', { rowCount: result.rowCount, bytes: result.bytes });
    return result;
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

/** Extracts and parses every data source, in order, into the data upload. */
async function extractDataSources(
  run: Run,
  sources: readonly ReportSource[],
  spools: readonly Spool[],
  keys: Keys,
): Promise<Extracted> {
  const extracted: Extracted = new Map();
  for (const [i, source] of sources.entries()) {
    if (source.role !== 'data') continue;
    const result = await extractSource(spools[i]!, recordExtraction(run));
    run.deps.logger.info('source extracted', {
      fileName: source.fileName,
      key: keys.originals[i]!,
      format: result.format,
      entries: result.entries.length,
      rows: run.rows,
    });
    extracted.set(i, result);
  }
  return extracted;
}

/** Waits for every download and describes it for the manifest. */
async function describeOriginals(
  sources: readonly ReportSource[],
  spools: readonly Spool[],
  keys: Keys,
  extracted: Extracted,
  logger: Logger,
): Promise<ManifestOriginal[]> {
  const originals: ManifestOriginal[] = [];
  for (const [i, source] of sources.entries()) {
    const spool = spools[i]!;
    const what = source.fileName;
    const file = await spool.done;
    const format = extracted.get(i)?.format ?? sniffFormat(await spool.head(SNIFF_BYTES), what);
    logger.info('source downloaded', { fileName: what, role: source.role, format, bytes: file.bytes });
    originals.push({
      file_name: source.fileName,
      key: keys.originals[i]!,
      role: source.role,
      bytes: file.bytes,
      sha256: file.sha256,
      format,
      content_type: spool.contentType ?? null,
      entries: extracted.get(i)?.entries ?? [],
    });
  }
  return originals;
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
  originals: readonly ManifestOriginal[],
  spools: readonly Spool[],
): Promise<UploadedData> {
  await writer.end();
  for (const [i, original] of originals.entries()) {
    await uploadFile(target, original.key, spools[i]!.path, CONTENT_TYPES[original.format]);
  }
  return writer.finish();
}

type UploadedData = Awaited<ReturnType<JsonlUpload['finish']>>;

function buildManifest(
  input: ArchiveInput,
  run: Run,
  facts: { startedAt: string; keys: Keys; data: UploadedData; originals: ManifestOriginal[] },
): Manifest {
  const { request } = input;
  return {
    schema_version: 1,
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
    data: { key: facts.keys.data, bytes: facts.data.bytes, sha256: facts.data.sha256, format: 'jsonl.gz' },
    originals: facts.originals,
  };
}

function buildResult(
  request: ReportRequest,
  run: Run,
  keys: Keys,
  data: UploadedData,
  originals: readonly ManifestOriginal[],
): ArchiveResult {
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
  if (!sources.some((source) => source.role === 'data')) {
    throw new Error(`a report needs at least one source with role "data"; received ${sources.length} sources`);
  }
  const seen = new Set<string>();
  for (const [i, key] of originalKeys.entries()) {
    if (seen.has(key)) {
      throw new Error(
        `two sources map to the same original key ${key} (file name ${JSON.stringify(sources[i]!.fileName)})`,
      );
    }
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
