/**
 * PingOne MFA reports (dataExplorations) runtime: start, check and fetch one environment's report.
 *
 * 1. `startJob`: `POST {api}/environments/{env}/dataExplorations` with the MFA template, the
 *    tenant's `deliverAs`, `fields` and `filter`. ASYNC_FILE → PENDING (IN_PROGRESS) or READY;
 *    ENTRIES → READY.
 * 2. `checkJob`: `GET .../dataExplorations/{id}`: IN_PROGRESS → PENDING, SUCCESS → READY, 404 or
 *    older than the 2-hour file cache → RESTART, any other status → FAILED naming it.
 * 3. `fetchReport`: by delivery mode, `file-mode.ts` (zipped CSV + JSON behind pre-signed links)
 *    or `entries-mode.ts` (paged JSON).
 *
 * Every dataExplorations call for an environment is at least `callIntervalMs` (5 s) after the
 * previous one, across invocations too (`job.lastCallAt`): see client.ts.
 */
import { VendorRequestError } from '../../core/errors.ts';
import type { FetchResult, JobResult, JsonObject, ReportRequest, RuntimeOf } from '../../core/types.ts';
import { callDataExplorations, raiseRequestError, readJsonObject } from './client.ts';
import type { pingOneDefinition } from './definition.ts';
import { fetchEntries } from './entries-mode.ts';
import { environmentLabel, type PingOneContext } from './environment.ts';
import { fetchFiles } from './file-mode.ts';
import {
  explorationsUrl,
  fromStatus,
  getExploration,
  type JobState,
  jobOut,
  parseJob,
  restart,
  statusText,
  tooOld,
} from './job.ts';
import { MFA_REPORT_TEMPLATE_ID } from './settings.ts';

async function startJob(ctx: PingOneContext, request: ReportRequest): Promise<JobResult> {
  const deliverAs = ctx.tenant.deliverAs;
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

async function fetchReport(ctx: PingOneContext, request: ReportRequest, job: JsonObject): Promise<FetchResult> {
  const state = parseJob(ctx, job);
  if (state.explorationId === undefined)
    return restart(state, 'the job has no dataExploration id; requesting the report again');
  if ((state.deliverAs ?? ctx.tenant.deliverAs) === 'ENTRIES') return fetchEntries(ctx, request, state);
  return fetchFiles(ctx, request, state);
}

export function createPingOneRuntime(): RuntimeOf<typeof pingOneDefinition> {
  return { startJob, checkJob, fetchReport };
}
