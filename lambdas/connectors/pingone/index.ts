/**
 * PingOne MFA reports (dataExplorations): a daily snapshot of every user and MFA device of each
 * configured environment.
 *
 * 1. `planDates`: the report is a snapshot of "now", so a run covers the UTC date of its
 *    scheduled time only; a past date cannot be produced (no history) and plans nothing.
 * 2. `startJob`: `POST {api}/environments/{env}/dataExplorations` with the MFA template, the
 *    tenant's `deliverAs`, `fields` and `filter`. ASYNC_FILE → PENDING (IN_PROGRESS) or READY;
 *    ENTRIES → READY.
 * 3. `checkJob`: `GET .../dataExplorations/{id}`: IN_PROGRESS → PENDING, SUCCESS → READY, 404 or
 *    older than the 2-hour file cache → RESTART, any other status → FAILED naming it.
 * 4. `fetchReport` (files): GET again for fresh links and the zip password, open the zipped CSV
 *    (`data`) and the zipped JSON (`original`) at once without an Authorization header. A 403
 *    from the storage host (links live 5 minutes) → PENDING, and the next round fetches fresh
 *    links (bounded by `maxLinkRefreshes`); 404 → RESTART.
 * 5. `fetchReport` (entries): follows `_links.next` from `.../entries` page by page, spaced like
 *    every dataExplorations call, as NDJSON into the same table, within a deadline.
 *
 * Every dataExplorations call for an environment is at least `callIntervalMs` (5 s) after the
 * previous one, across invocations too (`job.lastCallAt`). The zip password and the tokens live
 * in memory only: never in `job`, a result, a log line or an error.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { DeadlineExceededError, MalformedJsonError, VendorRequestError } from '../../core/errors.ts';
import type { HttpResponse } from '../../core/http/index.ts';
import type {
  Connector,
  DownloadedBody,
  FetchResult,
  JobResult,
  JsonObject,
  ReportRequest,
  ReportSource,
} from '../../core/types.ts';
import {
  aboutEnvironment,
  apiBase,
  type CallState,
  callDataExplorations,
  environmentLabel,
  type PingOneContext,
  raiseRequestError,
  readJsonObject,
} from './client.ts';
import { pingOneQueries } from './queries.ts';
import { mfaDevicesReport } from './records.ts';
import {
  MFA_REPORT_TEMPLATE_ID,
  PINGONE_VENDOR,
  type PingOneCredentials,
  PingOneCredentialsSchema,
  type PingOneSettings,
  type PingOneTenant,
  pingOneSettingsSchema,
} from './settings.ts';

export { resetPingOneClientState } from './client.ts';
export * from './settings.ts';

/** What travels in `job`: ids, timestamps and counters only. */
const JobStateSchema = z.looseObject({
  explorationId: z.string().min(1).optional(),
  deliverAs: z.enum(['ASYNC_FILE', 'ENTRIES']).optional(),
  createdAt: z.string().optional(),
  lastCallAt: z.string().optional(),
  checks: z.number().int().min(0).default(0),
  linkRefreshes: z.number().int().min(0).default(0),
});
type JobState = z.infer<typeof JobStateSchema>;

const STATUS_TEXT = /^[A-Z0-9_]{1,40}$/;

function parseJob(ctx: PingOneContext, job: JsonObject): JobState {
  const parsed = JobStateSchema.safeParse(job);
  if (!parsed.success) {
    throw new VendorRequestError(
      `pingone ${environmentLabel(ctx)}: the job state is malformed (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  }
  return parsed.data;
}

function jobOut(state: JobState): JsonObject {
  const out: JsonObject = { checks: state.checks, linkRefreshes: state.linkRefreshes };
  if (state.explorationId !== undefined) out.explorationId = state.explorationId;
  if (state.deliverAs !== undefined) out.deliverAs = state.deliverAs;
  if (state.createdAt !== undefined) out.createdAt = state.createdAt;
  if (state.lastCallAt !== undefined) out.lastCallAt = state.lastCallAt;
  return out;
}

function explorationsUrl(ctx: PingOneContext, suffix = ''): string {
  return `${apiBase(ctx)}/environments/${encodeURIComponent(ctx.tenant.environmentId)}/dataExplorations${suffix}`;
}

function explorationUrl(ctx: PingOneContext, id: string, suffix = ''): string {
  return explorationsUrl(ctx, `/${encodeURIComponent(id)}${suffix}`);
}

function pollWaitSeconds(ctx: PingOneContext): number {
  return Math.max(ctx.settings.poll.intervalSeconds, Math.ceil((ctx.settings.callIntervalMs ?? 5_000) / 1000), 1);
}

function statusText(value: unknown): string {
  if (typeof value === 'string' && STATUS_TEXT.test(value)) return value;
  const shown = JSON.stringify(value ?? null) ?? 'undefined';
  return shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
}

/** The job is older than PingOne's file cache: ask again instead of polling a stale one. */
function tooOld(ctx: PingOneContext, state: JobState): boolean {
  if (state.createdAt === undefined) return false;
  const created = Date.parse(state.createdAt);
  if (!Number.isFinite(created)) return false;
  return ctx.now().getTime() - created >= (ctx.settings.fileCacheMinutes ?? 120) * 60_000;
}

function restart(state: JobState, reason: string): JobResult {
  return { status: 'RESTART', job: jobOut({ ...state, explorationId: undefined, createdAt: undefined }), reason };
}

function requestParameters(ctx: PingOneContext): JsonObject {
  return {
    environmentId: ctx.tenant.environmentId,
    dataExplorationTemplateId: MFA_REPORT_TEMPLATE_ID,
    deliverAs: ctx.tenant.deliverAs,
    fields: ctx.tenant.fields ? [...ctx.tenant.fields] : 'all',
    filter: ctx.tenant.filter ?? null,
    apiBase: apiBase(ctx),
  };
}

/** Manifest job details: ids and vendor timestamps only. */
function manifestJob(body: Record<string, unknown>, extra: JsonObject): JsonObject {
  const pick = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : null);
  return {
    dataExplorationId: pick('id'),
    status: pick('status'),
    createdAt: pick('createdAt'),
    updatedAt: pick('updatedAt'),
    expiresAt: pick('expiresAt'),
    ...extra,
  };
}

async function getExploration(
  ctx: PingOneContext,
  state: JobState,
  operation: string,
): Promise<{ status: 'GONE' } | { status: 'OK'; body: Record<string, unknown> }> {
  const response = await callDataExplorations(ctx, state, {
    method: 'GET',
    url: explorationUrl(ctx, state.explorationId as string),
    operation,
    acceptStatus: [404],
  });
  if (response.status === 404) {
    response.body.destroy();
    return { status: 'GONE' };
  }
  return { status: 'OK', body: await readJsonObject(ctx, response, operation) };
}

// ---------------------------------------------------------------------------------------------

async function startJob(ctx: PingOneContext, request: ReportRequest): Promise<JobResult> {
  const deliverAs = ctx.tenant.deliverAs ?? 'ASYNC_FILE';
  const state: JobState = { checks: 0, linkRefreshes: 0, deliverAs };
  const body: JsonObject = { dataExplorationTemplate: { id: MFA_REPORT_TEMPLATE_ID }, deliverAs };
  if (ctx.tenant.fields) body.fields = ctx.tenant.fields.map((name) => ({ name }));
  if (ctx.tenant.filter) body.filter = ctx.tenant.filter;
  const operation = 'create mfa report';
  const response = await callDataExplorations(ctx, state, {
    method: 'POST',
    url: explorationsUrl(ctx),
    json: body,
    operation,
    acceptStatus: [400, 404, 409, 422],
    unknownHistory: true,
  });
  if (response.status >= 400) await raiseRequestError(ctx, response, operation);
  const created = await readJsonObject(ctx, response, operation);
  if (typeof created.id !== 'string' || created.id.length === 0) {
    throw new VendorRequestError(`pingone ${environmentLabel(ctx)}: ${operation}: expected an id in the response`);
  }
  state.explorationId = created.id;
  state.createdAt =
    typeof created.createdAt === 'string' && Number.isFinite(Date.parse(created.createdAt))
      ? created.createdAt
      : ctx.now().toISOString();
  ctx.logger.info('mfa report requested', {
    report: request.report,
    explorationId: state.explorationId,
    deliverAs,
    status: statusText(created.status),
  });
  if (deliverAs === 'ENTRIES') return { status: 'READY', job: jobOut(state) };
  return fromStatus(ctx, state, created.status, 'create');
}

function fromStatus(ctx: PingOneContext, state: JobState, status: unknown, step: string): JobResult {
  if (status === 'IN_PROGRESS' || status === undefined) {
    return { status: 'PENDING', job: jobOut(state), waitSeconds: pollWaitSeconds(ctx) };
  }
  if (status === 'SUCCESS') return { status: 'READY', job: jobOut(state) };
  return {
    status: 'FAILED',
    job: jobOut(state),
    reason: `pingone ${environmentLabel(ctx)}: dataExploration ${state.explorationId} reported status ${statusText(status)} (${step}); expected IN_PROGRESS or SUCCESS`,
  };
}

async function checkJob(ctx: PingOneContext, _request: ReportRequest, job: JsonObject): Promise<JobResult> {
  const state = parseJob(ctx, job);
  if (state.explorationId === undefined)
    return restart(state, 'the job has no dataExploration id; requesting the report again');
  if ((state.deliverAs ?? ctx.tenant.deliverAs) === 'ENTRIES') return { status: 'READY', job: jobOut(state) };
  if (tooOld(ctx, state)) {
    return restart(state, 'the report is older than the 2-hour file cache; requesting it again');
  }
  state.checks += 1;
  const found = await getExploration(ctx, state, 'check mfa report');
  if (found.status === 'GONE') {
    return restart(state, `dataExploration ${state.explorationId} is gone (HTTP 404); requesting the report again`);
  }
  const result = fromStatus(ctx, state, found.body.status, 'check');
  ctx.logger.info('mfa report checked', {
    explorationId: state.explorationId,
    status: statusText(found.body.status),
    checks: state.checks,
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// File mode

/** `devices-report-<env>-<uuid>.csv.zip` from a pre-signed URL's path; never its query string. */
function fileNameOf(url: string, fallback: string): string {
  try {
    const last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    const safe = last.replace(/[^A-Za-z0-9._-]/g, '_');
    return /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(safe) ? safe : fallback;
  } catch {
    return fallback;
  }
}

/** The JSON zip's link: undocumented name (`jsonPresignedUrl` by symmetry), found leniently. */
function findJsonLink(body: Record<string, unknown>): string | undefined {
  if (typeof body.jsonPresignedUrl === 'string') return body.jsonPresignedUrl;
  for (const [key, value] of Object.entries(body)) {
    if (/json.*url/i.test(key) && typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

type Opened = { kind: 'open'; body: DownloadedBody } | { kind: 'refused' } | { kind: 'gone' };

/**
 * GET a pre-signed link: allowlisted host, no Authorization header, query string never logged
 * (the shared client redacts it). `request` rather than `download` because 403 (expired link)
 * and 404 (object gone) mean something here and `download` has no `acceptStatus`.
 */
async function openLink(
  ctx: PingOneContext,
  url: string,
  operation: string,
  password: string | undefined,
): Promise<Opened> {
  const secrets = password ? [password] : [];
  let response: HttpResponse;
  try {
    response = await ctx.http.request({ method: 'GET', url, operation, secrets, acceptStatus: [403, 404] });
  } catch (error) {
    throw aboutEnvironment(ctx, error, secrets);
  }
  if (response.status === 403 || response.status === 404) {
    response.body.destroy();
    return { kind: response.status === 403 ? 'refused' : 'gone' };
  }
  const length = response.headers['content-length'];
  return {
    kind: 'open',
    body: {
      body: response.body,
      ...(response.headers['content-type'] ? { contentType: response.headers['content-type'] } : {}),
      ...(length && /^\d+$/.test(length) ? { contentLength: Number(length) } : {}),
    },
  };
}

function onceSource(
  fileName: string,
  role: 'data' | 'original',
  body: DownloadedBody,
  password: string | undefined,
): ReportSource {
  let opened = false;
  return {
    fileName,
    role,
    ...(password ? { password } : {}),
    async open() {
      if (opened) throw new Error(`${fileName} was already opened; a pre-signed download can be read once`);
      opened = true;
      return body;
    },
  };
}

async function fetchFiles(ctx: PingOneContext, request: ReportRequest, state: JobState): Promise<FetchResult> {
  if (tooOld(ctx, state)) {
    return restart(state, 'the report is older than the 2-hour file cache; requesting it again');
  }
  const found = await getExploration(ctx, state, 'get mfa report links');
  if (found.status === 'GONE') {
    return restart(state, `dataExploration ${state.explorationId} is gone (HTTP 404); requesting the report again`);
  }
  const body = found.body;
  if (body.status !== 'SUCCESS') return fromStatus(ctx, state, body.status, 'fetch');
  const password = typeof body.zipPassword === 'string' && body.zipPassword.length > 0 ? body.zipPassword : undefined;
  const csvUrl = typeof body.csvPresignedUrl === 'string' ? body.csvPresignedUrl : undefined;
  if (!csvUrl) {
    throw new VendorRequestError(
      `pingone ${environmentLabel(ctx)}: dataExploration ${state.explorationId} is SUCCESS without csvPresignedUrl; expected the zipped CSV link`,
    );
  }
  const jsonUrl = findJsonLink(body);
  if (!password) ctx.logger.warn('report finished without a zip password; expecting unencrypted zips');
  if (!jsonUrl) ctx.logger.warn('report finished without a JSON link; archiving the CSV only');

  // Both at once: the links expire 5 minutes after this GET.
  const settled = await Promise.allSettled([
    openLink(ctx, csvUrl, 'download mfa report csv', password),
    ...(jsonUrl ? [openLink(ctx, jsonUrl, 'download mfa report json', password)] : []),
  ]);
  const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const closeAll = () => {
    for (const o of opened) if (o.kind === 'open') o.body.body.destroy();
  };
  if (failure) {
    closeAll();
    throw failure.reason;
  }
  if (opened.some((o) => o.kind === 'gone')) {
    closeAll();
    return restart(
      state,
      `the report files of dataExploration ${state.explorationId} are gone (HTTP 404); requesting the report again`,
    );
  }
  if (opened.some((o) => o.kind === 'refused')) {
    closeAll();
    state.linkRefreshes += 1;
    if (state.linkRefreshes > (ctx.settings.maxLinkRefreshes ?? 3)) {
      return {
        status: 'FAILED',
        job: jobOut(state),
        reason: `pingone ${environmentLabel(ctx)}: the storage host refused the report links (HTTP 403) ${state.linkRefreshes} times in a row, fresh links included; expected pre-signed links valid for 5 minutes`,
      };
    }
    ctx.logger.warn('report link refused by the storage host; fetching fresh links', {
      explorationId: state.explorationId,
      linkRefreshes: state.linkRefreshes,
    });
    return {
      status: 'PENDING',
      job: jobOut(state),
      waitSeconds: Math.max(1, Math.ceil((ctx.settings.callIntervalMs ?? 5_000) / 1000)),
    };
  }
  const bodies = opened.flatMap((o) => (o.kind === 'open' ? [o.body] : []));
  const [csv, json] = bodies;
  if (!csv) throw new VendorRequestError(`pingone ${environmentLabel(ctx)}: the CSV download did not open`);
  const sources: ReportSource[] = [onceSource(fileNameOf(csvUrl, 'mfa-devices-report.csv.zip'), 'data', csv, password)];
  if (json && jsonUrl) {
    sources.push(onceSource(fileNameOf(jsonUrl, 'mfa-devices-report.json.zip'), 'original', json, password));
  }
  ctx.logger.info('mfa report files opened', {
    report: request.report,
    explorationId: state.explorationId,
    files: sources.map((s) => s.fileName),
    encrypted: password !== undefined,
  });
  return {
    status: 'FETCHED',
    sources,
    requestParameters: requestParameters(ctx),
    job: manifestJob(body, { checks: state.checks, linkRefreshes: state.linkRefreshes }),
  };
}

// ---------------------------------------------------------------------------------------------
// Entries mode

interface EntriesPage {
  readonly entries: unknown[];
  readonly next?: string;
}

function parsePage(ctx: PingOneContext, body: Record<string, unknown>, page: number): EntriesPage {
  const embedded = body._embedded as { entries?: unknown } | undefined;
  const entries = embedded?.entries ?? body.entries;
  if (!Array.isArray(entries)) {
    throw new MalformedJsonError(
      `pingone ${environmentLabel(ctx)}: entries page ${page}: expected an array at _embedded.entries or entries`,
    );
  }
  const next = (body._links as { next?: { href?: unknown } } | undefined)?.next?.href;
  return { entries, ...(typeof next === 'string' && next.length > 0 ? { next } : {}) };
}

async function getPage(
  ctx: PingOneContext,
  state: CallState,
  url: string,
  page: number,
): Promise<EntriesPage | 'GONE'> {
  const operation = 'get mfa report entries';
  const response = await callDataExplorations(ctx, state, { method: 'GET', url, operation, acceptStatus: [404] });
  if (response.status === 404) {
    response.body.destroy();
    return 'GONE';
  }
  return parsePage(ctx, await readJsonObject(ctx, response, operation), page);
}

function ndjson(entries: readonly unknown[]): Buffer {
  let text = '';
  for (const [index, entry] of entries.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new MalformedJsonError(`entry ${index + 1} of a page is not a JSON object`);
    }
    text += `${JSON.stringify(entry)}\n`;
  }
  return Buffer.from(text, 'utf8');
}

async function fetchEntries(ctx: PingOneContext, request: ReportRequest, state: JobState): Promise<FetchResult> {
  const limit = ctx.settings.entries?.pageLimit ?? 1000;
  const deadlineMs = (ctx.settings.entries?.deadlineSeconds ?? 600) * 1000;
  const startedAt = Date.now();
  const firstUrl = `${explorationUrl(ctx, state.explorationId as string, '/entries')}?limit=${limit}`;
  // The first page now, so an expired exploration restarts instead of failing the archive step.
  const firstPage = await getPage(ctx, state, firstUrl, 1);
  if (firstPage === 'GONE') {
    return restart(state, `dataExploration ${state.explorationId} is gone (HTTP 404); requesting the report again`);
  }
  const first: EntriesPage = firstPage;
  const env = environmentLabel(ctx);
  const spacing: CallState = { ...(state.lastCallAt ? { lastCallAt: state.lastCallAt } : {}) };
  const stats = { pages: 1, entries: first.entries.length };
  async function* pages(): AsyncGenerator<Buffer> {
    yield ndjson(first.entries);
    const visited = new Set<string>([firstUrl]);
    let next = first.next;
    while (next !== undefined) {
      if (visited.has(next)) {
        throw new VendorRequestError(`pingone ${env}: entries page ${stats.pages} links back to a page already read`);
      }
      visited.add(next);
      if (Date.now() - startedAt > deadlineMs) {
        throw new DeadlineExceededError(
          `pingone ${env}: entries paging stopped after ${stats.pages} pages (${stats.entries} entries) and ${Math.round(deadlineMs / 1000)} s; one page per ${ctx.settings.callIntervalMs ?? 5000} ms is too slow for this environment: use deliverAs ASYNC_FILE`,
        );
      }
      // `next` is followed verbatim (an absolute URL with a cursor); `callDataExplorations` checks its origin.
      const page = await getPage(ctx, spacing, next, stats.pages + 1);
      if (page === 'GONE') {
        throw new VendorRequestError(
          `pingone ${env}: dataExploration expired while reading entries page ${stats.pages + 1}`,
        );
      }
      stats.pages += 1;
      stats.entries += page.entries.length;
      yield ndjson(page.entries);
      next = page.next;
    }
    ctx.logger.info('mfa report entries read', { pages: stats.pages, entries: stats.entries });
  }
  let opened = false;
  const source: ReportSource = {
    fileName: 'mfa-devices-entries.jsonl',
    role: 'data',
    async open() {
      if (opened) throw new Error('the entries stream was already opened');
      opened = true;
      return { body: Readable.from(pages(), { objectMode: false }), contentType: 'application/x-ndjson' };
    },
  };
  ctx.logger.info('mfa report entries opened', { report: request.report, explorationId: state.explorationId });
  return {
    status: 'FETCHED',
    sources: [source],
    requestParameters: { ...requestParameters(ctx), pageLimit: limit },
    job: { dataExplorationId: state.explorationId ?? null, createdAt: state.createdAt ?? null, deliverAs: 'ENTRIES' },
  };
}

async function fetchReport(ctx: PingOneContext, request: ReportRequest, job: JsonObject): Promise<FetchResult> {
  const state = parseJob(ctx, job);
  if (state.explorationId === undefined)
    return restart(state, 'the job has no dataExploration id; requesting the report again');
  if ((state.deliverAs ?? ctx.tenant.deliverAs) === 'ENTRIES') return fetchEntries(ctx, request, state);
  return fetchFiles(ctx, request, state);
}

// ---------------------------------------------------------------------------------------------

function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export const pingOneConnector: Connector<PingOneTenant, PingOneCredentials, PingOneSettings> = {
  vendor: PINGONE_VENDOR,
  displayName: 'PingOne MFA reports',
  settingsSchema: pingOneSettingsSchema,
  credentialsSchema: PingOneCredentialsSchema,
  reports: [mfaDevicesReport],
  queries: pingOneQueries,
  planDates({ scheduledTime, requestedDate }) {
    const snapshot = utcDate(scheduledTime);
    // A snapshot of today cannot stand in for another day: PingOne keeps no device history.
    if (requestedDate !== undefined && requestedDate !== snapshot) return [];
    return [snapshot];
  },
  startJob,
  checkJob,
  fetchReport,
};
