/**
 * RSA ID Plus / SecurID Cloud Administration report connector.
 *
 * 1. Generate then download (`users`, `hardware_tokens`, `mfa_clients`): StartJob POSTs
 *    `.../report/{type}/generate`. 201: wait `initialWaitSeconds` (PENDING). 429: a report from
 *    the last 8 hours exists, go and download it (READY).
 * 2. CheckJob makes no call: the download attempt is the check, so it answers READY.
 * 3. FetchReport GETs `.../download`. 200: the CSV is handed to the archiver. 425 (not generated
 *    yet): PENDING for `poll.intervalSeconds`. 429 (this tenant downloaded less than 15 minutes
 *    ago): PENDING for at least 15 minutes. 404 (never generated): RESTART once so StartJob
 *    generates, FAILED the second time.
 * 4. Generate-and-download (`admin_users`, `radius_clients`): StartJob is READY without a call;
 *    FetchReport's one GET returns the CSV. 429 (8-hour window) is SKIPPED, 400 FAILED.
 * 5. 403 is read: "MFA tracking is turned off" fails with VendorRequestError, anything else with
 *    VendorAuthError (key, role or clock). Every request carries a fresh RS256 JWT.
 */
import { ConfigError, DisallowedHostError, VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import { type HttpResponse, parseRetryAfter } from '../../core/http/index.ts';
import { redact } from '../../core/logging.ts';
import type {
  Connector,
  ConnectorContext,
  FetchResult,
  JobResult,
  JsonObject,
  ReportRequest,
  ReportSource,
} from '../../core/types.ts';
import {
  apiBase,
  type ReportAction,
  type RsaCredentials,
  RsaCredentialsSchema,
  reportUrl,
  signAdminJwt,
} from './auth.ts';
import { RSA_QUERIES } from './queries.ts';
import { isGeneratedReport, REPORT_FILE_NAMES, RSA_REPORT_DEFINITIONS, type RsaReportName } from './records.ts';
import { DOWNLOAD_INTERVAL_SECONDS, type RsaSection, RsaSettingsSchema, type RsaTenant } from './settings.ts';

export type { RsaCredentials } from './auth.ts';
export type { RsaSection, RsaTenant } from './settings.ts';

type RsaContext = ConnectorContext<RsaTenant, RsaCredentials, RsaSection>;

/** Statuses RSA gives a meaning to; anything else non-2xx raises in the HTTP client. */
const MEANINGFUL_STATUSES = [400, 403, 404, 425, 429] as const;
const ERROR_BODY_CHARS = 200;

/** What travels in `job`: the flow, what generate answered and counters. No secrets. */
interface RsaJob {
  readonly flow: 'generate-then-download' | 'generate-and-download';
  /** `created`: 201 in this run; `existing`: 429, a report from the last 8 hours */
  readonly generate?: 'created' | 'existing';
  readonly generatedAt?: string;
  /** how many times a 404 on download sent the job back to generate */
  readonly regenerated: number;
  readonly downloadAttempts: number;
  readonly notReady: number;
  readonly throttled: number;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}

function readJob(report: string, job: JsonObject | undefined): RsaJob {
  const generate = job?.generate === 'created' || job?.generate === 'existing' ? job.generate : undefined;
  return {
    flow: isGeneratedReport(report) ? 'generate-then-download' : 'generate-and-download',
    ...(generate ? { generate } : {}),
    ...(typeof job?.generatedAt === 'string' ? { generatedAt: job.generatedAt } : {}),
    regenerated: num(job?.regenerated),
    downloadAttempts: num(job?.downloadAttempts),
    notReady: num(job?.notReady),
    throttled: num(job?.throttled),
  };
}

const asJson = (job: RsaJob): JsonObject => ({ ...job });

interface Call {
  readonly response: HttpResponse;
  readonly url: URL;
  readonly jwt: string;
}

/** One signed request to a report endpoint; the documented error statuses are returned, not raised. */
async function callRsa(ctx: RsaContext, request: ReportRequest, action: ReportAction): Promise<Call> {
  // Errors pass through as raised: the credentials step names the field, and a throttled
  // Secrets Manager must stay retryable.
  const credentials = await ctx.credentials();
  const url = reportUrl(apiBase(credentials.adminRestApiUrl, ctx.tenant.baseUrl), request.report, action);
  const jwt = await signAdminJwt(credentials, ctx.now());
  const method = action === 'generate' ? 'POST' : 'GET';
  try {
    const response = await ctx.http.request({
      method,
      url,
      headers: {
        authorization: `Bearer ${jwt}`,
        accept: action === 'generate' ? 'application/json' : 'application/octet-stream, text/csv, */*',
      },
      // The docs say "empty payload"; an explicit empty body sends content-length: 0, not chunked.
      ...(method === 'POST' ? { body: '' } : {}),
      acceptStatus: MEANINGFUL_STATUSES,
      operation: `rsa ${action} ${request.report}`,
      secrets: [jwt],
    });
    return { response, url, jwt };
  } catch (error) {
    if (error instanceof Error && error.name === 'DisallowedHostError' && !error.message.includes('redirect')) {
      throw new DisallowedHostError(
        `the host ${url.host} of RSA tenant "${ctx.tenant.id}" (from the key file's adminRestApiUrl${ctx.tenant.baseUrl ? ' and the tenant baseUrl' : ''}) is not allowed: add it to the config as vendors.rsa.baseUrl, the tenant's baseUrl or an entry of vendors.rsa.downloadHosts`,
      );
    }
    throw error;
  }
}

async function bodyText(response: HttpResponse, jwt: string): Promise<string> {
  try {
    const text = await response.text();
    const flat = redact(text, [jwt]).replace(/\s+/g, ' ').trim();
    return flat.length > ERROR_BODY_CHARS ? `${flat.slice(0, ERROR_BODY_CHARS)}…` : flat;
  } catch {
    return '';
  }
}

async function drain(response: HttpResponse): Promise<void> {
  try {
    await response.text();
  } catch {
    // the status is the news; a broken body of an error answer changes nothing
  }
}

const MFA_TRACKING_OFF = /mfa\s*tracking[^.]{0,40}?\b(turned\s*off|off|disabled|not\s+enabled)\b/i;

/** 403: MFA tracking off (a tenant setting) or refused credentials. Always throws. */
async function refused(ctx: RsaContext, request: ReportRequest, call: Call, action: ReportAction): Promise<never> {
  const body = await bodyText(call.response, call.jwt);
  const shown = body === '' ? '<empty>' : body;
  if (MFA_TRACKING_OFF.test(body)) {
    ctx.logger.error('rsa mfa tracking is off', { report: request.report, action, status: 403 });
    throw new VendorRequestError(
      `MFA tracking is turned off for tenant ${ctx.tenant.id}: RSA answered 403 to ${action} ${request.report} (body: ${shown}); ` +
        'a Super Administrator must turn MFA tracking on in the Cloud Administration Console before this report can be archived',
    );
  }
  ctx.logger.error('rsa refused the credentials', { report: request.report, action, status: 403 });
  throw new VendorAuthError(
    `RSA refused the request for tenant ${ctx.tenant.id}: HTTP 403 to ${action} ${request.report} (body: ${shown}); ` +
      'expected a valid JWT from an Administration API key of a Super Administrator or Help Desk Administrator: check the key file ' +
      '(accessID, accessKey, adminRestApiUrl; a regenerated key replaces the old one) and the clock',
  );
}

async function unexpected(call: Call, action: ReportAction, report: string, documented: string): Promise<never> {
  const body = await bodyText(call.response, call.jwt);
  throw new VendorRequestError(
    `rsa ${action} ${report}: expected HTTP ${documented}; received ${call.response.status} (body: ${body === '' ? '<empty>' : body})`,
  );
}

/** `Content-Disposition: attachment; filename="x.csv"` when the name is plain, else RSA's example name. */
function fileNameOf(response: HttpResponse, report: RsaReportName): string {
  const header = response.headers['content-disposition'] ?? '';
  const name = /filename="?([A-Za-z0-9._-]{1,100})"?/i.exec(header)?.[1];
  return name && !name.startsWith('.') ? name : REPORT_FILE_NAMES[report];
}

function fetched(request: ReportRequest, call: Call, job: RsaJob): FetchResult {
  const { response } = call;
  const source: ReportSource = {
    fileName: fileNameOf(response, request.report as RsaReportName),
    role: 'data',
    open: async () => ({
      body: response.body,
      ...(response.headers['content-type'] ? { contentType: response.headers['content-type'] } : {}),
      ...(/^\d+$/.test(response.headers['content-length'] ?? '')
        ? { contentLength: Number(response.headers['content-length']) }
        : {}),
    }),
  };
  const requestParameters: JsonObject = {
    reportType: request.report,
    method: 'GET',
    endpoint: `${call.url.host}${call.url.pathname}`,
    flow: job.flow,
    ...(job.generate ? { generate: job.generate } : {}),
  };
  return { status: 'FETCHED', sources: [source], requestParameters, job: asJson(job) };
}

async function startJob(ctx: RsaContext, request: ReportRequest, previous?: JsonObject): Promise<JobResult> {
  const carried = readJob(request.report, previous);
  if (!isGeneratedReport(request.report)) {
    return { status: 'READY', job: asJson({ ...carried, flow: 'generate-and-download' }) };
  }
  const call = await callRsa(ctx, request, 'generate');
  const { status } = call.response;
  if (status === 201 || (status >= 200 && status < 300)) {
    await drain(call.response);
    const job: RsaJob = { ...carried, generate: 'created', generatedAt: ctx.now().toISOString() };
    const waitSeconds = ctx.settings.initialWaitSeconds;
    ctx.logger.info('rsa report generation started', { report: request.report, status, waitSeconds });
    return waitSeconds > 0
      ? { status: 'PENDING', waitSeconds, job: asJson(job) }
      : { status: 'READY', job: asJson(job) };
  }
  if (status === 429) {
    // "Only one report can be generated every 8 hours": the last one is there to download.
    await drain(call.response);
    ctx.logger.info('rsa report generated within 8 hours, downloading it', { report: request.report, status });
    return { status: 'READY', job: asJson({ ...carried, generate: 'existing' }) };
  }
  if (status === 403) return refused(ctx, request, call, 'generate');
  if (status === 404) {
    const body = await bodyText(call.response, call.jwt);
    return {
      status: 'FAILED',
      job: asJson(carried),
      reason: `RSA answered 404 to generate ${request.report} for tenant ${ctx.tenant.id}: report not found or not supported by the API yet (body: ${body || '<empty>'})`,
    };
  }
  return unexpected(call, 'generate', request.report, '201, 403, 404 or 429');
}

async function checkJob(_ctx: RsaContext, request: ReportRequest, job: JsonObject): Promise<JobResult> {
  // A download attempt is the only check RSA offers, and each one counts against the
  // 15-minute download limit: FetchReport makes it.
  return { status: 'READY', job: asJson(readJob(request.report, job)) };
}

async function fetchGenerated(ctx: RsaContext, request: ReportRequest, current: RsaJob): Promise<FetchResult> {
  const call = await callRsa(ctx, request, 'download');
  const { status } = call.response;
  const job: RsaJob = { ...current, downloadAttempts: current.downloadAttempts + 1 };
  if (status >= 200 && status < 300) {
    ctx.logger.info('rsa report downloading', { report: request.report, status, attempts: job.downloadAttempts });
    return fetched(request, call, job);
  }
  if (status === 425) {
    await drain(call.response);
    const waitSeconds = ctx.settings.poll.intervalSeconds;
    ctx.logger.info('rsa report not generated yet', { report: request.report, status, waitSeconds });
    return { status: 'PENDING', waitSeconds, job: asJson({ ...job, notReady: job.notReady + 1 }) };
  }
  if (status === 429) {
    const waitSeconds = Math.max(
      DOWNLOAD_INTERVAL_SECONDS,
      ctx.settings.throttleWaitSeconds,
      parseRetryAfter(call.response.headers['retry-after'], ctx.now()) ?? 0,
    );
    await drain(call.response);
    ctx.logger.info('rsa download limit reached, waiting', { report: request.report, status, waitSeconds });
    return { status: 'PENDING', waitSeconds, job: asJson({ ...job, throttled: job.throttled + 1 }) };
  }
  if (status === 404) {
    await drain(call.response);
    if (job.regenerated >= 1) {
      const perTenant =
        job.generate === 'existing'
          ? '; generate answered 429 although no report exists, so RSA may apply its 8-hour generate limit per tenant rather than per report: schedule the generate-then-download reports at least 8 hours apart'
          : '';
      ctx.logger.error('rsa report still not found after generating it again', { report: request.report, status });
      return {
        status: 'FAILED',
        job: asJson(job),
        reason: `RSA answered 404 (report not generated) to download ${request.report} for tenant ${ctx.tenant.id} again after generating it once more${perTenant}`,
      };
    }
    ctx.logger.warn('rsa report not found, generating it', { report: request.report, status });
    return { status: 'RESTART', job: asJson({ ...job, regenerated: job.regenerated + 1 }) };
  }
  if (status === 403) return refused(ctx, request, call, 'download');
  return unexpected(call, 'download', request.report, '200, 403, 404, 425 or 429');
}

async function fetchDirect(ctx: RsaContext, request: ReportRequest, current: RsaJob): Promise<FetchResult> {
  const call = await callRsa(ctx, request, 'generate-and-download');
  const { status } = call.response;
  const job: RsaJob = { ...current, downloadAttempts: current.downloadAttempts + 1 };
  if (status >= 200 && status < 300) {
    ctx.logger.info('rsa report downloading', { report: request.report, status });
    return fetched(request, call, job);
  }
  if (status === 429) {
    await drain(call.response);
    ctx.logger.info('rsa report skipped: 8-hour window', { report: request.report, status });
    return {
      status: 'SKIPPED',
      job: asJson(job),
      reason: `8-hour window has not passed: RSA generates ${request.report} at most once every 8 hours and answered 429 for tenant ${ctx.tenant.id}; the next scheduled run archives it`,
    };
  }
  if (status === 400 || status === 404) {
    const body = await bodyText(call.response, call.jwt);
    return {
      status: 'FAILED',
      job: asJson(job),
      reason: `report does not exist: RSA answered ${status} to generate-and-download ${request.report} for tenant ${ctx.tenant.id} (body: ${body || '<empty>'})`,
    };
  }
  if (status === 403) return refused(ctx, request, call, 'generate-and-download');
  return unexpected(call, 'generate-and-download', request.report, '200, 400, 403 or 429');
}

async function fetchReport(ctx: RsaContext, request: ReportRequest, job: JsonObject): Promise<FetchResult> {
  const current = readJob(request.report, job);
  return isGeneratedReport(request.report) ? fetchGenerated(ctx, request, current) : fetchDirect(ctx, request, current);
}

/**
 * The reports are snapshots of the current state: a run archives today's (the scheduled time's
 * UTC date). Another date cannot be fetched, so asking for one fails the plan with the reason.
 */
function planDates(input: { scheduledTime: Date; requestedDate?: string; archived: ReadonlySet<string> }): string[] {
  const today = input.scheduledTime.toISOString().slice(0, 10);
  if (input.requestedDate !== undefined && input.requestedDate !== today) {
    throw new ConfigError(
      `RSA reports are snapshots of the current state and cannot be fetched for a past or future date: expected date ${today} (the run's scheduled date) or none; received ${input.requestedDate}`,
    );
  }
  return [today];
}

export const rsaConnector = {
  vendor: 'rsa',
  displayName: 'RSA ID Plus / SecurID Cloud Administration',
  settingsSchema: RsaSettingsSchema,
  credentialsSchema: RsaCredentialsSchema,
  reports: RSA_REPORT_DEFINITIONS,
  queries: RSA_QUERIES,
  planDates,
  startJob,
  checkJob,
  fetchReport,
} satisfies Connector<RsaTenant, RsaCredentials, RsaSection>;
