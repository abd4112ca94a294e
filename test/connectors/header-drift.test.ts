/**
 * Header drift: a vendor file whose header renames a required column fails the archive with
 * MalformedCsvError naming that column, and nothing is published; a column the docs make
 * optional (or the request did not ask for) may be absent. The simulators serve the files over
 * loopback: PingOne's CSV in its encrypted zip, RSA's plain CSV.
 */
import { describe, expect, it } from 'vitest';
import { mfaDevicesReport } from '../../lambdas/connectors/pingone/records.ts';
import { RSA_REPORT_DEFINITIONS } from '../../lambdas/connectors/rsa/records.ts';
import { createRsaRuntime } from '../../lambdas/connectors/rsa/runtime.ts';
import { archiveReport } from '../../lambdas/core/archive/archive-report.ts';
import { MalformedCsvError } from '../../lambdas/core/errors.ts';
import type { FetchResult, ReportDefinition, ReportRequest } from '../../lambdas/core/types.ts';
import { type RsaSimulatorOptions, startRsaSimulator } from '../../simulators/rsa/server.ts';
import { archiveDeps, capturedLogger, readRecords, useArchiveTestBed } from '../support/archive-fixtures.ts';
import { contextFor, requestFor, runFlow, startSim } from './pingone/helpers.ts';
import { fakeClock, reportRequest, rsaContext } from './rsa/helpers.ts';

const rsaRuntime = createRsaRuntime();
const rsaUsers = RSA_REPORT_DEFINITIONS.find((d) => d.name === 'users')!;
let rsaRuns = 0;

describe('header drift', () => {
  const bed = useArchiveTestBed('header-drift-', { expectTempFilesRemoved: true });

  /** Archives a FETCHED result; the error, or the archived records. */
  async function archive(request: ReportRequest, report: ReportDefinition, fetched: FetchResult) {
    if (fetched.status !== 'FETCHED') throw new Error(`expected FETCHED; received ${fetched.status}`);
    const input = {
      request,
      report,
      sources: fetched.sources,
      requestParameters: fetched.requestParameters,
      job: fetched.job,
    };
    const deps = archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger);
    try {
      const result = await archiveReport(input, deps);
      return { records: (await readRecords(bed.s3, result.keys.data)) as Record<string, unknown>[] };
    } catch (error) {
      return { error: error as Error };
    }
  }

  async function published(request: ReportRequest): Promise<string[]> {
    return (await bed.s3.keys()).filter((key) => key.includes(`/tenant=${request.tenant}/`));
  }

  /** RSA's users report, generated then downloaded, from a fresh simulator. */
  async function rsaUsersArchive(options: RsaSimulatorOptions) {
    const clock = fakeClock();
    const sim = await startRsaSimulator({ now: clock.now, readyAfterMs: 0, rows: { users: 12 }, ...options });
    try {
      const { ctx } = rsaContext(sim, { clock });
      const request = { ...reportRequest('users'), tenant: `rsa-${++rsaRuns}` };
      const started = await rsaRuntime.startJob(ctx, request);
      clock.advance(5_000);
      const fetched = await rsaRuntime.fetchReport(ctx, request, started.job);
      return { request, ...(await archive(request, rsaUsers, fetched)) };
    } finally {
      await sim.close();
    }
  }

  describe('pingone file mode (CSV in the encrypted zip)', () => {
    it('fails naming mfaEnabled when the CSV calls it isMfaEnabled, publishing nothing', async () => {
      // Prepare
      const sim = await startSim({ pollsUntilDone: 0, csvHeaderNames: { mfaEnabled: 'isMfaEnabled' } });
      try {
        const ctx = contextFor(sim, { tenantId: 'sim-env-a' });
        const request = { ...requestFor(ctx), tenant: 'drift-pingone-a' };
        const { fetched } = await runFlow(ctx);

        // Act
        const { error } = await archive(request, mfaDevicesReport, fetched);

        // Assess
        expect(error).toBeInstanceOf(MalformedCsvError);
        expect(error?.message).toMatch(
          /lacks the documented column mfaEnabled of report mfa_devices; received the header/,
        );
        expect(error?.message).toContain('isMfaEnabled');
        expect(await published(request)).toEqual([]);
      } finally {
        await sim.close();
      }
    });

    it('archives a report of requested fields only, the others null', async () => {
      // Prepare
      const sim = await startSim({ pollsUntilDone: 0 });
      try {
        const ctx = contextFor(sim, { tenant: { fields: ['userId', 'mfaEnabled', 'phone'] } });
        const request = { ...requestFor(ctx), tenant: 'drift-pingone-b' };
        const { fetched } = await runFlow(ctx);

        // Act
        const { error, records } = await archive(request, mfaDevicesReport, fetched);

        // Assess
        expect(error).toBeUndefined();
        expect(records?.length).toBe(sim.dataset(ctx.tenant.environmentId).length);
        expect(records?.every((r) => r.email === null && typeof r.mfa_enabled === 'boolean')).toBe(true);
      } finally {
        await sim.close();
      }
    });

    it('fails when a requested field is renamed, even with fields listed', async () => {
      // Prepare
      const sim = await startSim({ pollsUntilDone: 0, csvHeaderNames: { phone: 'phoneNumber' } });
      try {
        const ctx = contextFor(sim, { tenant: { fields: ['userId', 'mfaEnabled', 'phone'] } });
        const request = { ...requestFor(ctx), tenant: 'drift-pingone-c' };
        const { fetched } = await runFlow(ctx);

        // Act
        const { error } = await archive(request, mfaDevicesReport, fetched);

        // Assess
        expect(error).toBeInstanceOf(MalformedCsvError);
        expect(error?.message).toMatch(/lacks the documented column phone of report mfa_devices/);
        expect(await published(request)).toEqual([]);
      } finally {
        await sim.close();
      }
    });
  });

  describe('rsa users (plain CSV)', () => {
    it('fails naming status when the CSV calls it User Status, publishing nothing', async () => {
      // Act
      const { request, error } = await rsaUsersArchive({ renamedHeaders: { Status: 'User Status' } });

      // Assess
      expect(error).toBeInstanceOf(MalformedCsvError);
      expect(error?.message).toMatch(/lacks the documented column status of report users; received the header/);
      expect(error?.message).toContain('User Status');
      expect(await published(request)).toEqual([]);
    });

    it('archives a file without a column only one documented release lists (User Id), as null', async () => {
      // Act: `User Id` appears in the newer release's list only
      const { error, records } = await rsaUsersArchive({ renamedHeaders: { 'User Id': 'Internal Ref' } });

      // Assess
      expect(error).toBeUndefined();
      expect(records?.length).toBe(12);
      expect(records?.every((r) => r.user_id === null)).toBe(true);
      expect(records?.[0]?.extra).toHaveProperty('internal_ref');
    });
  });
});
