/**
 * One dataExploration job of a PingOne environment: what `job` carries between steps (ids,
 * timestamps, counters; never the zip password or a token), its URLs, and what its status means.
 *
 * 1. IN_PROGRESS (or no status yet) → PENDING, SUCCESS → READY, anything else → FAILED naming it.
 * 2. A job older than PingOne's 2-hour file cache, or one that answers 404, is requested again
 *    (RESTART) rather than polled.
 */
import { z } from 'zod';
import { parseJobState } from '../../core/job-state.ts';
import type { JobResult, JsonObject } from '../../core/types.ts';
import { apiBase, callDataExplorations, readJsonObject } from './client.ts';
import { environmentLabel, type PingOneContext } from './environment.ts';
import { MFA_REPORT_TEMPLATE_ID } from './settings.ts';

/** What travels in `job`: ids, timestamps and counters only. */
const JobStateSchema = z.looseObject({
  explorationId: z.string().min(1).optional(),
  deliverAs: z.enum(['ASYNC_FILE', 'ENTRIES']).optional(),
  createdAt: z.string().optional(),
  lastCallAt: z.string().optional(),
  checks: z.number().int().min(0).default(0),
  linkRefreshes: z.number().int().min(0).default(0),
});
export type JobState = z.infer<typeof JobStateSchema>;

const STATUS_TEXT = /^[A-Z0-9_]{1,40}$/;

export function parseJob(ctx: PingOneContext, job: JsonObject): JobState {
  return parseJobState(
    JobStateSchema,
    job,
    (problems) => `pingone ${environmentLabel(ctx)}: the job state is malformed (${problems})`,
  );
}

export function jobOut(state: JobState): JsonObject {
  const out: JsonObject = { checks: state.checks, linkRefreshes: state.linkRefreshes };
  if (state.explorationId !== undefined) out.explorationId = state.explorationId;
  if (state.deliverAs !== undefined) out.deliverAs = state.deliverAs;
  if (state.createdAt !== undefined) out.createdAt = state.createdAt;
  if (state.lastCallAt !== undefined) out.lastCallAt = state.lastCallAt;
  return out;
}

export function explorationsUrl(ctx: PingOneContext, suffix = ''): string {
  return `${apiBase(ctx)}/environments/${encodeURIComponent(ctx.tenant.environmentId)}/dataExplorations${suffix}`;
}

export function explorationUrl(ctx: PingOneContext, id: string, suffix = ''): string {
  return explorationsUrl(ctx, `/${encodeURIComponent(id)}${suffix}`);
}

export function pollWaitSeconds(ctx: PingOneContext): number {
  return Math.max(ctx.settings.poll.intervalSeconds, Math.ceil(ctx.settings.callIntervalMs / 1000), 1);
}

export function statusText(value: unknown): string {
  if (typeof value === 'string' && STATUS_TEXT.test(value)) return value;
  const shown = JSON.stringify(value ?? null) ?? 'undefined';
  return shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
}

/** The job is older than PingOne's file cache: ask again instead of polling a stale one. */
export function tooOld(ctx: PingOneContext, state: JobState): boolean {
  if (state.createdAt === undefined) return false;
  const created = Date.parse(state.createdAt);
  if (!Number.isFinite(created)) return false;
  return ctx.now().getTime() - created >= ctx.settings.fileCacheMinutes * 60_000;
}

export function restart(state: JobState, reason: string): JobResult {
  return { status: 'RESTART', job: jobOut({ ...state, explorationId: undefined, createdAt: undefined }), reason };
}

export function requestParameters(ctx: PingOneContext): JsonObject {
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
export function manifestJob(body: Record<string, unknown>, extra: JsonObject): JsonObject {
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

export async function getExploration(
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

export function fromStatus(ctx: PingOneContext, state: JobState, status: unknown, step: string): JobResult {
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
