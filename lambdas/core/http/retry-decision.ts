/**
 * What the client does after each attempt, decided without I/O: return the response, follow a
 * redirect, retry after some milliseconds, or throw a named error. The client loop only carries
 * the decision out, so every branch is tested from a table (test/core/http/retry-decision.test.ts).
 *
 * - 2xx and statuses in `acceptStatus` are returned.
 * - A redirect is followed for GET only, at most `MAX_REDIRECTS` hops; for other methods it is an error.
 * - Connection errors, timeouts and 5xx are retried with exponential backoff and full jitter, for
 *   every method, POST included: a caller that must not repeat a request passes `maxRetries: 0`.
 * - A host that does not exist (ENOTFOUND) raises VendorUnreachableError at once, and one that
 *   refuses connections (ECONNREFUSED) after `REFUSED_RETRIES` quick retries: a wrong `baseUrl` or
 *   a server that is down fails the run in seconds, not after minutes of retries. A temporary
 *   resolver failure (EAI_AGAIN) is retried as any other connection error.
 * - A 429 with a short Retry-After (or none) is retried inline; a long one is raised as
 *   VendorThrottledError so the state machine waits instead of the Lambda.
 * - 401/403 raise VendorAuthError; every other status raises VendorRequestError.
 */
import {
  VendorAuthError,
  VendorRequestError,
  VendorThrottledError,
  VendorUnavailableError,
  VendorUnreachableError,
} from '../errors.ts';
import { isFollowableRedirect, MAX_REDIRECTS, resolveLocation } from './redirects.ts';
import { parseRetryAfter } from './retry-after.ts';

/**
 * What one attempt produced: a response's status and headers, or a failure before any response
 * (its reason for messages, and the socket's errno code when it has one, e.g. `ENOTFOUND`).
 */
export type AttemptResult =
  | { readonly status: number; readonly headers: Readonly<Record<string, string>> }
  | { readonly failure: string; readonly code?: string };

/**
 * Retries of a refused connection, whatever `maxRetries` says: a host may be restarting, and a
 * refused connection never delivered the request, so even a caller that must not repeat one
 * loses nothing.
 */
const REFUSED_RETRIES = 2;

export interface RetryPolicy {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxInlineRetryAfterSeconds: number;
  readonly acceptStatus: ReadonlySet<number>;
}

export interface AttemptState {
  readonly result: AttemptResult;
  readonly method: string;
  readonly url: URL;
  /** 1 for the first try; following a redirect is not a new attempt */
  readonly attempt: number;
  /** hops followed so far */
  readonly redirects: number;
  readonly now: Date;
  /** a draw in [0, 1) for full jitter */
  readonly jitter: number;
  /** the request's label, its redacted `host/path` and its redacted `host[:port]`, for messages */
  readonly operation: string;
  readonly where: string;
  readonly host: string;
}

export type ThrownErrorName =
  | 'VendorAuthError'
  | 'VendorRequestError'
  | 'VendorThrottledError'
  | 'VendorUnavailableError'
  | 'VendorUnreachableError';

export type Decision =
  | { readonly kind: 'return' }
  | { readonly kind: 'redirect'; readonly to: URL }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: string }
  | {
      readonly kind: 'throw';
      readonly error: ThrownErrorName;
      readonly message: string;
      /** whether the message should end with the start of the response body */
      readonly quoteBody: boolean;
      readonly retryAfterSeconds?: number;
    };

/** Full jitter: a draw between 0 and `base × 2^(attempt-1)`, capped at `maxDelayMs`. */
export function backoffMs(attempt: number, jitter: number, policy: RetryPolicy): number {
  return Math.floor(jitter * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
}

export function decideNext(state: AttemptState, policy: RetryPolicy): Decision {
  const { result, operation, where } = state;
  const canRetry = state.attempt <= policy.maxRetries;
  const attempts = `after ${state.attempt} attempt${state.attempt === 1 ? '' : 's'}`;
  if ('failure' in result) {
    const unreachable = unreachableHost(state, policy, result, attempts);
    if (unreachable) return unreachable;
    if (canRetry) return retry(result.failure, backoffMs(state.attempt, state.jitter, policy));
    const message = `${operation} failed: ${result.failure} from ${where} ${attempts}`;
    return { kind: 'throw', error: 'VendorUnavailableError', message, quoteBody: false };
  }
  const { status, headers } = result;
  if ((status >= 200 && status < 300) || policy.acceptStatus.has(status)) return { kind: 'return' };
  const { location } = headers;
  if (location !== undefined && isFollowableRedirect(status, state.method)) return redirect(state, status, location);
  if (status === 429) return throttled(state, policy, headers['retry-after'], attempts);
  if (status >= 500) {
    if (canRetry) return retry(`HTTP ${status}`, backoffMs(state.attempt, state.jitter, policy));
    const message = `${operation} failed: HTTP ${status} from ${where} ${attempts}`;
    return { kind: 'throw', error: 'VendorUnavailableError', message, quoteBody: true };
  }
  const error = status === 401 || status === 403 ? 'VendorAuthError' : 'VendorRequestError';
  return { kind: 'throw', error, message: `${operation} failed: HTTP ${status} from ${where}`, quoteBody: true };
}

function retry(reason: string, delayMs: number): Decision {
  return { kind: 'retry', delayMs, reason };
}

/**
 * A host that is not there: ENOTFOUND at once, ECONNREFUSED once its quick retries are spent
 * (before that, a retry). Undefined for every other failure. The message names the host, not the
 * path: what to fix is the host or port, and the host is what `baseUrl` and the allowlist name.
 */
function unreachableHost(
  state: AttemptState,
  policy: RetryPolicy,
  { failure, code }: { readonly failure: string; readonly code?: string },
  attempts: string,
): Decision | undefined {
  const { host } = state;
  const check = "check baseUrl in the vendor's section of the config";
  let message: string;
  if (code === 'ENOTFOUND') {
    message = `host ${host} not found (ENOTFOUND); does the host exist? ${check}`;
  } else if (code === 'ECONNREFUSED') {
    if (state.attempt <= REFUSED_RETRIES) return retry(failure, backoffMs(state.attempt, state.jitter, policy));
    message = `${host} refused the connection (ECONNREFUSED) ${attempts}; is the server up and on that port? ${check}`;
  } else {
    return undefined;
  }
  return {
    kind: 'throw',
    error: 'VendorUnreachableError',
    message: `${state.operation} failed: ${message}`,
    quoteBody: false,
  };
}

function redirect(state: AttemptState, status: number, location: string): Decision {
  const fail = (message: string): Decision => ({
    kind: 'throw',
    error: 'VendorRequestError',
    message,
    quoteBody: false,
  });
  if (state.redirects >= MAX_REDIRECTS) {
    return fail(`${state.operation} failed: more than ${MAX_REDIRECTS} redirects, the last from ${state.where}`);
  }
  const to = resolveLocation(location, state.url);
  if (to === undefined) {
    return fail(`${state.operation} failed: HTTP ${status} from ${state.where} with an unparseable Location`);
  }
  return { kind: 'redirect', to };
}

function throttled(state: AttemptState, policy: RetryPolicy, header: string | undefined, attempts: string): Decision {
  const retryAfter = parseRetryAfter(header, state.now);
  const short = retryAfter === undefined || retryAfter <= policy.maxInlineRetryAfterSeconds;
  if (state.attempt <= policy.maxRetries && short) {
    return retry(
      'HTTP 429',
      retryAfter === undefined ? backoffMs(state.attempt, state.jitter, policy) : retryAfter * 1000,
    );
  }
  const hint = retryAfter === undefined ? '' : `; retry after ${retryAfter} s`;
  const when = state.attempt > 1 ? ` ${attempts}` : '';
  return {
    kind: 'throw',
    error: 'VendorThrottledError',
    message: `${state.operation} failed: HTTP 429 from ${state.where}${when}${hint}`,
    quoteBody: true,
    retryAfterSeconds: retryAfter,
  };
}

/** The named error for a `throw` decision; `body` is the quoted start of the response body, if read. */
export function errorFor(decision: Extract<Decision, { kind: 'throw' }>, body?: string): Error {
  const message = body === undefined ? decision.message : `${decision.message} (body: ${body})`;
  switch (decision.error) {
    case 'VendorThrottledError':
      return new VendorThrottledError(message, decision.retryAfterSeconds);
    case 'VendorUnavailableError':
      return new VendorUnavailableError(message);
    case 'VendorAuthError':
      return new VendorAuthError(message);
    case 'VendorRequestError':
      return new VendorRequestError(message);
    case 'VendorUnreachableError':
      return new VendorUnreachableError(message);
  }
}
