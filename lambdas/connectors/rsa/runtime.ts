/**
 * RSA ID Plus / SecurID Cloud Administration report runtime.
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
 */
import { z } from 'zod';
import { type HttpResponse, parseRetryAfter } from '../../core/http/index.ts';
import { parseJobState } from '../../core/job-state.ts';
import type { FetchResult, JobResult, JsonObject, ReportRequest, ReportSource, RuntimeOf } from '../../core/types.ts';
import { bodyText, type Call, callRsa, drain, type RsaContext, refused, unexpected } from './client.ts';
import type { rsaDefinition } from './definition.ts';
import { isGeneratedReport, REPORT_FILE_NAMES, type RsaReportName } from './records.ts';
import { DOWNLOAD_INTERVAL_SECONDS } from './settings.ts';

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

/** Read leniently: a job from an older version, or none, starts its counters at 0. */
const Counter = z.unknown().optional().transform(num);
const JobStateSchema = z.object({
  generate: z.enum(['created', 'existing']).optional().catch(undefined),
  generatedAt: z.string().optional().catch(undefined),
  regenerated: Counter,
  downloadAttempts: Counter,
  notReady: Counter,
  throttled: Counter,
});

function readJob(report: string, job: JsonObject | undefined): RsaJob {
  // Every field has a fallback, so this never throws.
  const state = parseJobState(JobStateSchema, job, (problems) => `rsa: the job state is malformed (${problems})`);
  return {
    flow: isGeneratedReport(report) ? 'generate-then-download' : 'generate-and-download',
    ...(state.generate ? { generate: state.generate } : {}),
    ...(state.generatedAt !== undefined ? { generatedAt: state.generatedAt } : {}),
    regenerated: state.regenerated,
    downloadAttempts: state.downloadAttempts,
    notReady: state.notReady,
    throttled: state.throttled,
  };
}

const asJson = (job: RsaJob): JsonObject => ({ ...job });

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

export function createRsaRuntime(): RuntimeOf<typeof rsaDefinition> {
  return { startJob, checkJob, fetchReport };
}
