import { describe, expect, it } from 'vitest';
import {
  VendorAuthError,
  VendorRequestError,
  VendorThrottledError,
  VendorUnavailableError,
  VendorUnreachableError,
} from '../../../lambdas/core/errors.ts';
import {
  type AttemptResult,
  type AttemptState,
  backoffMs,
  type Decision,
  decideNext,
  errorFor,
  type RetryPolicy,
  type ThrownErrorName,
} from '../../../lambdas/core/http/retry-decision.ts';

const host = 'api.example.com';
const where = `${host}/v1/jobs`;
const policy: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  maxInlineRetryAfterSeconds: 20,
  acceptStatus: new Set([404, 425]),
};

function state(result: AttemptResult, overrides: Partial<AttemptState> = {}): AttemptState {
  return {
    result,
    method: 'GET',
    url: new URL(`https://${where}?page=2`),
    attempt: 1,
    redirects: 0,
    now: new Date('2025-03-04T10:00:00Z'),
    jitter: 0.5,
    operation: 'check job',
    where,
    host,
    ...overrides,
  };
}

const status = (code: number, headers: Record<string, string> = {}): AttemptResult => ({ status: code, headers });
const failure = (reason: string, code?: string): AttemptResult => ({ failure: reason, code });
/** a socket error as the client reports it: the reason for messages and the errno code */
const socket = (code: string): AttemptResult => failure(`connection error (${code})`, code);

type ThrowDecision = Extract<Decision, { kind: 'throw' }>;

function thrown(
  error: ThrownErrorName,
  message: string,
  quoteBody: boolean,
  retryAfterSeconds?: number,
): ThrowDecision {
  return { kind: 'throw', error, message, quoteBody, retryAfterSeconds };
}

describe('responses returned to the caller', () => {
  it.each([200, 201, 204, 206, 299])('returns HTTP %i', (code) => {
    expect(decideNext(state(status(code)), policy)).toEqual({ kind: 'return' });
  });

  it.each([
    [404, 'GET'],
    [425, 'POST'],
  ])('returns HTTP %i (%s) listed in acceptStatus', (code, method) => {
    expect(decideNext(state(status(code), { method }), policy)).toEqual({ kind: 'return' });
  });

  it.each([
    ['a 5xx', 503, {}],
    ['a 429', 429, { 'retry-after': '120' }],
    ['a redirect', 302, { location: '/elsewhere' }],
    ['a 401', 401, {}],
  ])('returns %s listed in acceptStatus instead of retrying, following or raising', (_label, code, headers) => {
    // Prepare
    const accepting = { ...policy, acceptStatus: new Set([code]) };

    // Act
    const decision = decideNext(state(status(code, headers), { attempt: 3 }), accepting);

    // Assess
    expect(decision).toEqual({ kind: 'return' });
  });
});

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])('follows HTTP %i for GET, resolving a relative Location', (code) => {
    // Act
    const decision = decideNext(state(status(code, { location: '../files/r.csv?sig=q' })), policy);

    // Assess
    expect(decision).toEqual({ kind: 'redirect', to: new URL('https://api.example.com/files/r.csv?sig=q') });
  });

  it('follows an absolute Location to another host (the allowlist is checked before the next hop)', () => {
    const decision = decideNext(state(status(302, { location: 'https://files.example.net/r.csv' })), policy);
    expect(decision).toEqual({ kind: 'redirect', to: new URL('https://files.example.net/r.csv') });
  });

  it.each([
    [0, 'redirect'],
    [4, 'redirect'],
    [5, 'throw'],
  ])('after %i hops, the next redirect is a %s (at most 5 are followed)', (redirects, kind) => {
    // Act
    const decision = decideNext(state(status(302, { location: '/next' }), { redirects }), policy);

    // Assess
    expect(decision.kind).toBe(kind);
    if (kind === 'throw') {
      expect(decision).toEqual(
        thrown('VendorRequestError', `check job failed: more than 5 redirects, the last from ${where}`, false),
      );
    }
  });

  it('raises VendorRequestError for a Location that cannot be parsed', () => {
    const decision = decideNext(state(status(302, { location: 'http://[' })), policy);
    expect(decision).toEqual(
      thrown('VendorRequestError', `check job failed: HTTP 302 from ${where} with an unparseable Location`, false),
    );
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'does not follow a redirect for %s: raises, quoting the body',
    (method) => {
      const decision = decideNext(state(status(303, { location: '/elsewhere' }), { method }), policy);
      expect(decision).toEqual(thrown('VendorRequestError', `check job failed: HTTP 303 from ${where}`, true));
    },
  );

  it.each([
    ['a redirect without Location', 302, {}],
    ['304, which is not a redirect', 304, { location: '/elsewhere' }],
    ['300, which is not followed', 300, { location: '/elsewhere' }],
  ])('raises VendorRequestError for %s', (_label, code, headers) => {
    const decision = decideNext(state(status(code, headers)), policy);
    expect(decision).toEqual(thrown('VendorRequestError', `check job failed: HTTP ${code} from ${where}`, true));
  });
});

describe('5xx', () => {
  it.each([500, 502, 503, 504, 599])('retries HTTP %i with backoff while retries remain', (code) => {
    const decision = decideNext(state(status(code)), policy);
    expect(decision).toEqual({ kind: 'retry', delayMs: 50, reason: `HTTP ${code}` });
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'retries %s too (a caller that must not repeat passes maxRetries 0)',
    (method) => {
      const decision = decideNext(state(status(503), { method }), policy);
      expect(decision).toEqual({ kind: 'retry', delayMs: 50, reason: 'HTTP 503' });
    },
  );

  it.each([
    [1, { kind: 'retry', delayMs: 50, reason: 'HTTP 502' }],
    [2, { kind: 'retry', delayMs: 100, reason: 'HTTP 502' }],
    [3, thrown('VendorUnavailableError', `check job failed: HTTP 502 from ${where} after 3 attempts`, true)],
  ])('attempt %i of 1 + 2 retries: %j', (attempt, expected) => {
    expect(decideNext(state(status(502), { attempt }), policy)).toEqual(expected);
  });

  it('raises after 1 attempt when no retries are allowed', () => {
    const decision = decideNext(state(status(500)), { ...policy, maxRetries: 0 });
    expect(decision).toEqual(
      thrown('VendorUnavailableError', `check job failed: HTTP 500 from ${where} after 1 attempt`, true),
    );
  });
});

describe('connection errors and timeouts', () => {
  it.each<[string, AttemptResult]>([
    ['a reset connection (ECONNRESET)', socket('ECONNRESET')],
    ['a temporary resolver failure (EAI_AGAIN)', socket('EAI_AGAIN')],
    ['a connect timeout (ETIMEDOUT)', socket('ETIMEDOUT')],
    ['an unreachable network (ENETUNREACH)', socket('ENETUNREACH')],
    ['an error without a code', failure('connection error (socket hang up)')],
    ['a header timeout', failure('no response headers within 100 ms')],
  ])('retries %s with backoff', (_label, result) => {
    expect(decideNext(state(result), policy)).toEqual({
      kind: 'retry',
      delayMs: 50,
      reason: 'failure' in result ? result.failure : '',
    });
  });

  it.each(['ECONNRESET', 'EAI_AGAIN'])(
    'raises VendorUnavailableError for %s, without a body to quote, when retries run out',
    (code) => {
      const decision = decideNext(state(socket(code), { attempt: 3 }), policy);
      expect(decision).toEqual(
        thrown(
          'VendorUnavailableError',
          `check job failed: connection error (${code}) from ${where} after 3 attempts`,
          false,
        ),
      );
    },
  );
});

describe('a host that is not there', () => {
  const check = "check baseUrl in the vendor's section of the config";
  const notFound = thrown(
    'VendorUnreachableError',
    `check job failed: host ${host} not found (ENOTFOUND); does the host exist? ${check}`,
    false,
  );
  const refused = (attempts: number) =>
    thrown(
      'VendorUnreachableError',
      `check job failed: ${host} refused the connection (ECONNREFUSED) after ${attempts} attempts; ` +
        `is the server up and on that port? ${check}`,
      false,
    );
  const quickRetry = (delayMs: number): Decision => ({
    kind: 'retry',
    delayMs,
    reason: 'connection error (ECONNREFUSED)',
  });

  it.each<[string, number, number, Decision]>([
    // code, attempt, maxRetries, decision
    ['ENOTFOUND', 1, 2, notFound],
    ['ENOTFOUND', 1, 0, notFound],
    ['ENOTFOUND', 2, 9, notFound],
    ['ECONNREFUSED', 1, 2, quickRetry(50)],
    ['ECONNREFUSED', 2, 2, quickRetry(100)],
    ['ECONNREFUSED', 3, 2, refused(3)],
    // a refused connection never delivered the request: retried even for a caller that must not repeat one
    ['ECONNREFUSED', 1, 0, quickRetry(50)],
    ['ECONNREFUSED', 3, 0, refused(3)],
    // and no more than its quick retries for a caller that allows many
    ['ECONNREFUSED', 3, 9, refused(3)],
  ])('%s on attempt %i with maxRetries %i: %j', (code, attempt, maxRetries, expected) => {
    expect(decideNext(state(socket(code), { attempt }), { ...policy, maxRetries })).toEqual(expected);
  });

  it('names the host, not the path or its query string', () => {
    // Prepare: a pre-signed download URL on a host that does not exist
    const url = new URL('https://files.example.net/exports/r.csv?X-Amz-Signature=abc123');
    const at = { url, where: 'files.example.net/exports/r.csv', host: 'files.example.net' };

    // Act
    const decision = decideNext(state(socket('ENOTFOUND'), at), policy);

    // Assess
    expect(decision.kind === 'throw' && decision.message).toMatch(/host files\.example\.net not found/);
    expect(decision.kind === 'throw' && decision.message).not.toMatch(/exports|abc123|Signature/);
  });
});

describe('429 and Retry-After', () => {
  it.each([
    ['whole seconds', '3', 3_000],
    ['zero seconds', '0', 0],
    ['the inline limit exactly', '20', 20_000],
    ['an IMF-fixdate', 'Tue, 04 Mar 2025 10:00:07 GMT', 7_000],
    ['an RFC 850 date', 'Tuesday, 04-Mar-25 10:00:07 GMT', 7_000],
    ['an asctime date', 'Tue Mar  4 10:00:07 2025', 7_000],
    ['a date already past', 'Tue, 04 Mar 2025 09:59:00 GMT', 0],
    ['no header (backoff)', undefined, 50],
    ['a negative number (backoff)', '-1', 50],
    ['a fraction (backoff)', '1.5', 50],
    ['words (backoff)', 'soon 1', 50],
    ['a date without its zone (backoff)', 'Tue, 04 Mar 2025 10:00:07', 50],
  ])('retries inline for %s', (_label, value, delayMs) => {
    // Prepare
    const headers: Record<string, string> = value === undefined ? {} : { 'retry-after': value };

    // Act
    const decision = decideNext(state(status(429, headers)), policy);

    // Assess
    expect(decision).toEqual({ kind: 'retry', delayMs, reason: 'HTTP 429' });
  });

  it.each([
    ['seconds', '21', 21],
    ['a date', 'Tue, 04 Mar 2025 10:02:00 GMT', 120],
  ])('raises VendorThrottledError for a Retry-After over the inline limit, in %s', (_label, value, seconds) => {
    const decision = decideNext(state(status(429, { 'retry-after': value })), policy);
    expect(decision).toEqual(
      thrown(
        'VendorThrottledError',
        `check job failed: HTTP 429 from ${where}; retry after ${seconds} s`,
        true,
        seconds,
      ),
    );
  });

  it.each([
    ['a short Retry-After', { 'retry-after': '2' }, '; retry after 2 s', 2],
    ['no Retry-After', {}, '', undefined],
  ])('raises VendorThrottledError when retries run out, with %s', (_label, headers, hint, seconds) => {
    const decision = decideNext(state(status(429, headers), { attempt: 3 }), policy);
    expect(decision).toEqual(
      thrown('VendorThrottledError', `check job failed: HTTP 429 from ${where} after 3 attempts${hint}`, true, seconds),
    );
  });
});

describe('other statuses', () => {
  it.each<[number, ThrownErrorName]>([
    [401, 'VendorAuthError'],
    [403, 'VendorAuthError'],
    [400, 'VendorRequestError'],
    [404, 'VendorRequestError'],
    [409, 'VendorRequestError'],
    [410, 'VendorRequestError'],
    [422, 'VendorRequestError'],
    [0, 'VendorRequestError'],
  ])('raises HTTP %i at once as %s, quoting the body', (code, error) => {
    // Prepare: 404 is accepted by the default policy of this file
    const strict = { ...policy, acceptStatus: new Set<number>() };

    // Act
    const decision = decideNext(state(status(code)), strict);

    // Assess
    expect(decision).toEqual(thrown(error, `check job failed: HTTP ${code} from ${where}`, true));
  });
});

describe('backoff', () => {
  it.each([
    [1, 0.5, 50],
    [2, 0.5, 100],
    [3, 0.999, 399],
    [4, 0.999, 799],
    [5, 0.999, 999], // capped at maxDelayMs
    [9, 0.999, 999],
    [3, 0, 0],
  ])('attempt %i with jitter %d waits %i ms', (attempt, jitter, expected) => {
    expect(backoffMs(attempt, jitter, policy)).toBe(expected);
  });
});

describe('errorFor', () => {
  it.each<[ThrownErrorName, new (message: string) => Error]>([
    ['VendorAuthError', VendorAuthError],
    ['VendorRequestError', VendorRequestError],
    ['VendorUnavailableError', VendorUnavailableError],
    ['VendorUnreachableError', VendorUnreachableError],
  ])('builds %s with the body quoted after the message', (name, errorClass) => {
    // Act
    const error = errorFor(thrown(name, 'x failed: HTTP 500 from h/p', true), 'busy');

    // Assess
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toBe('x failed: HTTP 500 from h/p (body: busy)');
  });

  it('builds VendorThrottledError with its Retry-After, and leaves an unread body out', () => {
    // Act
    const error = errorFor({
      kind: 'throw',
      error: 'VendorThrottledError',
      message: 'x failed: HTTP 429 from h/p',
      quoteBody: true,
      retryAfterSeconds: 60,
    });

    // Assess
    expect(error).toBeInstanceOf(VendorThrottledError);
    expect((error as VendorThrottledError).retryAfterSeconds).toBe(60);
    expect(error.message).toBe('x failed: HTTP 429 from h/p');
  });
});
