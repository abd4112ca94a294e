/**
 * OpenAthens reports API runtime: daily raw statistics per organisation.
 *
 * 1. `startJob`: skips a date outside the 30-day window with the reason, without calling the
 *    vendor (a requested date not over yet, or aged out: nothing failed, it cannot be had), else
 *    `GET {base}/{apiName}/rawreport?date=D`. FINISHED with a DOWN link → READY; RUNNING with a
 *    SELF link → PENDING (the state machine waits `poll.intervalSeconds`, 20 s by default).
 * 2. `checkJob`: follows the SELF (`rawtask/{id}`) link the same way; 404 → RESTART.
 * 3. `fetchReport`: opens the DOWN link; the archiver core sniffs gzip, zip or plain CSV.
 *
 * The API key goes only to the base URL's host and never into `job`, a log line or an error;
 * errors name the organisation (tenant id, API name).
 */
import { z } from 'zod';
import { VendorRequestError } from '../../core/errors.ts';
import type { HttpResponse } from '../../core/http/index.ts';
import { parseJobState } from '../../core/job-state.ts';
import type { FetchResult, JobResult, JsonObject, ReportRequest, RuntimeOf } from '../../core/types.ts';
import {
  aboutOrganisation,
  apiKey,
  baseWithoutSlash,
  callApi,
  headersFor,
  linkHref,
  type OpenAthensContext,
  organisation,
  raiseAuthError,
  readSnippet,
  readTask,
  type Task,
  taskIdOf,
} from './client.ts';
import { checkRawReportDate } from './dates.ts';
import type { openAthensDefinition } from './definition.ts';

/** What travels in `job`: ids, link paths without query strings, counters. */
const JobStateSchema = z.looseObject({
  taskId: z.string().optional(),
  taskHref: z.string().optional(),
  reportHref: z.string().optional(),
  percentComplete: z.number().optional(),
  checks: z.number().int().min(0).default(0),
});

type JobState = z.infer<typeof JobStateSchema>;

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
    return { status: 'SKIPPED', job: { checks: 0 }, reason: `openathens ${organisation(ctx)}: ${window.reason}` };
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
  return parseJobState(
    JobStateSchema,
    job,
    () =>
      `openathens ${organisation(ctx)}: job state does not match the connector's shape (taskId, taskHref, reportHref, checks)`,
  );
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

export function createOpenAthensRuntime(): RuntimeOf<typeof openAthensDefinition> {
  return { startJob, checkJob, fetchReport };
}
