import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCspRuntime } from '../../../lambdas/connectors/csp/runtime.ts';
import { VendorAuthError, VendorRequestError, VendorUnavailableError } from '../../../lambdas/core/errors.ts';
import { type CspSimulator, type CspSimulatorOptions, startCspSimulator } from '../../../simulators/csp/server.ts';
import { LogCapture } from '../../support/log-capture.ts';
import {
  ANCHOR,
  auditCalls,
  contextFor,
  DAY_END,
  DAY_START,
  readText,
  requestFor,
  runFlow,
  simClock,
} from './helpers.ts';

let sim: CspSimulator | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await sim?.close();
  sim = undefined;
});

async function simulator(options: CspSimulatorOptions = {}): Promise<CspSimulator> {
  sim = await startCspSimulator({ anchor: ANCHOR, now: simClock, ...options });
  return sim;
}

function authorizeCalls(s: CspSimulator) {
  return s.requests.filter((r) => r.path.endsWith('/api-tokens/authorize'));
}

describe('access token', () => {
  it('exchanges the API token once (form api_token) and reuses the access token while it is fresh', async () => {
    const s = await simulator();
    const connector = createCspRuntime();
    const ctx = contextFor(s, { section: { pageLimit: 10 } });
    await runFlow(ctx, connector);
    await runFlow(ctx, connector);
    expect(s.tokensIssued()).toBe(1);
    expect(authorizeCalls(s)[0]?.body).toEqual({ parameters: ['api_token'] });
    expect(authorizeCalls(s)[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(auditCalls(s).every((c) => c.status === 200)).toBe(true);
  });

  it('refreshes shortly before expires_in runs out, without waiting for a 401', async () => {
    const s = await simulator({ expiresIn: 120 });
    let clock = 1_000_000;
    const connector = createCspRuntime({ clock: () => clock });
    const ctx = contextFor(s);
    await runFlow(ctx, connector);
    clock += 100_000; // 100 s: still before 120 s minus the 12 s margin
    await runFlow(ctx, connector);
    expect(s.tokensIssued()).toBe(1);
    clock += 10_000; // 110 s: inside the margin
    await runFlow(ctx, connector);
    expect(s.tokensIssued()).toBe(2);
    expect(s.requests.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it('on a 401 during a run, refreshes once and carries on', async () => {
    const s = await simulator({ accessTokenMaxUses: 2 });
    const ctx = contextFor(s, { section: { pageLimit: 5 } });
    const { lines } = await runFlow(ctx);
    expect(lines.map((l) => l.event.eventId)).toEqual(
      s.eventsFor(s.users[0]!.username, DAY_START, DAY_END).map((e) => e.eventId),
    );
    expect(s.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(s.tokensIssued()).toBeGreaterThan(2);
  });

  it('a token revoked between runs is replaced on the first 401', async () => {
    const s = await simulator();
    const connector = createCspRuntime();
    const ctx = contextFor(s);
    await runFlow(ctx, connector);
    s.revokeAccessTokens();
    await runFlow(ctx, connector);
    expect(s.tokensIssued()).toBe(2);
  });

  it('fails with VendorAuthError when the fresh token is refused too', async () => {
    const s = await simulator({ accessTokenMaxUses: 0 });
    const ctx = contextFor(s);
    const error = await runFlow(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorAuthError);
    expect(String(error)).toMatch(/401.*fresh access token/);
    expect(s.tokensIssued()).toBe(2);
  });

  it('an invalid API token is a non-retried VendorAuthError naming the tenant label, never the token', async () => {
    const s = await simulator();
    const badToken = 'x'.repeat(65);
    const ctx = contextFor(s, { credentials: { apiToken: badToken } });
    const connector = createCspRuntime();
    expect((await connector.startJob(ctx, requestFor(ctx))).status).toBe('READY');
    const error = await connector.fetchReport(ctx, requestFor(ctx), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorAuthError);
    expect((error as VendorAuthError).retryable).toBe(false);
    expect((error as Error).message).toContain(ctx.tenant.label);
    expect((error as Error).message).toContain('invalid_grant');
    expect((error as Error).message).not.toContain(badToken.slice(0, 8));
    expect(authorizeCalls(s)).toHaveLength(1);
    expect(auditCalls(s)).toHaveLength(0);
  });
});

describe('refusals end that tenant only', () => {
  it('403 (service account) and 404 (no user) are VendorAuthErrors; another tenant on the same service is unaffected', async () => {
    const s = await simulator();
    const connector = createCspRuntime();
    const robot = contextFor(s, { includeAllUsers: true, tenantId: 'robot' });
    const gone = contextFor(s, { includeAllUsers: true, tenantId: 'gone' });
    const alice = contextFor(s, { includeAllUsers: true, tenantId: 'alice' });

    const [robotResult, goneResult, aliceResult] = await Promise.allSettled([
      runFlow(robot, connector),
      runFlow(gone, connector),
      runFlow(alice, connector),
    ]);

    expect(robotResult.status).toBe('rejected');
    const robotError = (robotResult as PromiseRejectedResult).reason as Error;
    expect(robotError).toBeInstanceOf(VendorAuthError);
    expect(robotError.message).toMatch(/403.*service accounts/);
    expect(robotError.message).toContain('svc-reporting@example.com');
    const goneError = (goneResult as PromiseRejectedResult).reason as Error;
    expect(goneError).toBeInstanceOf(VendorAuthError);
    expect(goneError.message).toMatch(/404/);
    expect(aliceResult.status).toBe('fulfilled');
    const aliceLines = (aliceResult as PromiseFulfilledResult<Awaited<ReturnType<typeof runFlow>>>).value.lines;
    expect(aliceLines).toHaveLength(s.eventsFor('alice@example.com', DAY_START, DAY_END).length);
  });

  it('409 is a VendorRequestError carrying the vendor message and requestId', async () => {
    const s = await simulator({ faults: [{ endpoint: 'audit', status: 409 }] });
    const error = await runFlow(contextFor(s)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(String(error)).toMatch(
      /409 \(The request could not be processed due to a conflict; requestId [0-9a-f-]{36}\)/,
    );
  });
});

describe('transient faults', () => {
  it('retries 429 and 5xx on both endpoints with backoff and completes', async () => {
    const s = await simulator({
      faults: [
        { endpoint: 'authorize', status: 503 },
        { endpoint: 'audit', status: 429, times: 2, retryAfterSeconds: 0 },
        { endpoint: 'audit', status: 500, afterCalls: 4 },
      ],
    });
    const ctx = contextFor(s, { section: { pageLimit: 5 } });
    const { lines } = await runFlow(ctx);
    expect(lines).toHaveLength(s.eventsFor(s.users[0]!.username, DAY_START, DAY_END).length);
    expect(s.requests.map((r) => r.status)).toEqual(expect.arrayContaining([503, 429, 500]));
  });

  it('errors the stream (never ends it cleanly) when the API keeps failing mid-window', async () => {
    const s = await simulator({ faults: [{ endpoint: 'audit', status: 500, afterCalls: 2, times: 100 }] });
    const ctx = contextFor(s, { section: { pageLimit: 5 } });
    const connector = createCspRuntime();
    const fetched = await connector.fetchReport(ctx, requestFor(ctx), {});
    if (fetched.status !== 'FETCHED') throw new Error('expected FETCHED');
    const { body } = await fetched.sources[0]!.open();
    const error = await readText(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorUnavailableError);
  });

  it('retries a page whose connection drops mid-body, and completes', async () => {
    const s = await simulator({ faults: [{ endpoint: 'audit', status: 200, cutAfterBytes: 12, afterCalls: 1 }] });
    const ctx = contextFor(s, { section: { pageLimit: 5 } });
    const { lines } = await runFlow(ctx);
    expect(lines).toHaveLength(s.eventsFor(s.users[0]!.username, DAY_START, DAY_END).length);
  });

  it('leaves a page that keeps dropping mid-body to the state machine as a retryable error', async () => {
    const s = await simulator({ faults: [{ endpoint: 'audit', status: 200, cutAfterBytes: 12, times: 100 }] });
    const ctx = contextFor(s);
    const fetched = await createCspRuntime().fetchReport(ctx, requestFor(ctx), {});
    if (fetched.status !== 'FETCHED') throw new Error('expected FETCHED');
    await expect(fetched.sources[0]!.open()).rejects.toBeInstanceOf(VendorUnavailableError);
    expect(s.requests.filter((r) => r.path.endsWith('/audit'))).toHaveLength(3);
  });

  it('leaves a token exchange whose connection drops mid-body retryable, not a malformed answer', async () => {
    const s = await simulator({ faults: [{ endpoint: 'authorize', status: 200, cutAfterBytes: 5, times: 100 }] });
    const ctx = contextFor(s);
    // the token is exchanged by fetchReport (early, to fail fast on a bad one) or by the first page
    const opened = createCspRuntime()
      .fetchReport(ctx, requestFor(ctx), {})
      .then(
        (fetched): Promise<unknown> =>
          fetched.status === 'FETCHED' ? fetched.sources[0]!.open() : Promise.resolve(fetched),
      );
    await expect(opened).rejects.toBeInstanceOf(VendorUnavailableError);
  });

  it('surfaces a failure on the first page from open(), before any byte is handed over', async () => {
    const s = await simulator({ faults: [{ endpoint: 'audit', status: 500, times: 100 }] });
    const ctx = contextFor(s);
    const fetched = await createCspRuntime().fetchReport(ctx, requestFor(ctx), {});
    if (fetched.status !== 'FETCHED') throw new Error('expected FETCHED');
    await expect(fetched.sources[0]!.open()).rejects.toBeInstanceOf(VendorUnavailableError);
  });
});

describe('secrets', () => {
  it('never logs the API token or an access token, even on failures', async () => {
    const s = await simulator({
      accessTokenMaxUses: 1,
      faults: [{ endpoint: 'audit', status: 429, retryAfterSeconds: 0 }],
    });
    const output = new LogCapture().start();
    const logger = new Logger({ serviceName: 'csp-test', logLevel: 'DEBUG' });
    const ctx = contextFor(s, { logger, section: { pageLimit: 5 } });
    await runFlow(ctx);
    const bad = contextFor(s, { logger, credentials: { apiToken: 'y'.repeat(65) } });
    await runFlow(bad).catch(() => undefined);
    output.stop();

    const logs = output.text();
    expect(logs).toContain('csp mfa audit window read');
    expect(logs).toContain('csp api token refused');
    expect(logs).toContain('refreshing');
    expect(logs).not.toContain(s.users[0]!.apiToken);
    expect(logs).not.toContain('y'.repeat(20));
    expect(logs).not.toMatch(/sim-at-[0-9a-f-]{8}/);
    const recorded = JSON.stringify(s.requests);
    expect(recorded).not.toContain(s.users[0]!.apiToken);
    expect(recorded).not.toMatch(/sim-at-/);
  });

  it.each([
    ['authorize', 500, VendorUnavailableError, 'An unexpected error has occurred while processing the request'],
    ['audit', 409, VendorRequestError, 'The request could not be processed due to a conflict'],
  ] as const)(
    'redacts the credential echoed back in an %s error (%s), keeping the rest of the vendor message',
    async (endpoint, status, errorClass, vendorText) => {
      // Prepare: the vendor repeats the API token (authorize) or the access token (audit) in its message
      const s = await simulator({ faults: [{ endpoint, status, times: 100, echoCredential: true }] });
      const output = new LogCapture().start();
      const logger = new Logger({ serviceName: 'csp-test', logLevel: 'DEBUG' });
      const ctx = contextFor(s, { logger });
      const apiToken = s.users[0]!.apiToken;

      // Act
      const error = await runFlow(ctx).catch((e: unknown) => e);
      output.stop();

      // Assess
      expect(error).toBeInstanceOf(errorClass);
      expect(s.requests.filter((r) => r.status === status).length).toBeGreaterThan(0);
      const message = (error as Error).message;
      const everything = [message, (error as Error).stack ?? '', output.text()].join('\n');
      expect(everything).not.toContain(apiToken);
      expect(everything).not.toContain(apiToken.slice(0, 16));
      expect(everything).not.toMatch(/sim-at-[0-9a-f]{8}/);
      // the body was read: the vendor's words are there, only the credential is gone
      expect(message).toContain(`${vendorText}: invalid token: [redacted]`);
    },
  );
});
