/**
 * Calling one PingOne environment's dataExplorations API: call spacing, retries, error messages.
 *
 * 1. Every call carries the environment's access token (auth.ts). A 401 on a cached token drops
 *    it and asks once more.
 * 2. Every dataExplorations call for an environment goes through one limiter: calls are
 *    serialised and spaced `callIntervalMs` apart, counting from when the previous response
 *    arrived. Across Lambda invocations the spacing is carried in `job.lastCallAt`; with no
 *    history at all (a fresh container starting a job) the first call waits one full interval.
 * 3. 429 and 5xx are retried here, through the limiter, not inside the shared HTTP client: its
 *    backoff (200 ms and up) would break the 5-second rule. A 429 waits its Retry-After (up to
 *    20 s inline; longer ones are raised for the state machine to wait).
 * 4. 401/403 end the environment's run with a message naming it; every error is prefixed with
 *    the environment and scrubbed of the token.
 */
import {
  VendorAuthError,
  VendorRequestError,
  VendorThrottledError,
  VendorUnavailableError,
} from '../../core/errors.ts';
import type { HttpResponse } from '../../core/http/index.ts';
import type { JsonObject } from '../../core/types.ts';
import { accessToken, clearTokenCache, dropToken } from './auth.ts';
import { aboutEnvironment, describeErrorBody, environmentLabel, type PingOneContext } from './environment.ts';
import { normalizeApiBase } from './settings.ts';

/** transient failures (429, 5xx, connection errors) retried inline per dataExplorations call */
const MAX_TRANSIENT_RETRIES = 3;
/** a longer Retry-After is the state machine's to wait */
const MAX_INLINE_RETRY_AFTER_SECONDS = 20;

// Module scope: reused across warm invocations of the same container.
const lastCallByEnvironment = new Map<string, number>();
const queueByEnvironment = new Map<string, Promise<void>>();

/** Forgets cached tokens and call times (tests; a real container never needs it). */
export function resetPingOneClientState(): void {
  clearTokenCache();
  lastCallByEnvironment.clear();
  queueByEnvironment.clear();
}

export function apiBase(ctx: PingOneContext): string {
  return normalizeApiBase(ctx.baseUrl);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Carried in `job` between invocations: when the last dataExplorations call for the environment was answered. */
export interface CallState {
  lastCallAt?: string;
}

/**
 * Runs `call` when the environment's spacing allows, one call at a time per environment, and
 * records when it was answered in the module and in `state`.
 */
async function spaced<T>(
  ctx: PingOneContext,
  state: CallState,
  options: { unknownHistory: boolean; notBefore?: number },
  call: () => Promise<T>,
): Promise<T> {
  const env = ctx.tenant.environmentId.toLowerCase();
  const interval = ctx.settings.callIntervalMs;
  const previous = queueByEnvironment.get(env) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  queueByEnvironment.set(env, tail);
  await previous;
  try {
    const known = [lastCallByEnvironment.get(env), state.lastCallAt ? Date.parse(state.lastCallAt) : undefined].filter(
      (v): v is number => v !== undefined && Number.isFinite(v),
    );
    // No record anywhere (a fresh container starting or restarting a job): assume a call just happened.
    const last = known.length > 0 ? Math.max(...known) : options.unknownHistory ? Date.now() : undefined;
    // A timer may fire a millisecond early by the wall clock: keep a small margin over the rule.
    const margin = Math.max(2, Math.ceil(interval * 0.02));
    const spacingMs = last === undefined ? 0 : Math.min(interval + margin, last + interval + margin - Date.now());
    const waitMs = Math.max(spacingMs, (options.notBefore ?? 0) - Date.now());
    if (waitMs > 0) {
      ctx.logger.debug('spacing dataExplorations call', { waitMs, environmentId: ctx.tenant.environmentId });
      await sleep(waitMs);
    }
    try {
      return await call();
    } finally {
      const answeredAt = Date.now();
      lastCallByEnvironment.set(env, answeredAt);
      state.lastCallAt = new Date(answeredAt).toISOString();
    }
  } finally {
    release();
    if (queueByEnvironment.get(env) === tail) queueByEnvironment.delete(env);
  }
}

export interface ApiCall {
  readonly method: 'GET' | 'POST';
  /** absolute URL on the API host */
  readonly url: string;
  readonly json?: JsonObject;
  readonly operation: string;
  /** statuses returned instead of raised (401/403 are always handled here) */
  readonly acceptStatus?: readonly number[];
  /** no call is known to precede this one (startJob): wait one interval first unless the module knows better */
  readonly unknownHistory?: boolean;
}

/** When a failed attempt may be tried again (epoch ms), or undefined when it may not. */
function transientRetryAt(error: unknown): number | undefined {
  if (error instanceof VendorUnavailableError) return Date.now();
  if (error instanceof VendorThrottledError) {
    const seconds = error.retryAfterSeconds;
    if (seconds === undefined) return Date.now();
    return seconds <= MAX_INLINE_RETRY_AFTER_SECONDS ? Date.now() + seconds * 1000 : undefined;
  }
  return undefined;
}

/**
 * One dataExplorations call: token, spacing, inline retries of 429/5xx through the limiter, one
 * retry with a fresh token after a 401 on a cached one; 401/403 raise VendorAuthError naming the
 * environment. Other non-2xx statuses listed in `acceptStatus` are returned.
 */
export async function callDataExplorations(
  ctx: PingOneContext,
  state: CallState,
  call: ApiCall,
): Promise<HttpResponse> {
  const apiOrigin = new URL(apiBase(ctx)).origin;
  if (new URL(call.url).origin !== apiOrigin) {
    // The bearer token only ever goes to the API host.
    throw new VendorRequestError(
      `pingone ${environmentLabel(ctx)}: ${call.operation}: expected a URL on ${apiOrigin}; received one on ${new URL(call.url).origin}`,
    );
  }
  let fresh = false;
  let refreshed = false;
  let first = true;
  let retries = 0;
  let notBefore: number | undefined;
  for (;;) {
    const { token, cached } = await accessToken(ctx, fresh);
    fresh = false;
    const secrets = [token];
    let response: HttpResponse;
    try {
      response = await spaced(
        ctx,
        state,
        { unknownHistory: call.unknownHistory === true && first, ...(notBefore ? { notBefore } : {}) },
        () =>
          ctx.http.request({
            method: call.method,
            url: call.url,
            ...(call.json ? { json: call.json } : {}),
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
            operation: call.operation,
            secrets,
            acceptStatus: [401, 403, ...(call.acceptStatus ?? [])],
            // Retried below, spaced like every other call.
            maxRetries: 0,
          }),
      );
    } catch (error) {
      first = false;
      const retryAt = retries < MAX_TRANSIENT_RETRIES ? transientRetryAt(error) : undefined;
      if (retryAt !== undefined) {
        retries += 1;
        notBefore = retryAt;
        ctx.logger.warn('dataExplorations call failed; retrying after the spacing', {
          operation: call.operation,
          error: (error as Error).name,
          retry: retries,
          environmentId: ctx.tenant.environmentId,
        });
        continue;
      }
      throw aboutEnvironment(ctx, error, secrets);
    }
    first = false;
    notBefore = undefined;
    if (response.status === 401 && cached && !refreshed) {
      response.body.destroy();
      ctx.logger.info('cached access token refused; requesting a new one', {
        environmentId: ctx.tenant.environmentId,
      });
      dropToken(ctx, await ctx.credentials());
      fresh = true;
      refreshed = true;
      continue;
    }
    if (response.status === 401 || response.status === 403) {
      const said = await describeErrorBody(response, secrets);
      const hint =
        response.status === 401
          ? 'expected a valid access token for this environment'
          : 'expected the worker application to hold a role that may read MFA devices and reports in this environment (for example Identity Data Admin)';
      throw new VendorAuthError(
        `pingone ${environmentLabel(ctx)}: ${call.operation} was refused (HTTP ${response.status}${said ? ` ${said}` : ''}); ${hint}`,
      );
    }
    return response;
  }
}

/** Reads a JSON object body, naming the environment on failure. */
export async function readJsonObject(
  ctx: PingOneContext,
  response: HttpResponse,
  operation: string,
): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw aboutEnvironment(ctx, error);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new VendorRequestError(`pingone ${environmentLabel(ctx)}: ${operation}: expected a JSON object`);
  }
  return body as Record<string, unknown>;
}

/** A refused request (400 etc.) as VendorRequestError with PingOne's own words. */
export async function raiseRequestError(
  ctx: PingOneContext,
  response: HttpResponse,
  operation: string,
): Promise<never> {
  const said = await describeErrorBody(response, []);
  throw new VendorRequestError(
    `pingone ${environmentLabel(ctx)}: ${operation} was refused (HTTP ${response.status}${said ? ` ${said}` : ''})`,
  );
}
