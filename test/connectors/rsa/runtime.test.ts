import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signAdminJwt } from '../../../lambdas/connectors/rsa/auth.ts';
import { rsaDefinition } from '../../../lambdas/connectors/rsa/definition.ts';
import { RSA_REPORT_DEFINITIONS } from '../../../lambdas/connectors/rsa/records.ts';
import { createRsaRuntime } from '../../../lambdas/connectors/rsa/runtime.ts';
import type { FetchResult, JsonObject } from '../../../lambdas/core/types.ts';
import { type RsaSimulator, startRsaSimulator, type UrlStyle } from '../../../simulators/rsa/server.ts';
import { type Clock, fakeClock, fetchedBytes, parseCsv, reportRequest, rsaContext, T0, travelling } from './helpers.ts';

const rsaRuntime = createRsaRuntime();

const MINUTE = 60_000;
const definition = (name: string) => RSA_REPORT_DEFINITIONS.find((d) => d.name === name)!;
/** `waitSeconds` of a PENDING fetch result (FETCHED has none). */
const waitOf = (result: FetchResult) => ('waitSeconds' in result ? result.waitSeconds : undefined);

describe('rsa connector against the simulator', () => {
  let sim: RsaSimulator;
  let clock: Clock;

  beforeAll(async () => {
    clock = fakeClock();
    sim = await startRsaSimulator({ now: clock.now, readyAfterMs: 2_000, rows: { users: 90 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.reset();
    Object.assign(sim.options, {
      mfaTrackingOff: false,
      errorBody: 'json',
      generateWindowScope: 'report',
      missingReports: [],
      unsupportedReports: [],
      downloadEncoding: 'csv',
      retryAfter: false,
      headerStyle: 'current',
      extraColumns: [],
      echoJwt: false,
    });
  });

  const context = (options: Parameters<typeof rsaContext>[1] = {}) => rsaContext(sim, { clock, ...options });

  describe('generate then download (users)', () => {
    it('starts with generate (PENDING for the initial wait), checks without a call, polls 425, then fetches the CSV', async () => {
      // Prepare
      const { ctx } = context();
      const request = reportRequest('users');

      // Act
      const started = await rsaRuntime.startJob(ctx, request);
      const checked = await rsaRuntime.checkJob(ctx, request, started.job);
      const early = await rsaRuntime.fetchReport(ctx, request, checked.job);
      clock.advance(5_000);
      const checkedAgain = await rsaRuntime.checkJob(ctx, request, early.job);
      const fetched = await rsaRuntime.fetchReport(ctx, request, checkedAgain.job);
      const { bytes, fileName, contentType } = await fetchedBytes(fetched);

      // Assess
      expect(started).toMatchObject({
        status: 'PENDING',
        waitSeconds: 300,
        job: { generate: 'created', regenerated: 0 },
      });
      expect(checked.status).toBe('READY');
      expect(early).toMatchObject({ status: 'PENDING', waitSeconds: 300, job: { downloadAttempts: 1, notReady: 1 } });
      expect(checkedAgain.status).toBe('READY');
      expect(fetched).toMatchObject({
        status: 'FETCHED',
        requestParameters: { reportType: 'users', method: 'GET', flow: 'generate-then-download', generate: 'created' },
        job: { downloadAttempts: 2, notReady: 1 },
      });
      expect(fileName).toBe('all_users_report.csv');
      expect(contentType).toBe('application/octet-stream');
      const records = parseCsv(bytes).map((raw) => definition('users').toRecord(raw));
      expect(records).toHaveLength(90);
      expect(records.map((r) => r.username)).toEqual(sim.data('acme').users.map((u) => u.username));
      // three calls only: generate, download (425), download (200); checkJob made none
      expect(sim.requests.map((r) => `${r.method} ${r.action} ${r.status}`)).toEqual([
        'POST generate 201',
        'GET download 425',
        'GET download 200',
      ]);
    });

    it('signs every call with a fresh RS256 JWT: sub = accessID, aud = adminRestApiUrl verbatim, exp ≤ iat + 55 min', async () => {
      // Prepare
      const { ctx, credentials } = context();
      const request = reportRequest('mfa_clients');

      // Act
      await rsaRuntime.startJob(ctx, request);
      clock.advance(61_000);
      await rsaRuntime.fetchReport(ctx, request, {});

      // Assess
      expect(sim.requests).toHaveLength(2);
      for (const recorded of sim.requests) {
        expect(recorded.authFailure).toBeUndefined();
        expect(recorded.jwtHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
        const claims = recorded.claims as { sub: string; aud: string; iat: number; exp: number };
        expect(claims.sub).toBe(credentials.accessID);
        expect(claims.aud).toBe(credentials.adminRestApiUrl);
        expect(claims.iat).toBe(Math.floor(recorded.at / 1000));
        expect(claims.exp - claims.iat).toBeLessThanOrEqual(55 * 60);
        expect(claims.exp - claims.iat).toBeGreaterThan(0);
      }
      expect(sim.requests[1]!.claims!.iat).toBe((sim.requests[0]!.claims!.iat as number) + 61);
    });

    it('goes straight to download when generate answers 429 (a report from the last 8 hours exists)', async () => {
      // Prepare
      const { ctx } = context();
      const request = reportRequest('users');
      await rsaRuntime.startJob(ctx, request);
      clock.advance(3 * 60 * MINUTE);

      // Act
      const started = await rsaRuntime.startJob(ctx, request);
      const fetched = await rsaRuntime.fetchReport(ctx, request, started.job);

      // Assess
      expect(started).toMatchObject({ status: 'READY', job: { generate: 'existing' } });
      expect(started.waitSeconds).toBeUndefined();
      expect(fetched.status).toBe('FETCHED');
      expect(sim.requests.map((r) => r.status)).toEqual([201, 429, 200]);
    });

    it('waits at least 15 minutes when the tenant downloaded less than 15 minutes ago (429)', async () => {
      // Prepare
      const { ctx } = context();
      const users = reportRequest('users');
      const tokens = reportRequest('hardware_tokens');
      await rsaRuntime.startJob(ctx, users);
      const tokenJob = await rsaRuntime.startJob(ctx, tokens);
      clock.advance(5_000);
      await fetchedBytes(await rsaRuntime.fetchReport(ctx, users, {}));

      // Act
      const throttled = await rsaRuntime.fetchReport(ctx, tokens, tokenJob.job);
      clock.advance((waitOf(throttled) ?? 0) * 1000);
      const fetched = await rsaRuntime.fetchReport(
        ctx,
        tokens,
        (await rsaRuntime.checkJob(ctx, tokens, throttled.job)).job,
      );

      // Assess
      expect(throttled).toMatchObject({ status: 'PENDING', job: { throttled: 1 } });
      expect(waitOf(throttled)).toBeGreaterThanOrEqual(900);
      expect(fetched.status).toBe('FETCHED');
      const downloads = sim.requests.filter((r) => r.action === 'download' && r.status === 200);
      expect(downloads).toHaveLength(2);
      expect(downloads[1]!.at - downloads[0]!.at).toBeGreaterThanOrEqual(15 * MINUTE);
    });

    it.each([
      ['in seconds', 'seconds', 20],
      ['as an HTTP date', 'date', 40],
    ] as const)(
      'waits as long as a Retry-After given %s asks when that is longer',
      async (_form, retryAfter, minutes) => {
        // Prepare
        sim.options.retryAfter = retryAfter;
        const { ctx } = context({ section: { throttleWaitSeconds: 900 } });
        await rsaRuntime.startJob(ctx, reportRequest('users'));
        clock.advance(5_000);
        await fetchedBytes(await rsaRuntime.fetchReport(ctx, reportRequest('users'), {}));
        await rsaRuntime.startJob(ctx, reportRequest('mfa_clients'));
        clock.advance(5_000);
        sim.options.downloadWindowMs = minutes * MINUTE;

        // Act
        const throttled = await rsaRuntime.fetchReport(ctx, reportRequest('mfa_clients'), {});
        sim.options.downloadWindowMs = 15 * MINUTE;

        // Assess
        expect(throttled.status).toBe('PENDING');
        expect(waitOf(throttled)).toBe(minutes * 60 - 5);
      },
    );

    it('restarts once on 404 (never generated), carrying regenerated, and fetches after generating', async () => {
      // Prepare
      const { ctx } = context();
      const request = reportRequest('hardware_tokens');

      // Act
      const lost = await rsaRuntime.fetchReport(ctx, request, { downloadAttempts: 0 });
      const restarted = await rsaRuntime.startJob(ctx, request, lost.job);
      clock.advance(5_000);
      const fetched = await rsaRuntime.fetchReport(ctx, request, restarted.job);

      // Assess
      expect(lost).toMatchObject({ status: 'RESTART', job: { regenerated: 1 } });
      expect(restarted).toMatchObject({ status: 'PENDING', job: { regenerated: 1, generate: 'created' } });
      expect(fetched).toMatchObject({ status: 'FETCHED', job: { regenerated: 1 } });
      expect(sim.requests.map((r) => `${r.action} ${r.status}`)).toEqual([
        'download 404',
        'generate 201',
        'download 200',
      ]);
    });

    it('fails the second 404, naming the per-tenant 8-hour reading when generate said 429', async () => {
      // Prepare: per-tenant window, users generated: hardware_tokens cannot be generated today
      sim.options.generateWindowScope = 'tenant';
      const { ctx } = context();
      const request = reportRequest('hardware_tokens');
      await rsaRuntime.startJob(ctx, reportRequest('users'));

      // Act
      const started = await rsaRuntime.startJob(ctx, request);
      const lost = await rsaRuntime.fetchReport(ctx, request, started.job);
      const restarted = await rsaRuntime.startJob(ctx, request, lost.job);
      const failed = await rsaRuntime.fetchReport(ctx, request, restarted.job);

      // Assess
      expect(started).toMatchObject({ status: 'READY', job: { generate: 'existing' } });
      expect(lost.status).toBe('RESTART');
      expect(restarted).toMatchObject({ status: 'READY', job: { regenerated: 1 } });
      expect(failed.status).toBe('FAILED');
      expect(failed.status === 'FAILED' && failed.reason).toMatch(
        /404 \(report not generated\) to download hardware_tokens for tenant acme again.*per tenant rather than per report/,
      );
    });

    it('fails (no retry) when generate answers 404: not supported by the API', async () => {
      // Prepare
      sim.options.unsupportedReports = ['mfa_clients'];
      const { ctx } = context();

      // Act
      const result = await rsaRuntime.startJob(ctx, reportRequest('mfa_clients'));

      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.reason).toMatch(/404 to generate mfa_clients for tenant acme.*Not supported by API yet/);
    });

    it.each(['gzip', 'zip'] as const)(
      'hands a %s download to the archiver untouched, named by Content-Disposition',
      async (encoding) => {
        // Prepare
        sim.options.downloadEncoding = encoding;
        const { ctx } = context({ section: { initialWaitSeconds: 0 } });
        const request = reportRequest('users');

        // Act
        const started = await rsaRuntime.startJob(ctx, request);
        clock.advance(5_000);
        const { bytes, fileName } = await fetchedBytes(await rsaRuntime.fetchReport(ctx, request, started.job));

        // Assess
        expect(started.status).toBe('READY');
        expect(bytes.subarray(0, 2)).toEqual(encoding === 'gzip' ? Buffer.from([0x1f, 0x8b]) : Buffer.from('PK'));
        expect(fileName).toBe(encoding === 'gzip' ? 'all_users_report.csv.gz' : 'all_users_report.zip');
      },
    );
  });

  describe('generate-and-download (admin_users, radius_clients)', () => {
    it('is READY without a call, then one GET returns the CSV', async () => {
      // Prepare
      const { ctx } = context();
      const request = reportRequest('admin_users');

      // Act
      const started = await rsaRuntime.startJob(ctx, request);
      const callsAfterStart = sim.requests.length;
      const fetched = await rsaRuntime.fetchReport(ctx, request, started.job);
      const { bytes, fileName, contentType } = await fetchedBytes(fetched);

      // Assess
      expect(started).toMatchObject({ status: 'READY', job: { flow: 'generate-and-download' } });
      expect(callsAfterStart).toBe(0);
      expect(fileName).toBe('admin_users_report.csv');
      expect(contentType).toBe('text/csv;charset=UTF-8');
      const records = parseCsv(bytes).map((raw) => definition('admin_users').toRecord(raw));
      expect(records).toHaveLength(sim.table('acme', 'admin_users').rows.length);
      expect(records[1]).toMatchObject({ administrative_role: 'Super Admin, Help Desk Admin', extra: {} });
      expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        'GET /AdminInterface/restapi/v1/report/admin_users/generate-and-download 200',
      ]);
    });

    it('skips (not fails) when the 8-hour window has not passed (429)', async () => {
      // Prepare
      const { ctx } = context();
      const request = reportRequest('radius_clients');
      await fetchedBytes(await rsaRuntime.fetchReport(ctx, request, {}));
      clock.advance(7 * 60 * MINUTE);

      // Act
      const skipped = await rsaRuntime.fetchReport(ctx, request, {});

      // Assess
      expect(skipped.status).toBe('SKIPPED');
      expect(skipped.status === 'SKIPPED' && skipped.reason).toMatch(
        /^8-hour window has not passed: .*radius_clients.*tenant acme/,
      );
    });

    it('fails with "report does not exist" on 400', async () => {
      // Prepare
      sim.options.missingReports = ['radius_clients'];
      const { ctx } = context();

      // Act
      const result = await rsaRuntime.fetchReport(ctx, reportRequest('radius_clients'), {});

      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.status === 'FAILED' && result.reason).toMatch(
        /^report does not exist: RSA answered 400.*Report does not exist\./,
      );
    });
  });

  describe('403', () => {
    it.each(['json', 'text'] as const)(
      'MFA tracking off (%s body) is a VendorRequestError naming the tenant, not an auth error',
      async (errorBody) => {
        // Prepare
        sim.options.mfaTrackingOff = true;
        sim.options.errorBody = errorBody;
        const { ctx } = context();

        // Act
        const generate = await rsaRuntime.startJob(ctx, reportRequest('users')).catch((e: Error) => e);
        const download = await rsaRuntime.fetchReport(ctx, reportRequest('users'), {}).catch((e: Error) => e);

        // Assess
        expect(generate).toMatchObject({
          name: 'VendorRequestError',
          message: expect.stringMatching(/^MFA tracking is turned off for tenant acme/),
        });
        expect(download).toMatchObject({
          name: 'VendorRequestError',
          message: expect.stringMatching(/^MFA tracking is turned off for tenant acme/),
        });
      },
    );

    it('a key RSA does not know is a VendorAuthError that says what to check', async () => {
      // Prepare
      const other = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      }).privateKey;
      const keyFile = sim.tenants[0]!.keyFile;
      const { ctx } = context({ credentials: { ...keyFile, accessKey: other } });

      // Act
      const result = rsaRuntime.startJob(ctx, reportRequest('users'));

      // Assess
      await expect(result).rejects.toMatchObject({
        name: 'VendorAuthError',
        message: expect.stringMatching(/tenant acme: HTTP 403 to generate users.*accessID, accessKey, adminRestApiUrl/),
      });
      expect(sim.requests[0]?.authFailure).toBe('bad signature');
    });

    it('an aud that differs from the key file by a trailing slash is refused: aud is sent verbatim', async () => {
      // Prepare
      const keyFile = sim.tenants[0]!.keyFile;
      const { ctx } = context({ credentials: { ...keyFile, adminRestApiUrl: `${keyFile.adminRestApiUrl}/` } });

      // Act / Assess
      await expect(rsaRuntime.startJob(ctx, reportRequest('users'))).rejects.toMatchObject({
        name: 'VendorAuthError',
      });
      expect(sim.requests[0]?.authFailure).toBe('aud is not the adminRestApiUrl');
    });
  });

  describe('adminRestApiUrl endings', () => {
    it.each(['v1', 'v1/', 'base', 'base/'] as UrlStyle[])(
      'builds the report URL from a key file URL in style %s',
      async (urlStyle) => {
        // Prepare
        const styled = await startRsaSimulator({
          now: clock.now,
          urlStyle,
          rows: { admin_users: 3 },
          tenants: [{ id: 'acme' }],
        });
        try {
          const { ctx } = rsaContext(styled, { clock });

          // Act
          const fetched = await rsaRuntime.fetchReport(ctx, reportRequest('admin_users'), {});
          await fetchedBytes(fetched);

          // Assess
          expect(fetched.status).toBe('FETCHED');
          expect(styled.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
            '/AdminInterface/restapi/v1/report/admin_users/generate-and-download 200',
          ]);
        } finally {
          await styled.close();
        }
      },
    );
  });

  describe('hosts', () => {
    let remote: RsaSimulator;
    beforeAll(async () => {
      remote = await startRsaSimulator({
        now: clock.now,
        keyFileHost: 'acme.access-eu.securid.com',
        tenants: [{ id: 'acme' }],
        rows: { radius_clients: 2 },
      });
    });
    afterAll(() => remote.close());

    it('refuses a key file host that is not in the config, saying to add it', async () => {
      // Prepare: no tenant baseUrl, so requests would go to the key file's host
      const { ctx } = rsaContext(remote, { clock, tenant: { baseUrl: undefined } });

      // Act / Assess
      await expect(rsaRuntime.fetchReport(ctx, reportRequest('radius_clients'), {})).rejects.toMatchObject({
        name: 'DisallowedHostError',
        message: expect.stringMatching(
          /host acme\.access-eu\.securid\.com of RSA tenant "acme".*add it to the config as vendors\.rsa\.baseUrl/,
        ),
      });
      expect(remote.requests).toHaveLength(0);
    });

    it('sends to the tenant baseUrl host while aud keeps the key file URL', async () => {
      // Prepare: localVendorSection sets the tenant baseUrl for a public-looking key file host
      const { ctx, credentials } = rsaContext(remote, { clock });

      // Act
      const fetched = await rsaRuntime.fetchReport(ctx, reportRequest('radius_clients'), {});
      await fetchedBytes(fetched);

      // Assess
      expect(ctx.tenant.baseUrl).toBe(remote.baseUrl);
      expect(credentials.adminRestApiUrl).toBe('https://acme.access-eu.securid.com/AdminInterface/restapi/v1');
      expect(fetched.status).toBe('FETCHED');
      expect(remote.requests[0]?.claims?.aud).toBe('https://acme.access-eu.securid.com/AdminInterface/restapi/v1');
    });
  });

  it('accepts a key file whose accessKey carries literal \\n sequences', async () => {
    // Prepare
    const keyFile = sim.tenants[0]!.keyFile;
    const { ctx } = context({ credentials: { ...keyFile, accessKey: keyFile.accessKey.trim().replace(/\n/g, '\\n') } });

    // Act
    const fetched = await rsaRuntime.fetchReport(ctx, reportRequest('admin_users'), {});
    await fetchedBytes(fetched);

    // Assess
    expect(fetched.status).toBe('FETCHED');
  });

  it('keeps new and renamed columns across releases (legacy headers, added columns)', async () => {
    // Prepare
    sim.options.headerStyle = 'legacy';
    sim.options.extraColumns = ['Manager Email'];
    const { ctx } = context({ section: { initialWaitSeconds: 0 } });
    const request = reportRequest('users');
    await rsaRuntime.startJob(ctx, request);
    clock.advance(5_000);

    // Act
    const { bytes } = await fetchedBytes(await rsaRuntime.fetchReport(ctx, request, {}));
    const records = parseCsv(bytes).map((raw) => definition('users').toRecord(raw));

    // Assess
    expect(records[0]!.primary_unique_identifier_dn).toMatch(/^CN=/);
    expect(records[0]!.user_id).toBeNull();
    expect(records[0]!.extra).toEqual({ manager_email: 'Manager Email 1' });
  });

  it('never puts the JWT or the private key in job, reason, error or logs', async () => {
    // Prepare
    const { ctx, logs, credentials } = context();
    const results: { job: JsonObject; reason?: string }[] = [];
    const request = reportRequest('users');

    // Act
    results.push(await rsaRuntime.fetchReport(ctx, request, {}));
    results.push(await rsaRuntime.startJob(ctx, request));
    results.push(await rsaRuntime.fetchReport(ctx, request, {}));
    sim.options.mfaTrackingOff = true;
    const error = await rsaRuntime.startJob(ctx, request).catch((e: Error) => e);

    // Assess
    const keyBody = credentials.accessKey.split('\n')[1]!;
    const everything = [...results.map(travelling), String(error), ...logs.lines].join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    expect(everything).not.toContain(keyBody);
    expect(everything).not.toContain(credentials.accessID);
  });

  it('redacts the JWT a careless RSA echoes in its error bodies from job, reason, error and logs', async () => {
    // Prepare: every error repeats the JWT; admin_users "does not exist" (400), then MFA tracking is off (403)
    sim.options.echoJwt = true;
    sim.options.missingReports = ['admin_users'];
    const { ctx, logs, credentials } = context();
    // the clock stands still and RS256 signs deterministically: this is the JWT every call carries
    const jwt = await signAdminJwt(credentials, clock.date());
    const [, payload, signature] = jwt.split('.') as [string, string, string];

    // Act
    const failed = await rsaRuntime.fetchReport(ctx, reportRequest('admin_users'), {});
    sim.options.mfaTrackingOff = true;
    const error = await rsaRuntime.startJob(ctx, reportRequest('users')).catch((e: Error) => e);

    // Assess
    expect(failed.status).toBe('FAILED');
    expect(error).toMatchObject({ name: 'VendorRequestError' });
    expect(sim.requests.map((r) => r.status)).toEqual([400, 403]);
    const everything = [travelling(failed), String(error), (error as Error).stack ?? '', ...logs.lines].join('\n');
    // RSA's bodies are cut at 200 characters: the start of the JWT is what a leak would show
    for (const form of [`Bearer ${jwt}`, jwt, payload, signature, jwt.slice(0, 48)]) {
      expect(everything).not.toContain(form);
    }
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    // the bodies were read: RSA's words are there, only the JWT is gone
    expect(failed.status === 'FAILED' && failed.reason).toContain('Report does not exist. Invalid token: [redacted]');
    expect((error as Error).message).toContain('MFA tracking is turned off. Invalid token: [redacted]');
  });

  describe('planDates', () => {
    it('archives the scheduled day: the reports are snapshots of now', () => {
      // Act / Assess
      expect(rsaDefinition.planDates?.({ scheduledTime: new Date(T0), archived: new Set() })).toEqual(['2026-05-14']);
      expect(
        rsaDefinition.planDates?.({ scheduledTime: new Date(T0), requestedDate: '2026-05-14', archived: new Set() }),
      ).toEqual(['2026-05-14']);
    });

    it('plans another requested date, for the start step to skip with its reason (no past snapshot)', () => {
      // Act / Assess
      expect(
        rsaDefinition.planDates?.({ scheduledTime: new Date(T0), requestedDate: '2026-05-01', archived: new Set() }),
      ).toEqual(['2026-05-01']);
    });
  });
});
