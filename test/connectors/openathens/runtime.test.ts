import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openAthensDefinition } from '../../../lambdas/connectors/openathens/definition.ts';
import { createOpenAthensRuntime } from '../../../lambdas/connectors/openathens/runtime.ts';
import {
  DisallowedHostError,
  VendorAuthError,
  VendorRequestError,
  VendorUnavailableError,
} from '../../../lambdas/core/errors.ts';
import {
  DEFAULT_ORGANISATIONS,
  type OpenAthensSimulator,
  type OpenAthensSimulatorOptions,
  type SimulatedOrganisation,
  startOpenAthensSimulator,
} from '../../../simulators/openathens/server.ts';
import { LogCapture } from '../../support/log-capture.ts';
import { contextFor, decode, openSource, readAll, requestFor, runFlow, yesterday } from './helpers.ts';

const openAthensRuntime = createOpenAthensRuntime();

const running: { close(): Promise<void> }[] = [];

async function simulator(options: OpenAthensSimulatorOptions = {}): Promise<OpenAthensSimulator> {
  const sim = await startOpenAthensSimulator({ rowsPerReport: 60, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const DATE = yesterday();
const KEY_OF = Object.fromEntries(DEFAULT_ORGANISATIONS.map((o) => [o.tenantId, o.apiKey]));

function organisation(overrides: Partial<SimulatedOrganisation>): SimulatedOrganisation {
  return { ...(DEFAULT_ORGANISATIONS[0] as SimulatedOrganisation), ...overrides };
}

describe('startJob', () => {
  describe('when the task finishes within the first response', () => {
    it('is READY with the DOWN link in job, and no key anywhere in it', async () => {
      // Prepare
      const sim = await simulator({ task: { runningPolls: 0 } });
      const ctx = contextFor(sim);
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE));
      // Assess
      expect(result.status).toBe('READY');
      expect(result.job.reportHref).toMatch(
        new RegExp(`^http://${sim.host.replace(/\./g, '\\.')}/api/v1/example\\.org/rawreport/[0-9a-f-]{36}$`),
      );
      expect(result.job.taskId).toBe(String(result.job.reportHref).split('/').pop());
      expect(JSON.stringify(result)).not.toContain(KEY_OF['example-org']);
      expect(sim.requests).toHaveLength(1);
      expect(sim.requests[0]).toMatchObject({
        kind: 'start',
        path: '/api/v1/example.org/rawreport',
        query: { date: DATE },
        status: 200,
      });
      expect(sim.requests[0]?.headers.authorization).toBe('OAApiKey [redacted]');
    });

    it('is READY when the job ends inside the vendor inline wait (durationMs < inlineWaitMs)', async () => {
      // Prepare
      const sim = await simulator({ task: { runningPolls: 0, durationMs: 30, inlineWaitMs: 200 } });
      const ctx = contextFor(sim);
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE));
      // Assess
      expect(result.status).toBe('READY');
    });
  });

  describe('when the task is still running', () => {
    it('is PENDING with the SELF link and the documented 20 s wait', async () => {
      // Prepare
      const sim = await simulator({ task: { runningPolls: 2 } });
      const ctx = contextFor(sim, { defaultPoll: true });
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE));
      // Assess
      expect(result.status).toBe('PENDING');
      expect(result.waitSeconds).toBe(20);
      expect(result.job.taskHref).toMatch(/\/api\/v1\/example\.org\/rawtask\/[0-9a-f-]{36}$/);
      expect(result.job.checks).toBe(0);
      expect(JSON.stringify(result)).not.toContain(KEY_OF['example-org']);
    });
  });

  describe('when the date is outside the 30-day window', () => {
    it.each([
      ['today', 0],
      ['31 days ago', 31],
    ])('skips %s with the reason, without calling the vendor', async (_label, daysBack) => {
      // Prepare
      const sim = await simulator();
      const ctx = contextFor(sim);
      const date = new Date(Date.now() - daysBack * 86_400_000).toISOString().slice(0, 10);
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, date));
      // Assess
      expect(result.status).toBe('SKIPPED');
      expect(result.reason).toContain(date);
      expect(result.reason).toContain('organisation "example-org" (api name "example.org")');
      expect(sim.requests).toHaveLength(0);
    });

    it('fails with the vendor message when the vendor window disagrees (400)', async () => {
      // Prepare: the vendor's clock is 2 days ahead, so 29 days ago has aged out there
      const sim = await simulator({ now: () => new Date(Date.now() + 2 * 86_400_000) });
      const ctx = contextFor(sim);
      const date = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, date));
      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.reason).toMatch(/refused \(400\).*raw statistics are available from/);
      expect(sim.requests.map((r) => r.status)).toEqual([400]);
    });
  });

  describe('when the key is refused', () => {
    it.each(['badCredentials', 'accountExpired', 'invalidIP'] as const)(
      'raises VendorAuthError for 401 %s naming the organisation and reason, never the key',
      async (reason) => {
        // Prepare
        const sim = await simulator({ organisations: [organisation({ keyProblem: reason })] });
        const ctx = contextFor(sim);
        // Act
        const error = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE)).catch((e: unknown) => e);
        // Assess
        expect(error).toBeInstanceOf(VendorAuthError);
        const message = (error as Error).message;
        expect(message).toContain('organisation "example-org" (api name "example.org")');
        expect(message).toContain(`401 ${reason}`);
        expect(message).not.toContain(KEY_OF['example-org']);
        expect((error as Error).stack).not.toContain(KEY_OF['example-org']);
        expect(sim.requests).toHaveLength(1);
      },
    );

    it('raises VendorAuthError for an unknown key (401 badCredentials), once', async () => {
      // Prepare
      const sim = await simulator();
      const ctx = contextFor(sim, { credentials: { apiKey: 'not-a-real-key-123' } });
      // Act
      const error = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE)).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(VendorAuthError);
      expect((error as Error).message).toMatch(/401 badCredentials.*wrong, disabled or expired/);
      expect((error as Error).message).not.toContain('not-a-real-key-123');
      expect(sim.requests).toHaveLength(1);
    });

    it('raises VendorAuthError for 403 when the reports API is not enabled', async () => {
      // Prepare
      const sim = await simulator({ organisations: [organisation({ reportsEnabled: false })] });
      const ctx = contextFor(sim);
      // Act
      const error = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE)).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(VendorAuthError);
      expect((error as Error).message).toMatch(/example-org.*forbidden \(403\).*reports API to be enabled/);
      expect((error as Error).message).toContain('not enabled for this organisation');
    });

    it('raises VendorAuthError for 403 when the key sits in another organisation', async () => {
      // Prepare: the sub-organisation's tenant holds the parent's key
      const sim = await simulator();
      const ctx = contextFor(sim, {
        tenantId: 'example-org-medicine',
        credentials: { apiKey: KEY_OF['example-org'] as string },
      });
      // Act
      const error = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE)).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(VendorAuthError);
      expect((error as Error).message).toContain(
        'organisation "example-org-medicine" (api name "medicine.example.org")',
      );
      expect((error as Error).message).not.toContain(KEY_OF['example-org']);
    });
  });

  describe('when the vendor has transient trouble', () => {
    it.each([500, 502, 503] as const)('retries HTTP %s and gets through', async (status) => {
      // Prepare
      const sim = await simulator({ task: { runningPolls: 0 }, transientErrors: { count: 2, status, on: 'start' } });
      const ctx = contextFor(sim);
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE));
      // Assess
      expect(result.status).toBe('READY');
      expect(sim.requests.map((r) => r.status)).toEqual([status, status, 200]);
    });

    it('retries 429 after the Retry-After the vendor sent', async () => {
      // Prepare
      const sleeps: number[] = [];
      const sim = await simulator({
        task: { runningPolls: 0 },
        transientErrors: { count: 2, status: 429, retryAfterSeconds: 3 },
      });
      const ctx = contextFor(sim, { sleeps });
      // Act
      const result = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE));
      // Assess
      expect(result.status).toBe('READY');
      expect(sim.requests.map((r) => r.status)).toEqual([429, 429, 200]);
      expect(sleeps).toEqual([3000, 3000]);
    });

    it('raises a retryable VendorUnavailableError naming the organisation when the errors persist', async () => {
      // Prepare
      const sim = await simulator({ transientErrors: { count: 100, status: 500 } });
      const ctx = contextFor(sim, { maxRetries: 2 });
      // Act
      const error = await openAthensRuntime.startJob(ctx, requestFor(ctx, DATE)).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(VendorUnavailableError);
      expect((error as VendorUnavailableError).retryable).toBe(true);
      expect((error as Error).message).toMatch(/^openathens organisation "example-org" \(api name "example.org"\): /);
      expect(sim.requests).toHaveLength(3);
    });
  });

  it('fails when the API name is unknown to the vendor (404), naming it', async () => {
    // Prepare: a tenant whose apiName the simulator's router does not know
    const sim = await simulator();
    const ctx = contextFor(sim);
    const wrong = { ...ctx, baseUrl: `${sim.baseUrl}/nowhere` };
    // Act
    const error = await openAthensRuntime.startJob(wrong, requestFor(ctx, DATE)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect((error as Error).message).toMatch(/answered 404: expected "example.org" to be the organisation's API name/);
  });
});

describe('checkJob', () => {
  it('polls the SELF link until FINISHED, counting checks', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 3 } });
    const ctx = contextFor(sim);
    const request = requestFor(ctx, DATE);
    // Act
    const { steps, fetched } = await runFlow(ctx, request);
    const kindsBeforeOpen = sim.requests.map((r) => r.kind);
    await openSource(fetched);
    // Assess
    expect(steps.map((s) => s.status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'READY']);
    expect(steps.map((s) => s.job.checks)).toEqual([0, 1, 2, 3]);
    expect(kindsBeforeOpen).toEqual(['start', 'task', 'task', 'task']);
    expect(sim.requests.map((r) => r.kind)).toEqual(['start', 'task', 'task', 'task', 'download']);
    const taskId = steps[0]?.job.taskId;
    expect(sim.requests[1]?.path).toBe(`/api/v1/example.org/rawtask/${taskId}`);
  });

  it('keeps polling while the task runs for a time (durationMs)', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 0, durationMs: 120 } });
    const ctx = contextFor(sim);
    // Act
    const { steps, fetched } = await runFlow(ctx, requestFor(ctx, DATE), { pauseMs: 40, maxChecks: 50 });
    // Assess
    expect(steps[0]?.status).toBe('PENDING');
    expect(steps.at(-1)?.status).toBe('READY');
    expect(fetched.status).toBe('FETCHED');
  });

  it('stays PENDING for a task that never finishes (the state machine deadline ends it)', async () => {
    // Prepare
    const sim = await simulator({ task: { neverFinish: true } });
    const ctx = contextFor(sim);
    // Act
    const { steps } = await runFlow(ctx, requestFor(ctx, DATE), { maxChecks: 5 });
    // Assess
    expect(steps).toHaveLength(6);
    expect(new Set(steps.map((s) => s.status))).toEqual(new Set(['PENDING']));
    expect(steps.at(-1)?.job.checks).toBe(5);
  });

  it('selects links by rel, not by position', async () => {
    // Prepare: decoy UP and CANCEL links come first
    const sim = await simulator({ task: { runningPolls: 1 }, decoyLinks: true });
    const ctx = contextFor(sim);
    // Act
    const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
    const { bytes } = await openSource(fetched);
    // Assess
    expect(bytes.length).toBeGreaterThan(0);
    expect(sim.requests.map((r) => r.path.split('/').slice(4, 5)[0])).toEqual(['rawreport', 'rawtask', 'rawreport']);
    expect(sim.requests.some((r) => r.path.endsWith('/cancel'))).toBe(false);
  });

  it('fails naming an undocumented task status', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 1, finalStatus: 'CANCELLED' } });
    const ctx = contextFor(sim);
    // Act
    const { steps } = await runFlow(ctx, requestFor(ctx, DATE));
    // Assess
    expect(steps.map((s) => s.status)).toEqual(['PENDING', 'FAILED']);
    expect(steps[1]?.reason).toMatch(/example-org.*reported status "CANCELLED"; expected RUNNING or FINISHED/);
  });

  it('asks for a restart when the vendor has forgotten the task (404)', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 5, ttlMs: 0 } });
    const ctx = contextFor(sim);
    const request = requestFor(ctx, DATE);
    const started = await openAthensRuntime.startJob(ctx, request);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Act
    const checked = await openAthensRuntime.checkJob(ctx, request, started.job);
    // Assess
    expect(checked.status).toBe('RESTART');
    expect(checked.reason).toMatch(/is gone \(404\)/);
  });

  it('raises VendorAuthError naming the organisation when the key is revoked mid-job', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 2 } });
    const ctx = contextFor(sim);
    const request = requestFor(ctx, DATE);
    const started = await openAthensRuntime.startJob(ctx, request);
    const revoked = contextFor(sim, { credentials: { apiKey: 'revoked-key-456' } });
    // Act
    const error = await openAthensRuntime.checkJob(revoked, request, started.job).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorAuthError);
    expect((error as Error).message).toMatch(/example-org.*check raw report task was refused \(401 badCredentials\)/);
    expect((error as Error).message).not.toContain('revoked-key-456');
  });

  it('refuses a link to a host outside the allowlist', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 1 }, linkOrigin: 'https://reports.attacker.example' });
    const ctx = contextFor(sim);
    const request = requestFor(ctx, DATE);
    const started = await openAthensRuntime.startJob(ctx, request);
    // Act
    const error = await openAthensRuntime.checkJob(ctx, request, started.job).catch((e: unknown) => e);
    // Assess
    expect(started.job.taskHref).toMatch(/^https:\/\/reports\.attacker\.example\//);
    expect(error).toBeInstanceOf(DisallowedHostError);
    expect((error as Error).message).toContain('organisation "example-org"');
    expect(sim.requests).toHaveLength(1);
  });
});

describe('fetchReport', () => {
  it.each([
    ['gzip', 'application/gzip'],
    ['zip', 'application/zip'],
    ['plain', 'text/csv'],
  ] as const)('delivers the %s download byte for byte, as a data source', async (format, contentType) => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 0 }, download: { format } });
    const ctx = contextFor(sim);
    // Act
    const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
    const opened = await openSource(fetched);
    const decoded = await decode(opened.bytes);
    // Assess
    expect(fetched.status).toBe('FETCHED');
    if (fetched.status !== 'FETCHED') return;
    expect(fetched.sources.map((s) => [s.fileName, s.role])).toEqual([[`rawstats_${DATE}`, 'data']]);
    expect(fetched.requestParameters).toEqual({
      apiName: 'example.org',
      date: DATE,
      endpoint: 'rawreport',
      filename: `rawstats_${DATE}.csv`,
    });
    expect(JSON.stringify(fetched.job)).not.toContain(KEY_OF['example-org']);
    expect(opened.contentType).toBe(contentType);
    expect(decoded.format).toBe(format);
    expect(decoded.text).toBe(sim.csv('example.org', DATE));
    const download = sim.requests.find((r) => r.kind === 'download');
    expect(download?.query).toEqual({ filename: `rawstats_${DATE}.csv` });
    expect(download?.headers.authorization).toBe('OAApiKey [redacted]');
  });

  it('passes the bytes through whatever the Content-Type claims', async () => {
    // Prepare: gzip bytes labelled as the DOWN link's JSON type
    const sim = await simulator({
      task: { runningPolls: 0 },
      download: { format: 'gzip', contentType: 'application/vnd.eduserv.iam.reports.report-v1+json' },
    });
    const ctx = contextFor(sim);
    // Act
    const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
    const decoded = await decode((await openSource(fetched)).bytes);
    // Assess
    expect(decoded.format).toBe('gzip');
    expect(decoded.text).toBe(sim.csv('example.org', DATE));
  });

  it('delivers each organisation its own attribute columns, which toRecord maps', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 0 }, download: { extraColumns: ['request.referrer'] } });
    const found: Record<string, string[]> = {};
    for (const org of DEFAULT_ORGANISATIONS) {
      const ctx = contextFor(sim, { tenantId: org.tenantId });
      // Act
      const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
      const { text } = await decode((await openSource(fetched)).bytes);
      const rows = parse(text, { columns: true, bom: true }) as Record<string, string>[];
      const records = rows.map((row) => openAthensDefinition.reports[0]?.toRecord(row));
      found[org.tenantId] = [...new Set(records.flatMap((r) => Object.keys((r?.attributes ?? {}) as object)))].sort();
      // Assess
      expect(records).toHaveLength(60);
      expect(records.every((r) => Object.keys((r?.extra ?? {}) as object).join() === 'request.referrer')).toBe(true);
    }
    // Assess
    expect(found).toEqual({
      'example-org': ['department', 'eduPersonAffiliation'],
      'example-org-medicine': ['costCentre', 'department', 'jobTitle'],
      'hospital-example': [],
    });
  });

  it('fails the download stream of a truncated file with a retryable error', async () => {
    // Prepare
    const sim = await simulator({ task: { runningPolls: 0 }, download: { truncate: true, format: 'plain' } });
    const ctx = contextFor(sim);
    const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
    if (fetched.status !== 'FETCHED') throw new Error(`expected FETCHED; received ${fetched.status}`);
    const opened = await fetched.sources[0]?.open();
    // Act
    const error = await readAll(opened?.body as NodeJS.ReadableStream).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect((error as Error).message).toMatch(/truncated download: received \d+ of \d+ bytes/);
  });

  it('retries transient errors on the download', async () => {
    // Prepare
    const sim = await simulator({
      task: { runningPolls: 0 },
      transientErrors: { count: 2, status: 503, on: 'download' },
    });
    const ctx = contextFor(sim);
    // Act
    const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
    const { text } = await decode((await openSource(fetched)).bytes);
    // Assess
    expect(text).toBe(sim.csv('example.org', DATE));
    expect(sim.requests.filter((r) => r.kind === 'download').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('asks for a restart when job has no DOWN link', async () => {
    // Prepare
    const sim = await simulator();
    const ctx = contextFor(sim);
    // Act
    const result = await openAthensRuntime.fetchReport(ctx, requestFor(ctx, DATE), { checks: 2 });
    // Assess
    expect(result.status).toBe('RESTART');
    expect(sim.requests).toHaveLength(0);
  });

  describe('when the DOWN link points to another (allowed) host', () => {
    let other: Server | undefined;
    afterEach(async () => {
      await new Promise((resolve) => other?.close(resolve));
    });

    it('does not send the API key there', async () => {
      // Prepare: a plain file host that records what it receives
      const seen: IncomingHttpHeaders[] = [];
      other = createServer((req, res) => {
        seen.push(req.headers);
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': 4 });
        res.end('a,b\n');
      });
      await new Promise<void>((resolve) => other?.listen(0, '127.0.0.1', resolve));
      const fileHost = `localhost:${(other.address() as AddressInfo).port}`;
      const sim = await simulator({ task: { runningPolls: 0 }, linkOrigin: `http://${fileHost}` });
      const ctx = contextFor(sim, { extraHosts: [fileHost] });
      // Act
      const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
      const { bytes } = await openSource(fetched);
      // Assess
      expect(bytes.toString()).toBe('a,b\n');
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toBeUndefined();
    });
  });
});

describe('logging', () => {
  it('never writes the API key to the log, across a whole flow with retries and a refusal', async () => {
    // Prepare
    const output = new LogCapture().start();
    const logger = new Logger({ serviceName: 'openathens-test', logLevel: 'DEBUG' });
    const sim = await simulator({ task: { runningPolls: 2 }, transientErrors: { count: 1, status: 500 } });
    const ctx = contextFor(sim, { logger });
    const bad = await simulator({ organisations: [organisation({ keyProblem: 'invalidIP' })] });
    const badCtx = contextFor(bad, { logger });
    // Act
    const { fetched } = await runFlow(ctx, requestFor(ctx, DATE));
    await openSource(fetched);
    await openAthensRuntime.startJob(badCtx, requestFor(badCtx, DATE)).catch(() => undefined);
    output.stop();
    // Assess
    const log = output.text();
    expect(log).toContain('raw report ready');
    expect(log).toContain('retrying http request');
    expect(log).not.toContain(KEY_OF['example-org']);
    expect(log).not.toContain('OAApiKey sim');
  });

  it('redacts the API key a careless vendor echoes in its error bodies from reason, job, error and logs', async () => {
    // Prepare: every 4xx repeats the key; the vendor's clock is 2 days ahead (400 on an old date)
    const output = new LogCapture().start();
    const logger = new Logger({ serviceName: 'openathens-test', logLevel: 'DEBUG' });
    const [first, second] = DEFAULT_ORGANISATIONS as [SimulatedOrganisation, SimulatedOrganisation];
    const sim = await simulator({
      echoApiKey: true,
      now: () => new Date(Date.now() + 2 * 86_400_000),
      organisations: [first, { ...second, keyProblem: 'invalidIP' }],
    });
    const ctx = contextFor(sim, { logger });
    const refusedCtx = contextFor(sim, { logger, tenantId: second.tenantId });
    const oldDate = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    // Act
    const failed = await openAthensRuntime.startJob(ctx, requestFor(ctx, oldDate));
    const error = await openAthensRuntime.startJob(refusedCtx, requestFor(refusedCtx, DATE)).catch((e: unknown) => e);
    output.stop();
    // Assess
    expect(failed.status).toBe('FAILED');
    expect(error).toBeInstanceOf(VendorAuthError);
    expect(sim.requests.map((r) => r.status)).toEqual([400, 401]);
    const message = (error as Error).message;
    const everything = [JSON.stringify(failed), message, (error as Error).stack ?? '', output.text()].join('\n');
    for (const key of [first.apiKey, second.apiKey]) {
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(`OAApiKey ${key}`);
    }
    // the bodies were read: the vendor's words are there, only the key is gone
    expect(failed.reason).toMatch(/refused \(400\): .*raw statistics are available from .* \(API key \[redacted\]\)/);
    expect(message).toContain('Requests are not permitted from this IP address (API key [redacted])');
  });

  it('redacts an echoed API key before shortening the body, so a key cut at the limit leaves no prefix', async () => {
    // Prepare: a key long enough that the 300-character snippet ends inside it
    const [first] = DEFAULT_ORGANISATIONS as [SimulatedOrganisation];
    const apiKey = `sim-oa-long-${'9f3c2b1a'.repeat(48)}`;
    const sim = await simulator({
      echoApiKey: true,
      now: () => new Date(Date.now() + 2 * 86_400_000),
      organisations: [{ ...first, apiKey }],
    });
    const ctx = contextFor(sim);
    const oldDate = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    // Act
    const failed = await openAthensRuntime.startJob(ctx, requestFor(ctx, oldDate));
    // Assess
    expect(failed.status).toBe('FAILED');
    expect(JSON.stringify(failed)).not.toContain(apiKey.slice(0, 24));
    expect(failed.reason).toContain('(API key [redacted])');
  });
});
