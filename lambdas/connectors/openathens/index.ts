/**
 * OpenAthens reports API: daily raw statistics per organisation (one API key and API name each).
 *
 * 1. `planDates`: yesterday (UTC) plus every unarchived day still inside the 30-day window;
 *    `datesAtRisk` feeds the alarm for days about to age out unarchived.
 * 2. `startJob`: refuses a date outside the window without calling the vendor, else
 *    `GET {base}/{apiName}/rawreport?date=D`. FINISHED with a DOWN link → READY; RUNNING with a
 *    SELF link → PENDING (the state machine waits `poll.intervalSeconds`, 20 s by default).
 * 3. `checkJob`: follows the SELF (`rawtask/{id}`) link the same way; 404 → RESTART.
 * 4. `fetchReport`: opens the DOWN link; the archiver core sniffs gzip, zip or plain CSV.
 *
 * Links are chosen by `rel`, never by position. The API key goes only to the base URL's host and
 * never into `job`, a log line or an error; errors name the organisation (tenant id, API name).
 */
import { z } from 'zod';
import { VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import type { HttpResponse } from '../../core/http/index.ts';
import { redact, redactUrl } from '../../core/logging.ts';
import { TenantBaseSchema, vendorSectionSchema } from '../../core/settings.ts';
import type {
  Connector,
  ConnectorContext,
  FetchResult,
  JobResult,
  JsonObject,
  ReportRequest,
} from '../../core/types.ts';
import { checkRawReportDate, planRawReportDates, RAW_REPORT_WINDOW_DAYS, rawReportDatesAtRisk } from './dates.ts';
import { openAthensQueries } from './queries.ts';
import { rawStatisticsReport } from './records.ts';

export const OPENATHENS_VENDOR = 'openathens';
export const OPENATHENS_DEFAULT_BASE_URL = 'https://reports.openathens.net/api/v1';
export const TASK_MEDIA_TYPE = 'application/vnd.eduserv.iam.reports.task-v1+json';

/** The domain's API name as it appears in the URL path (usually the federation scope, e.g. example.org). */
const API_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** Strict: a typo ("apiname") or a key pasted into the config ("apiKey") is refused, not ignored. */
export const OpenAthensTenantSchema = TenantBaseSchema.extend({
  apiName: z
    .string()
    .regex(
      API_NAME,
      'expected the OpenAthens API name of the organisation, such as "example.org" (letters, digits, ".", "_", "-")',
    ),
}).strict();

export const openAthensSettingsSchema = vendorSectionSchema({
  tenant: OpenAthensTenantSchema,
  reports: ['raw_statistics'] as const,
  defaults: {
    baseUrl: OPENATHENS_DEFAULT_BASE_URL,
    // Days are UTC; 01:30 leaves a buffer for yesterday's data to settle.
    schedule: 'cron(30 1 * * ? *)',
    // The docs suggest 20 s between polls; 90 polls ≈ 30 minutes, under an hour's deadline.
    poll: { intervalSeconds: 20, maxAttempts: 90, deadlineMinutes: 60 },
  },
  // Given explicitly: left out, TExtra widens to an index signature and the settings type to unknown.
  extra: {},
});

/** The Secrets Manager secret of one organisation: `{ "apiKey": "..." }`. */
export const OpenAthensCredentialsSchema = z.object({
  apiKey: z
    .string()
    .min(1, 'expected apiKey: the organisation API key with the Reports API (or Full access) permission')
    .regex(/^[\x21-\x7e]+$/, 'expected apiKey without spaces, line breaks or non-ASCII characters'),
});

export type OpenAthensTenant = z.infer<typeof OpenAthensTenantSchema>;
export type OpenAthensSettings = z.infer<typeof openAthensSettingsSchema>;
export type OpenAthensCredentials = z.infer<typeof OpenAthensCredentialsSchema>;
export type OpenAthensContext = ConnectorContext<OpenAthensTenant, OpenAthensCredentials, OpenAthensSettings>;

const TaskLinkSchema = z.looseObject({
  href: z.string().min(1),
  rel: z.string(),
  type: z.string().optional(),
  method: z.string().optional(),
});

const TaskSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).optional(),
  status: z.string().min(1),
  percentComplete: z.number().optional(),
  links: z.array(TaskLinkSchema).default([]),
});

type Task = z.infer<typeof TaskSchema>;

/** What travels in `job`: ids, link paths without query strings, counters. */
const JobStateSchema = z.looseObject({
  taskId: z.string().optional(),
  taskHref: z.string().optional(),
  reportHref: z.string().optional(),
  percentComplete: z.number().optional(),
  checks: z.number().int().min(0).default(0),
});

type JobState = z.infer<typeof JobStateSchema>;

function organisation(ctx: OpenAthensContext): string {
  return `organisation "${ctx.tenant.id}" (api name "${ctx.tenant.apiName}")`;
}

function baseWithoutSlash(ctx: OpenAthensContext): string {
  return ctx.baseUrl.replace(/\/+$/, '');
}

async function apiKey(ctx: OpenAthensContext): Promise<string> {
  return (await ctx.credentials()).apiKey;
}

function headersFor(key: string): Record<string, string> {
  return { authorization: `OAApiKey ${key}`, accept: `${TASK_MEDIA_TYPE}, application/json;q=0.9, */*;q=0.8` };
}

/** Prefixes the organisation to a shared error (same class, so Retry/Catch still match) and scrubs the key. */
function aboutOrganisation(ctx: OpenAthensContext, error: unknown, key: string | undefined): unknown {
  if (!(error instanceof Error)) return error;
  const secrets = key ? [key] : [];
  const prefix = `openathens ${organisation(ctx)}: `;
  const message = redact(error.message, secrets);
  error.message = message.startsWith(prefix) ? message : `${prefix}${message}`;
  if (error.stack) error.stack = redact(error.stack, secrets);
  return error;
}

async function readSnippet(response: HttpResponse, key: string): Promise<string> {
  try {
    // redacted before it is shortened: a key cut in two would no longer match
    const text = redact(await response.text(), [key])
      .replace(/\s+/g, ' ')
      .trim();
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return '';
  }
}

const AUTH_HINTS: Record<string, string> = {
  badCredentials: 'the API key is wrong, disabled or expired',
  accountExpired: 'the account that owns the API key has expired',
  invalidIP: 'the API key may not be used from this IP address',
};

/** 401/403 end this organisation's run: never retried, never naming the key. */
async function raiseAuthError(
  ctx: OpenAthensContext,
  response: HttpResponse,
  operation: string,
  key: string,
): Promise<never> {
  const text = await readSnippet(response, key);
  if (response.status === 403) {
    throw new VendorAuthError(
      `openathens ${organisation(ctx)}: ${operation} was forbidden (403): expected the reports API to be enabled for this organisation and a key with the Reports API or Full access permission${text ? `; vendor said ${text}` : ''}`,
    );
  }
  let reason = 'unknown';
  let vendorMessage = '';
  try {
    const body = JSON.parse(text) as { reason?: unknown; message?: unknown };
    if (typeof body.reason === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(body.reason)) reason = body.reason;
    if (typeof body.message === 'string') vendorMessage = body.message;
  } catch {
    vendorMessage = text;
  }
  const hint = AUTH_HINTS[reason] ?? 'the API key was refused';
  throw new VendorAuthError(
    `openathens ${organisation(ctx)}: ${operation} was refused (401 ${reason}): ${hint}${vendorMessage ? `; vendor said ${JSON.stringify(vendorMessage)}` : ''}`,
  );
}

/** One API call with the organisation named in any error it raises. */
async function callApi(
  ctx: OpenAthensContext,
  key: string,
  operation: string,
  url: URL,
  acceptStatus: readonly number[],
): Promise<HttpResponse> {
  try {
    return await ctx.http.request({
      method: 'GET',
      url,
      headers: headersFor(key),
      operation,
      secrets: [key],
      acceptStatus: [401, 403, ...acceptStatus],
    });
  } catch (error) {
    throw aboutOrganisation(ctx, error, key);
  }
}

async function readTask(ctx: OpenAthensContext, response: HttpResponse, operation: string, key: string): Promise<Task> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw aboutOrganisation(ctx, error, key);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const start = redact(text, [key]).replace(/\s+/g, ' ').slice(0, 80);
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: ${operation} answered ${response.status} with a body that is not JSON (expected a ${TASK_MEDIA_TYPE} task); received ${JSON.stringify(start)}`,
    );
  }
  const parsed = TaskSchema.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: ${operation} answered a task that does not match the documented shape (status, links[rel, href]); problems at: ${fields}`,
    );
  }
  return parsed.data;
}

/** `scheme://host/path` of a link, resolved against the response that carried it. */
function linkHref(ctx: OpenAthensContext, task: Task, rel: string, responseUrl: string): string | undefined {
  const link = task.links.find((candidate) => candidate.rel.toUpperCase() === rel);
  if (!link) return undefined;
  let url: URL;
  try {
    url = new URL(link.href, responseUrl);
  } catch {
    throw new VendorRequestError(`openathens ${organisation(ctx)}: the ${rel} link is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: the ${rel} link must be http(s); received ${JSON.stringify(url.protocol)}`,
    );
  }
  if (url.search !== '') {
    // Documented links carry no query string; `job` must never hold one (it could be a signature).
    ctx.logger.warn('link query string dropped', { rel, parameters: [...url.searchParams.keys()] });
  }
  return redactUrl(url);
}

function taskIdOf(task: Task): string | undefined {
  return task.id === undefined ? undefined : String(task.id);
}

/** FINISHED+DOWN → READY; RUNNING+SELF → PENDING; anything else → FAILED naming what came back. */
function interpretTask(
  ctx: OpenAthensContext,
  request: ReportRequest,
  task: Task,
  responseUrl: string,
  previous: JobState,
): JobResult {
  const taskId = taskIdOf(task) ?? previous.taskId;
  const status = task.status.toUpperCase();
  const checks = previous.checks;
  const about = `openathens ${organisation(ctx)}: raw report task ${taskId ?? '(no id)'} for ${request.date}`;
  const base: JsonObject = { checks };
  if (taskId !== undefined) base.taskId = taskId;
  if (task.percentComplete !== undefined) base.percentComplete = task.percentComplete;

  if (status === 'FINISHED') {
    const reportHref = linkHref(ctx, task, 'DOWN', responseUrl);
    if (!reportHref) {
      return { status: 'FAILED', job: base, reason: `${about} is FINISHED but has no DOWN link to the report` };
    }
    ctx.logger.info('raw report ready', { taskId, checks });
    return { status: 'READY', job: { ...base, reportHref } };
  }
  if (status === 'RUNNING') {
    const taskHref = linkHref(ctx, task, 'SELF', responseUrl) ?? previous.taskHref;
    if (!taskHref) {
      return { status: 'FAILED', job: base, reason: `${about} is RUNNING but has no SELF link to poll` };
    }
    ctx.logger.info('raw report running', { taskId, percentComplete: task.percentComplete, checks });
    return { status: 'PENDING', job: { ...base, taskHref }, waitSeconds: ctx.settings.poll.intervalSeconds };
  }
  const shown = task.status.length > 40 ? `${task.status.slice(0, 40)}…` : task.status;
  return {
    status: 'FAILED',
    job: base,
    reason: `${about} reported status ${JSON.stringify(shown)}; expected RUNNING or FINISHED`,
  };
}

async function startJob(ctx: OpenAthensContext, request: ReportRequest): Promise<JobResult> {
  const window = checkRawReportDate(request.date, ctx.now());
  if (!window.ok) {
    return { status: 'FAILED', job: { checks: 0 }, reason: `openathens ${organisation(ctx)}: ${window.reason}` };
  }
  const key = await apiKey(ctx);
  const url = new URL(`${baseWithoutSlash(ctx)}/${encodeURIComponent(ctx.tenant.apiName)}/rawreport`);
  url.searchParams.set('date', request.date);
  const operation = 'request raw report';
  const response = await callApi(ctx, key, operation, url, [400, 404]);
  if (response.status === 401 || response.status === 403) return raiseAuthError(ctx, response, operation, key);
  if (response.status === 400) {
    // The vendor's own window or validation disagrees with ours (clock skew, a changed window).
    const text = await readSnippet(response, key);
    return {
      status: 'FAILED',
      job: { checks: 0 },
      reason: `openathens ${organisation(ctx)}: the raw report for ${request.date} was refused (400)${text ? `: ${text}` : ''}`,
    };
  }
  if (response.status === 404) {
    const text = await readSnippet(response, key);
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: ${operation} answered 404: expected "${ctx.tenant.apiName}" to be the organisation's API name${text ? `; vendor said ${text}` : ''}`,
    );
  }
  const task = await readTask(ctx, response, operation, key);
  return interpretTask(ctx, request, task, response.url, { checks: 0 });
}

function readJobState(ctx: OpenAthensContext, job: JsonObject): JobState {
  const parsed = JobStateSchema.safeParse(job);
  if (!parsed.success) {
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: job state does not match the connector's shape (taskId, taskHref, reportHref, checks)`,
    );
  }
  return parsed.data;
}

async function checkJob(ctx: OpenAthensContext, request: ReportRequest, job: JsonObject): Promise<JobResult> {
  const state = readJobState(ctx, job);
  if (state.reportHref) return { status: 'READY', job };
  if (!state.taskHref) {
    return { status: 'RESTART', job: { checks: state.checks }, reason: 'job has no task link to poll: start again' };
  }
  const key = await apiKey(ctx);
  const operation = 'check raw report task';
  const response = await callApi(ctx, key, operation, new URL(state.taskHref), [404]);
  if (response.status === 401 || response.status === 403) return raiseAuthError(ctx, response, operation, key);
  const next = { ...state, checks: state.checks + 1 };
  if (response.status === 404) {
    await readSnippet(response, key);
    return {
      status: 'RESTART',
      job: { checks: next.checks },
      reason: `openathens ${organisation(ctx)}: raw report task ${state.taskId ?? '(no id)'} is gone (404): start again`,
    };
  }
  const task = await readTask(ctx, response, operation, key);
  return interpretTask(ctx, request, task, response.url, next);
}

function rawStatsFileName(date: string): string {
  return `rawstats_${date}.csv`;
}

async function fetchReport(ctx: OpenAthensContext, request: ReportRequest, job: JsonObject): Promise<FetchResult> {
  const state = readJobState(ctx, job);
  if (!state.reportHref) {
    return { status: 'RESTART', job: { checks: state.checks }, reason: 'job has no DOWN link: start again' };
  }
  const key = await apiKey(ctx);
  const url = new URL(state.reportHref);
  url.searchParams.set('filename', rawStatsFileName(request.date));
  // The key only ever goes to the API's own host, not to a download host the link might name.
  const sameHost = url.host === new URL(ctx.baseUrl).host;
  const operation = 'download raw report';
  const source = {
    // The format (gzip, zip or CSV) is only known from the bytes: the core sniffs it.
    fileName: `rawstats_${request.date}`,
    role: 'data' as const,
    async open() {
      let response: HttpResponse;
      try {
        response = await ctx.http.request({
          method: 'GET',
          url,
          headers: sameHost ? headersFor(key) : { accept: '*/*' },
          operation,
          secrets: [key],
          acceptStatus: [401, 403],
        });
      } catch (error) {
        throw aboutOrganisation(ctx, error, key);
      }
      if (response.status === 401 || response.status === 403) return raiseAuthError(ctx, response, operation, key);
      const length = Number(response.headers['content-length']);
      ctx.logger.info('raw report download opened', {
        taskId: state.taskId,
        contentType: response.headers['content-type'],
        contentLength: Number.isFinite(length) ? length : undefined,
      });
      return {
        body: response.body,
        contentType: response.headers['content-type'],
        contentLength: Number.isFinite(length) ? length : undefined,
      };
    },
  };
  const manifestJob: JsonObject = { checks: state.checks, reportHref: state.reportHref };
  if (state.taskId !== undefined) manifestJob.taskId = state.taskId;
  return {
    status: 'FETCHED',
    sources: [source],
    requestParameters: {
      apiName: ctx.tenant.apiName,
      date: request.date,
      endpoint: 'rawreport',
      filename: rawStatsFileName(request.date),
    },
    job: manifestJob,
  };
}

export const openathensConnector: Connector<OpenAthensTenant, OpenAthensCredentials, OpenAthensSettings> = {
  vendor: OPENATHENS_VENDOR,
  displayName: 'OpenAthens',
  settingsSchema: openAthensSettingsSchema,
  credentialsSchema: OpenAthensCredentialsSchema,
  reports: [rawStatisticsReport],
  queries: openAthensQueries,
  // Every scheduled run already fetches each missing day of the window; backfill is for by hand.
  // No rate limit is documented: 30 s between executions keeps the load polite.
  backfill: { spacingSeconds: 30, historyDays: RAW_REPORT_WINDOW_DAYS },
  planDates: planRawReportDates,
  datesAtRisk: rawReportDatesAtRisk,
  startJob,
  checkJob,
  fetchReport,
};
