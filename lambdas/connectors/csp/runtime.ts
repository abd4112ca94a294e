/**
 * VMware Cloud Services (CSP) runtime: the principal MFA audit log of one user's token.
 *
 * 1. There is no vendor job. `startJob` checks, before anything is sent, that the report date's
 *    UTC day has ended (SKIPPED otherwise) and that the filters can be sent (FAILED otherwise);
 *    `checkJob` answers READY.
 * 2. `fetchReport` exchanges the API token (failing early on a bad one) and hands the archiver
 *    two sources fed by one paging pass when opened (see `audit-stream.ts`): the page bodies as
 *    received (the original) and the events as NDJSON (derived: parsed, not stored).
 * 3. Re-runs are safe: the plan step skips archived dates, and a forced re-run of a date reads
 *    the same closed window and writes the same keys (dt = the window's day, tenant).
 */
import { DAY_MS, isCalendarDate } from '../../core/dates.ts';
import { VendorRequestError } from '../../core/errors.ts';
import type { JobResult, JsonObject, ReportRequest, RuntimeOf } from '../../core/types.ts';
import { formatIssues } from '../../core/zod-issues.ts';
import { requestBody } from './audit-page.ts';
import { type AuditWindow, auditSources, iso, unsendableReason } from './audit-stream.ts';
import type { CachedAccessToken, CspContext, TokenDeps } from './auth.ts';
import { accessToken, tenantName } from './auth.ts';
import type { cspDefinition } from './definition.ts';
import { CspFiltersSchema, MFA_AUDIT_REPORT } from './settings.ts';

export type CspRuntime = RuntimeOf<typeof cspDefinition>;

export interface CspRuntimeDeps {
  /** access tokens by tenant (module scope: reused by warm Lambda invocations) */
  readonly tokenCache?: Map<string, CachedAccessToken>;
  /** wall clock for token lifetimes */
  readonly clock?: () => number;
}

export function createCspRuntime(deps: CspRuntimeDeps = {}): CspRuntime {
  const tokens: TokenDeps = { cache: deps.tokenCache ?? new Map(), clock: deps.clock ?? Date.now };

  return {
    async startJob(ctx, request) {
      return validate(ctx, request);
    },

    async checkJob(ctx, request, job) {
      const result = validate(ctx, request);
      return result.status === 'READY' ? { status: 'READY', job: { ...result.job, ...job } } : result;
    },

    async fetchReport(ctx, request, job) {
      const checked = validate(ctx, request);
      if (checked.status !== 'READY') return checked;
      const day = windowOf(request.date);
      // a bad token fails here, before the archiver starts
      await accessToken(ctx, tokens);
      const filters = CspFiltersSchema.parse(ctx.tenant);
      const paging = { pageLimit: ctx.settings.pageLimit, maxRecordsPerWindow: ctx.settings.maxRecordsPerWindow };
      const requestParameters: JsonObject = {
        endpoint: 'POST /csp/gateway/iam/vmwid/api/principal/mfa/audit',
        startDate: day.startMs,
        endDate: day.endMs,
        windowStart: iso(day.startMs),
        windowEnd: iso(day.endMs),
        ...paging,
        tenantLabel: ctx.tenant.label,
      };
      if (filters.actions) requestParameters.actions = [...filters.actions];
      if (filters.deviceNames) requestParameters.deviceNames = [...filters.deviceNames];
      if (filters.eventIds) requestParameters.eventIds = [...filters.eventIds];
      return {
        status: 'FETCHED',
        sources: auditSources(ctx, tokens, { day, filters, paging, date: request.date }),
        requestParameters,
        job: { ...job, ...checked.job },
      };
    },
  };
}

function validate(ctx: CspContext, request: ReportRequest): JobResult {
  const who = tenantName(ctx.tenant);
  if (request.report !== MFA_AUDIT_REPORT) {
    return { status: 'FAILED', job: {}, reason: `unknown report "${request.report}"; expected ${MFA_AUDIT_REPORT}` };
  }
  let day: AuditWindow;
  try {
    day = windowOf(request.date);
  } catch (error) {
    return { status: 'FAILED', job: {}, reason: (error as Error).message };
  }
  const job: JsonObject = { windowStartMs: day.startMs, windowEndMs: day.endMs };
  const nowMs = ctx.now().getTime();
  const closedAt = day.endMs + ctx.settings.settleMinutes * 60_000;
  if (nowMs < closedAt) {
    return {
      status: 'SKIPPED',
      job,
      reason:
        `the UTC day ${request.date} is not closed yet (it can be fetched from ${iso(closedAt)}, ` +
        `${ctx.settings.settleMinutes} minutes after it ends; now ${iso(nowMs)}): the MFA audit is archived by closed windows in the past`,
    };
  }
  const filters = CspFiltersSchema.safeParse(ctx.tenant);
  if (!filters.success) {
    return { status: 'FAILED', job, reason: `${who}: invalid filters: ${formatIssues(filters.error)}` };
  }
  const problem = unsendableReason(requestBody(day, 0, ctx.settings.pageLimit, filters.data), nowMs);
  if (problem) return { status: 'FAILED', job, reason: `${who}: ${problem}` };
  return { status: 'READY', job };
}

/** The report date's UTC day as [start, end) in epoch ms. */
export function windowOf(date: string): AuditWindow {
  if (!isCalendarDate(date)) {
    throw new VendorRequestError(`report date must be a calendar date YYYY-MM-DD; received ${JSON.stringify(date)}`);
  }
  const startMs = Date.parse(`${date}T00:00:00Z`);
  return { startMs, endMs: startMs + DAY_MS };
}
