/** The PingOne connector against the simulator over real HTTP on loopback, one switch at a time. */
import { Logger } from '@aws-lambda-powertools/logger';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callDataExplorations, resetPingOneClientState } from '../../../lambdas/connectors/pingone/client.ts';
import { toMfaDeviceRecord } from '../../../lambdas/connectors/pingone/records.ts';
import { createPingOneRuntime } from '../../../lambdas/connectors/pingone/runtime.ts';
import {
  DeadlineExceededError,
  VendorAuthError,
  VendorRequestError,
  VendorThrottledError,
  VendorUnavailableError,
} from '../../../lambdas/core/errors.ts';
import type { FetchResult, JobResult } from '../../../lambdas/core/types.ts';
import type { PingOneSimulator, PingOneSimulatorOptions } from '../../../simulators/pingone/server.ts';
import {
  type ContextOptions,
  callGaps,
  contextFor,
  dataRows,
  expectNoSecrets,
  LogCapture,
  openAll,
  requestFor,
  returnedText,
  runFlow,
  secretsOf,
  startSim,
  TENANT_A,
  TENANT_B,
  unzipText,
  WINDOW_MS,
} from './helpers.ts';

const pingOneRuntime = createPingOneRuntime();

let sim: PingOneSimulator | undefined;
let capture: LogCapture | undefined;

beforeEach(() => {
  resetPingOneClientState();
});

afterEach(async () => {
  capture?.stop();
  capture = undefined;
  await sim?.close();
  sim = undefined;
});

async function simulator(options: PingOneSimulatorOptions = {}): Promise<PingOneSimulator> {
  sim = await startSim(options);
  return sim;
}

/** A context whose logs (DEBUG and up) are captured for the leak checks. */
function capturedContext(s: PingOneSimulator, options: ContextOptions = {}) {
  capture = new LogCapture().start();
  return contextFor(s, { ...options, logger: new Logger({ serviceName: 'pingone-test', logLevel: 'DEBUG' }) });
}

function apiRequests(s: PingOneSimulator) {
  return s.requests.filter((r) => r.server === 'api');
}

/** Every returned value, log line and error must be free of tokens, passwords and client secrets. */
function assertNoLeaks(s: PingOneSimulator, values: (JobResult | FetchResult)[], errors: unknown[] = []) {
  const texts = [
    ...values.map((v) => returnedText(v)),
    ...errors.map((e) => `${(e as Error).message}\n${(e as Error).stack ?? ''}`),
    capture?.text() ?? '',
  ];
  expect(expectNoSecrets(texts, secretsOf(s))).toEqual([]);
  expect(capture?.text() ?? '').not.toMatch(/X-Amz-(Signature|Security-Token|Credential)/);
}

function assertSpacing(s: PingOneSimulator) {
  expect(s.stats.rateLimited).toBe(0);
  for (const gap of callGaps(s)) expect(gap).toBeGreaterThanOrEqual(WINDOW_MS);
}

const JOB_KEYS = ['checks', 'createdAt', 'deliverAs', 'explorationId', 'lastCallAt', 'linkRefreshes'];

describe('file mode (ASYNC_FILE)', () => {
  it('goes start → check (IN_PROGRESS) → fetch and delivers the encrypted CSV and JSON zips', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 2 });
    const ctx = capturedContext(s);
    // Act
    const { steps, fetched } = await runFlow(ctx);
    const files = await openAll(fetched);
    // Assess
    expect(steps.map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'READY']);
    expect(steps[0]?.waitSeconds).toBe(ctx.settings.poll.intervalSeconds);
    for (const step of steps) expect(Object.keys(step.job).every((k) => JOB_KEYS.includes(k))).toBe(true);
    if (fetched.status !== 'FETCHED') throw new Error('not fetched');
    expect(files.map((f) => [f.role, f.fileName])).toEqual([
      ['data', expect.stringMatching(/^devices-report-3f0d3c1e-.*\.csv\.zip$/)],
      ['original', expect.stringMatching(/^devices-report-3f0d3c1e-.*\.json\.zip$/)],
    ]);
    const csv = await unzipText(files[0]?.bytes as Buffer, files[0]?.password);
    const json = await unzipText(files[1]?.bytes as Buffer, files[1]?.password);
    expect(csv.zipCrypto).toBe(true);
    expect(JSON.parse(json.text)).toHaveLength(60);
    expect(fetched.requestParameters).toMatchObject({
      environmentId: ctx.tenant.environmentId,
      deliverAs: 'ASYNC_FILE',
      fields: 'all',
      filter: null,
    });
    expect(fetched.job).toMatchObject({ dataExplorationId: steps[0]?.job.explorationId, status: 'SUCCESS' });
    // Pre-signed links: no Authorization header, storage host only.
    const downloads = s.requests.filter((r) => r.route === 'download');
    expect(downloads).toHaveLength(2);
    expect(downloads.every((r) => !r.hasAuthorization && r.status === 200)).toBe(true);
    expect(s.requests.some((r) => r.path.includes('/v1/v1'))).toBe(false);
    expect(s.requests.filter((r) => r.route === 'token')).toHaveLength(1);
    assertSpacing(s);
    assertNoLeaks(s, [...steps, fetched]);
  });

  it('every CSV row converts, and the table answers the dataset count exactly', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0, rowsPerEnvironment: 137 });
    const ctx = contextFor(s);
    const truth = s.dataset(ctx.tenant.environmentId);
    // Act
    const rows = await dataRows((await runFlow(ctx)).fetched);
    const records = rows.map((r) => toMfaDeviceRecord(r));
    // Assess
    expect(records).toHaveLength(137);
    expect(records.filter((r) => r.mfa_enabled === false)).toHaveLength(
      truth.filter((r) => r.mfaEnabled === false).length,
    );
    expect(records.filter((r) => r.device_integrity_state_compromised === true)).toHaveLength(
      truth.filter((r) => r.deviceIntegrityStateCompromised === true).length,
    );
    expect(records.map((r) => r.family_name)).toEqual(truth.map((r) => r.familyName || null));
    expect(records.every((r) => JSON.stringify(r.extra) === '{}')).toBe(true);
  });

  it('spaces every call across separate invocations (fresh containers) using job.lastCallAt', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 3 });
    const ctx = contextFor(s);
    // Act
    const { fetched } = await runFlow(ctx, { freshContainers: true });
    // Assess
    expect(fetched.status).toBe('FETCHED');
    expect(apiRequests(s).length).toBe(6);
    assertSpacing(s);
  });

  it('a fresh container starting a job never trips the limiter right after another container called', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0, rateLimitWindowMs: 150 });
    const ctx = contextFor(s, { section: { callIntervalMs: 150 } });
    const other = contextFor(s);
    await pingOneRuntime.startJob(other, requestFor(other));
    resetPingOneClientState();
    // Act
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    // Assess
    expect(started.status).toBe('PENDING');
    expect(apiRequests(s).map((r) => r.status)).toEqual([201, 201]);
    assertSpacing(s);
  });

  it('serialises concurrent calls for one environment within a container', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 10 });
    const ctx = contextFor(s);
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    // Act
    const checks = await Promise.all([1, 2, 3].map(() => pingOneRuntime.checkJob(ctx, requestFor(ctx), started.job)));
    // Assess
    expect(checks.map((c) => c.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    assertSpacing(s);
  });

  it.each(['zipcrypto', 'aes256'] as const)(
    'opens %s-encrypted zips with the password it got',
    async (zipEncryption) => {
      // Prepare
      const s = await simulator({ pollsUntilDone: 0, zipEncryption });
      const ctx = contextFor(s);
      // Act
      const files = await openAll((await runFlow(ctx)).fetched);
      const csv = await unzipText(files[0]?.bytes as Buffer, files[0]?.password);
      // Assess
      expect(csv.zipCrypto).toBe(zipEncryption === 'zipcrypto');
      expect(parse(csv.text, { columns: true })).toHaveLength(60);
    },
  );

  it('finds the JSON link leniently under another name, and tolerates a BOM and LF line endings', async () => {
    // Prepare
    const s = await simulator({
      pollsUntilDone: 0,
      jsonLinkField: 'jsonFilePresignedURL',
      csvBom: true,
      csvLineEnding: '\n',
      jsonLayout: 'ndjson',
    });
    const ctx = contextFor(s);
    // Act
    const { fetched } = await runFlow(ctx);
    const rows = await dataRows(fetched);
    // Assess
    if (fetched.status !== 'FETCHED') throw new Error('not fetched');
    expect(fetched.sources.map((x) => x.role)).toEqual(['data', 'original']);
    expect(rows.map((r) => toMfaDeviceRecord(r).user_id)).toEqual(
      s.dataset(ctx.tenant.environmentId).map((r) => r.userId),
    );
  });

  it('accepts a 202 create and a cached file ready on the first poll', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 2, createStatus: 202 });
    const ctx = contextFor(s);
    await runFlow(ctx);
    // Act
    const again = await runFlow(ctx);
    // Assess
    expect(again.steps.map((r) => r.status)).toEqual(['PENDING', 'READY']);
    expect(again.fetched.status).toBe('FETCHED');
    expect(s.stats.filesGenerated).toBe(1);
  });

  it('sends the configured fields and filter and gets exactly the matching rows', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0, rowsPerEnvironment: 200 });
    const ctx = contextFor(s, {
      tenant: { fields: ['userId', 'deviceType', 'phone'], filter: '(phone sw "+44") or (deviceType eq "EMAIL")' },
    });
    const truth = s
      .dataset(ctx.tenant.environmentId)
      .filter((r) => String(r.phone ?? '').startsWith('+44') || r.deviceType === 'EMAIL');
    // Act
    const { fetched } = await runFlow(ctx);
    const rows = await dataRows(fetched);
    // Assess
    expect(truth.length).toBeGreaterThan(0);
    expect(rows).toHaveLength(truth.length);
    expect(Object.keys(rows[0] ?? {})).toEqual(['userId', 'deviceType', 'phone']);
    if (fetched.status === 'FETCHED')
      expect(fetched.requestParameters.fields).toEqual(['userId', 'deviceType', 'phone']);
  });

  it.each(['http://HOST', 'http://HOST/', 'http://HOST/v1/'])('never doubles /v1 with baseUrl %s', async (pattern) => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0 });
    const ctx = contextFor(s, { section: { baseUrl: pattern.replace('HOST', s.hosts.api) } });
    // Act
    const { fetched } = await runFlow(ctx);
    // Assess
    expect(fetched.status).toBe('FETCHED');
    expect(apiRequests(s).every((r) => r.path.startsWith('/v1/environments/'))).toBe(true);
  });
});

describe('file mode: failures and restarts', () => {
  it('fails on a status other than IN_PROGRESS or SUCCESS, naming it and the environment', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 1, terminalStatus: 'EXPIRED' });
    const ctx = contextFor(s);
    // Act
    const { steps, fetched } = await runFlow(ctx);
    // Assess
    expect(steps.map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'FAILED']);
    expect(fetched.status).toBe('FAILED');
    expect((fetched as JobResult).reason).toMatch(
      new RegExp(
        `environment ${ctx.tenant.environmentId} \\(tenant "${TENANT_A}"\\): dataExploration .* reported status EXPIRED`,
      ),
    );
  });

  it('restarts on 404 (the exploration expired), and the restarted job completes', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 1 });
    const ctx = contextFor(s);
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    s.advanceTime(31 * 60_000);
    // Act
    const checked = await pingOneRuntime.checkJob(ctx, requestFor(ctx), started.job);
    const again = await runFlow(ctx);
    // Assess
    expect(checked.status).toBe('RESTART');
    expect(checked.reason).toMatch(/is gone \(HTTP 404\)/);
    expect(checked.job.explorationId).toBeUndefined();
    expect(again.fetched.status).toBe('FETCHED');
  });

  it('restarts a job older than the 2-hour cache window without calling PingOne', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 5 });
    let offset = 0;
    const ctx = contextFor(s, { now: () => new Date(Date.now() + offset) });
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    const before = apiRequests(s).length;
    offset = 2 * 3_600_000;
    // Act
    const checked = await pingOneRuntime.checkJob(ctx, requestFor(ctx), started.job);
    const fetched = await pingOneRuntime.fetchReport(ctx, requestFor(ctx), started.job);
    // Assess
    expect(checked.status).toBe('RESTART');
    expect(fetched.status).toBe('RESTART');
    expect(checked.reason).toMatch(/older than the 2-hour file cache/);
    expect(apiRequests(s).length).toBe(before);
  });

  it('a link refused by the storage host (403) gets fresh links on the next round', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0, refuseFirstDownloads: 1 });
    const ctx = capturedContext(s);
    // Act
    const { steps, fetched } = await runFlow(ctx);
    // Assess
    expect(steps.map((r) => r.status)).toEqual(['PENDING', 'READY', 'PENDING', 'READY']);
    expect(steps[2]?.job.linkRefreshes).toBe(1);
    expect(fetched.status).toBe('FETCHED');
    // Every SUCCESS answer carries two fresh links: check, fetch (refused), check, fetch.
    expect(s.stats.linksIssued).toBe(8);
    expect(capture?.text()).toContain('report link refused by the storage host');
    expect((await openAll(fetched)).every((f) => f.bytes.length > 0)).toBe(true);
    assertSpacing(s);
    assertNoLeaks(s, [...steps, fetched]);
  });

  it('links that expired before the download (5-minute lifetime) are refreshed too', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0, linkTtlMs: 0 });
    const ctx = contextFor(s, { section: { maxLinkRefreshes: 2 } });
    // Act
    const { steps, fetched } = await runFlow(ctx);
    // Assess
    expect(steps.filter((r) => r.status === 'PENDING' && r.job.linkRefreshes !== 0).length).toBe(2);
    expect(fetched.status).toBe('FAILED');
    expect((fetched as JobResult).reason).toMatch(/refused the report links \(HTTP 403\) 3 times in a row/);
    expect(s.requests.filter((r) => r.route === 'download').every((r) => r.status === 403)).toBe(true);
  });

  it('restarts when the storage host no longer has the file (404)', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0, faults: [{ route: 'download', status: 404 }] });
    const ctx = contextFor(s);
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    // Act
    const fetched = await pingOneRuntime.fetchReport(ctx, requestFor(ctx), started.job);
    // Assess
    expect(fetched.status).toBe('RESTART');
  });

  it('refuses links to a host outside the allowlist, before sending anything there', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 0 });
    const ctx = contextFor(s, { allowedHosts: [s.hosts.api, s.hosts.auth] });
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    // Act
    const act = pingOneRuntime.fetchReport(ctx, requestFor(ctx), started.job);
    // Assess
    await expect(act).rejects.toThrow(/host 127\.0\.0\.1:\d+ is not allowed/);
    expect(s.requests.filter((r) => r.route === 'download')).toHaveLength(0);
  });
});

describe('entries mode (ENTRIES)', () => {
  it.each([
    ['embedded', false],
    ['top-level', true],
  ] as const)(
    'follows _links.next (%s pages, booleans as strings: %s) into the same table as file mode',
    async (entriesShape, entriesBooleansAsStrings) => {
      // Prepare
      const s = await simulator({ pollsUntilDone: 0, entriesShape, entriesBooleansAsStrings });
      const fileCtx = contextFor(s);
      const fileRecords = (await dataRows((await runFlow(fileCtx)).fetched)).map((r) => toMfaDeviceRecord(r));
      const ctx = capturedContext(s, {
        tenant: { deliverAs: 'ENTRIES' },
        section: { entries: { pageLimit: 9, deadlineSeconds: 60 } },
      });
      // Act
      const { steps, fetched } = await runFlow(ctx);
      const records = (await dataRows(fetched)).map((r) => toMfaDeviceRecord(r));
      // Assess
      expect(steps.map((r) => r.status)).toEqual(['READY']);
      expect(s.requests.filter((r) => r.route === 'entries')).toHaveLength(Math.ceil(60 / 9));
      expect(records).toEqual(fileRecords);
      if (fetched.status === 'FETCHED') {
        expect(fetched.sources.map((x) => [x.fileName, x.role, x.password])).toEqual([
          ['mfa-devices-entries.jsonl', 'derived', undefined],
          ['mfa-devices-entries.pages.json', 'original', undefined],
        ]);
      }
      assertSpacing(s);
      assertNoLeaks(s, [...steps, fetched]);
    },
  );

  it('client_secret_post tenants work and reuse one token for every page', async () => {
    // Prepare
    const s = await simulator();
    const ctx = contextFor(s, { tenantId: TENANT_B, section: { entries: { pageLimit: 25, deadlineSeconds: 60 } } });
    // Act
    const rows = await dataRows((await runFlow(ctx)).fetched);
    // Assess
    expect(rows).toHaveLength(60);
    const tokens = s.requests.filter((r) => r.route === 'token');
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.hasAuthorization).toBe(false);
    expect(tokens[0]?.form).toMatchObject({ grant_type: 'client_credentials', client_id: expect.any(String) });
  });

  it('stops paging at the deadline with an error that says to use ASYNC_FILE', async () => {
    // Prepare
    const s = await simulator({ rateLimitWindowMs: 60 });
    const ctx = contextFor(s, {
      tenantId: TENANT_B,
      section: { callIntervalMs: 60, entries: { pageLimit: 1, deadlineSeconds: 1 } },
    });
    // Act
    const act = dataRows((await runFlow(ctx)).fetched);
    // Assess
    await expect(act).rejects.toThrow(DeadlineExceededError);
    await expect(act).rejects.toThrow(/entries paging stopped after \d+ pages .* use deliverAs ASYNC_FILE/);
    expect(s.requests.filter((r) => r.route === 'entries').length).toBeLessThan(60);
  });

  it('restarts when the exploration is gone before the first page', async () => {
    // Prepare
    const s = await simulator();
    const ctx = contextFor(s, { tenantId: TENANT_B });
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    s.forgetExplorations();
    // Act
    const fetched = await pingOneRuntime.fetchReport(ctx, requestFor(ctx), started.job);
    // Assess
    expect(fetched.status).toBe('RESTART');
  });

  it('never sends the token to a next link on another origin', async () => {
    // Prepare
    const s = await simulator();
    const ctx = contextFor(s, { allowedHosts: [s.hosts.api, s.hosts.auth, s.hosts.storage] });
    // Act
    const act = callDataExplorations(
      ctx,
      {},
      { method: 'GET', url: `${s.storageUrl}/v1/environments/x`, operation: 'get mfa report entries' },
    );
    // Assess
    await expect(act).rejects.toThrow(VendorRequestError);
    await expect(act).rejects.toThrow(/expected a URL on http:\/\/127\.0\.0\.1:\d+; received one on/);
    expect(s.requests).toHaveLength(0);
  });
});

describe('auth', () => {
  it('bad credentials end the run with a VendorAuthError naming the environment, not the secret', async () => {
    // Prepare
    const s = await simulator();
    const ctx = capturedContext(s, {
      credentials: { clientId: 'a1b2c3d4-0000-4000-8000-00000000000a', clientSecret: 'wrong-Secret-123' },
    });
    // Act
    const error = await pingOneRuntime.startJob(ctx, requestFor(ctx)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorAuthError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `environment ${ctx.tenant.environmentId} \\(tenant "${TENANT_A}"\\): the token request was refused \\(HTTP 401 ACCESS_FAILED`,
      ),
    );
    expect((error as Error).message).not.toContain('wrong-Secret-123');
    expect(apiRequests(s)).toHaveLength(0);
    assertNoLeaks(s, [], [error]);
    expect(capture?.text()).not.toContain('wrong-Secret-123');
  });

  it.each([
    [TENANT_A, 'client_secret_basic'],
    [TENANT_B, 'client_secret_post'],
  ])("a token error echoing the credential (%s, %s) keeps PingOne's words but not the secret", async (tenantId) => {
    // Prepare: the token endpoint repeats the Authorization header (basic) or client_secret (post)
    const s = await simulator({ faults: [{ route: 'token', status: 401, echoCredentials: true }] });
    const ctx = capturedContext(s, { tenantId });
    const { clientId, clientSecret } = await ctx.credentials();
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    // Act
    const error = await pingOneRuntime.startJob(ctx, requestFor(ctx)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorAuthError);
    expect(s.requests.filter((r) => r.route === 'token').map((r) => r.status)).toEqual([401]);
    const message = (error as Error).message;
    const everything = [message, (error as Error).stack ?? '', capture?.text() ?? ''].join('\n');
    for (const form of [clientSecret, encodeURIComponent(clientSecret), basic, `Basic ${basic}`]) {
      expect(everything).not.toContain(form);
    }
    assertNoLeaks(s, [], [error]);
    // the body was read: PingOne's code and message are there, only the credential is gone
    expect(message).toContain('(HTTP 401 ACCESS_FAILED: simulated 401: invalid credentials [redacted])');
  });

  it('an echoed client secret is redacted before the message is shortened, so a cut leaves no prefix', async () => {
    // Prepare: a client secret long enough that the 300-character message ends inside it
    const base = await simulator();
    const clientSecret = `sim-secret-long-${'7Hq2.x9~'.repeat(48)}`;
    const environments = base.environments.map((e, i) => (i === 1 ? { ...e, clientSecret } : e));
    await base.close();
    const s = await simulator({ environments, faults: [{ route: 'token', status: 401, echoCredentials: true }] });
    const ctx = capturedContext(s, { tenantId: TENANT_B }); // client_secret_post: the form's secret is echoed
    // Act
    const error = await pingOneRuntime.startJob(ctx, requestFor(ctx)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorAuthError);
    expect((await ctx.credentials()).clientSecret).toBe(clientSecret);
    const everything = [(error as Error).message, (error as Error).stack ?? '', capture?.text() ?? ''].join('\n');
    expect(everything).not.toContain(clientSecret.slice(0, 24));
    expect(everything).not.toContain(encodeURIComponent(clientSecret).slice(0, 24));
  });

  it("a refused report request echoing the bare access token keeps PingOne's words but not the token", async () => {
    // Prepare: the create call answers 400 and repeats the token it was sent, without "Bearer"
    const s = await simulator({ faults: [{ route: 'create', status: 400, echoCredentials: true }] });
    const ctx = capturedContext(s);
    // Act
    const error = await pingOneRuntime.startJob(ctx, requestFor(ctx)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(s.issuedSecrets.length).toBeGreaterThan(0);
    assertNoLeaks(s, [], [error]);
    // the body was read: PingOne's message is there, only the token is gone
    expect((error as Error).message).toContain('simulated 400: invalid credentials [redacted])');
  });

  it('the wrong token endpoint auth method is refused the same way', async () => {
    // Prepare
    const s = await simulator();
    const ctx = contextFor(s, { tenant: { tokenAuthMethod: 'client_secret_post' } });
    // Act
    const act = pingOneRuntime.startJob(ctx, requestFor(ctx));
    // Assess
    await expect(act).rejects.toThrow(VendorAuthError);
    await expect(act).rejects.toThrow(/token endpoint authentication method is client_secret_post/);
  });

  it('a worker app without the role gets a 403 message naming the environment; the other environment is unaffected', async () => {
    // Prepare
    const base = await simulator();
    const environments = base.environments.map((e, i) => ({ ...e, forbidden: i === 0 }));
    await base.close();
    const s = await simulator({ environments });
    const forbidden = contextFor(s);
    const other = contextFor(s, { tenantId: TENANT_B });
    // Act
    const error = await pingOneRuntime.startJob(forbidden, requestFor(forbidden)).catch((e: unknown) => e);
    const rows = await dataRows((await runFlow(other)).fetched);
    // Assess
    expect(error).toBeInstanceOf(VendorAuthError);
    expect((error as Error).message).toMatch(
      /create mfa report was refused \(HTTP 403 ACCESS_FAILED \/ INSUFFICIENT_PERMISSIONS/,
    );
    expect((error as Error).message).toContain(forbidden.tenant.environmentId);
    expect(rows).toHaveLength(60);
  });

  it('asks for a new token once when the cached one is refused', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 3, explorationTtlMs: 10 * 3_600_000 });
    const ctx = contextFor(s);
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    // The simulator's clock passes the token's hour; the connector's cache still trusts it.
    s.advanceTime(3_600_000 + 1);
    // Act
    const checked = await pingOneRuntime.checkJob(ctx, requestFor(ctx), started.job);
    // Assess
    expect(checked.status).toBe('PENDING');
    expect(s.requests.filter((r) => r.route === 'token')).toHaveLength(2);
    expect(apiRequests(s).map((r) => r.status)).toEqual([201, 401, 200]);
    assertSpacing(s);
  });
});

describe('rate limits and errors', () => {
  it.each([['an HTTP date', () => new Date(Date.now() + 1500).toUTCString()]])(
    'a 429 REQUEST_LIMITED with Retry-After in %s is waited out and retried',
    async (_label, retryAfter) => {
      // Prepare
      const s = await simulator({ pollsUntilDone: 0 });
      s.addFault({ route: 'create', status: 429, retryAfter: retryAfter() });
      const ctx = contextFor(s);
      // Act
      const { fetched } = await runFlow(ctx);
      // Assess
      expect(fetched.status).toBe('FETCHED');
      expect(
        apiRequests(s)
          .map((r) => r.status)
          .slice(0, 2),
      ).toEqual([429, 201]);
    },
  );

  it('a long Retry-After is raised as VendorThrottledError for the state machine to wait', async () => {
    // Prepare
    const s = await simulator({ pollsUntilDone: 1 });
    const ctx = contextFor(s);
    const started = await pingOneRuntime.startJob(ctx, requestFor(ctx));
    s.addFault({ route: 'poll', status: 429, retryAfter: '120' });
    // Act
    const error = await pingOneRuntime.checkJob(ctx, requestFor(ctx), started.job).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(VendorThrottledError);
    expect((error as VendorThrottledError).retryAfterSeconds).toBe(120);
    expect((error as Error).message).toContain(ctx.tenant.environmentId);
  });

  it('5xx answers are retried', async () => {
    // Prepare
    const s = await simulator({
      pollsUntilDone: 1,
      faults: [
        { route: 'poll', status: 503, times: 2 },
        { route: 'token', status: 502 },
      ],
    });
    const ctx = contextFor(s);
    // Act
    const { fetched } = await runFlow(ctx);
    // Assess
    expect(fetched.status).toBe('FETCHED');
    expect(apiRequests(s).filter((r) => r.status === 503)).toHaveLength(2);
    assertSpacing(s);
  });

  it('a 5xx that does not go away ends as VendorUnavailableError naming the environment', async () => {
    // Prepare
    const s = await simulator({ faults: [{ route: 'create', status: 500, times: 10 }] });
    const ctx = contextFor(s);
    // Act
    const act = pingOneRuntime.startJob(ctx, requestFor(ctx));
    // Assess
    await expect(act).rejects.toThrow(VendorUnavailableError);
    await expect(act).rejects.toThrow(new RegExp(`^pingone environment ${ctx.tenant.environmentId}`));
    // Four attempts (one plus three retries), each spaced like any other call.
    expect(apiRequests(s).map((r) => r.status)).toEqual([500, 500, 500, 500]);
    for (const gap of callGaps(s)) expect(gap).toBeGreaterThanOrEqual(WINDOW_MS);
  });

  it("a refused request (400) names PingOne's error code", async () => {
    // Prepare
    const s = await simulator();
    const ctx = contextFor(s);
    // The schema would refuse this filter; a hand-built tenant shows the vendor's answer.
    const bad = { ...ctx, tenant: { ...ctx.tenant, filter: '(deviceType sw "SM")' } };
    // Act
    const act = pingOneRuntime.startJob(bad, requestFor(bad));
    // Assess
    await expect(act).rejects.toThrow(VendorRequestError);
    await expect(act).rejects.toThrow(/create mfa report was refused \(HTTP 400 INVALID_DATA \/ INVALID_FILTER/);
  });
});
