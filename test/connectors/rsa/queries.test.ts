/**
 * The auditor queries, run by DuckDB over tables built from the connector's report definitions
 * (the same views the local catalog builds), on data fetched from the simulator through the
 * connector and converted with `toRecord`. Expected answers come from the simulator's data.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rsaDefinition } from '../../../lambdas/connectors/rsa/definition.ts';
import { RSA_REPORTS } from '../../../lambdas/connectors/rsa/records.ts';
import { createRsaRuntime } from '../../../lambdas/connectors/rsa/runtime.ts';
import { addDays, utcDate } from '../../../lambdas/core/dates.ts';
import { dataKey } from '../../../lambdas/core/layout.ts';
import { reportTable } from '../../../lambdas/core/tables.ts';
import type { JsonObject } from '../../../lambdas/core/types.ts';
import { type ArchiveCatalog, openArchiveCatalog } from '../../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../../scripts/local/s3.ts';
import { type RsaSimulator, startRsaSimulator } from '../../../simulators/rsa/server.ts';
import { publishDataObject } from '../../support/published.ts';
import { fakeClock, fetchedBytes, parseCsv, reportRequest, rsaContext } from './helpers.ts';

const rsaRuntime = createRsaRuntime();

const BUCKET = 'archive';
const TENANTS = ['acme', 'globex'];
/** today (UTC): the saved queries read the `_latest` views, which look back from today */
const DT = utcDate(new Date());
const OLDER_DT = addDays(DT, -1);
/** data objects written by hand take the key of one archive attempt */
const FIXTURE_ATTEMPT = '20260515T020000Z-00000001';

const query = (name: string) => {
  const found = rsaDefinition.queries.find((q) => q.name === name);
  if (!found) throw new Error(`no query ${name}`);
  return found.sql;
};

describe('rsa auditor queries (DuckDB)', () => {
  let sim: RsaSimulator;
  let catalog: ArchiveCatalog;
  let dir: string;

  function write(report: string, tenant: string, date: string, records: readonly JsonObject[]): void {
    const key = dataKey({ vendor: 'rsa', report, tenant, date }, FIXTURE_ATTEMPT);
    const path = join(dir, BUCKET, `${key}${S3RVER_SUFFIX}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, gzipSync(records.map((r) => JSON.stringify(r)).join('\n')));
    publishDataObject(join(dir, BUCKET), { vendor: 'rsa', report, tenant, date }, key);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rsa-queries-'));
    const clock = fakeClock();
    sim = await startRsaSimulator({ now: clock.now, rows: { users: 150, hardware_tokens: 60 } });
    for (const tenant of TENANTS) {
      const { ctx } = rsaContext(sim, { clock, tenantId: tenant });
      for (const report of RSA_REPORTS) {
        const request = reportRequest(report, tenant);
        const started = await rsaRuntime.startJob(ctx, request);
        clock.advance(16 * 60_000);
        const { bytes } = await fetchedBytes(await rsaRuntime.fetchReport(ctx, request, started.job));
        const definition = rsaDefinition.reports.find((r) => r.name === report)!;
        const records = parseCsv(bytes).map((raw) => definition.toRecord(raw));
        write(report, tenant, DT, records);
        // an older, smaller snapshot the queries must not count
        if (tenant === 'acme') write(report, tenant, OLDER_DT, records.slice(0, 3));
      }
    }
    catalog = await openArchiveCatalog({
      s3Directory: dir,
      bucket: BUCKET,
      tables: rsaDefinition.reports.map((r) => reportTable('rsa', r)),
    });
  });

  afterAll(async () => {
    catalog?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every saved query runs', async () => {
    for (const saved of rsaDefinition.queries) {
      // Act / Assess
      await expect(catalog.query(saved.sql), saved.name).resolves.toBeDefined();
    }
  });

  it('the users table answers the known count exactly, latest snapshot only', async () => {
    // Act
    const { rows } = await catalog.query(
      `SELECT tenant, dt, COUNT(*) AS n FROM rsa_users GROUP BY tenant, dt ORDER BY tenant, dt`,
    );

    // Assess
    expect(rows).toEqual([
      { tenant: 'acme', dt: OLDER_DT, n: '3' },
      { tenant: 'acme', dt: DT, n: '150' },
      { tenant: 'globex', dt: DT, n: '150' },
    ]);
  });

  it('users per identity source and status', async () => {
    // Prepare
    const expected: Record<string, string>[] = [];
    for (const tenant of TENANTS) {
      const counts = new Map<string, number>();
      for (const u of sim.data(tenant).users) {
        const key = `${u.identitySource}\u0000${u.status}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, n] of counts) {
        const [source, status] = key.split('\u0000');
        expected.push({ tenant, identity_source: source!, user_status: status!, users: String(n) });
      }
    }

    // Act
    const { rows } = await catalog.query(query('rsa-users-by-identity-source-and-status'));

    // Assess
    const actual = rows.map((r) => ({
      tenant: String(r.tenant),
      identity_source: String(r.identity_source),
      user_status: String(r.user_status),
      users: String(r.users),
    }));
    const order = (a: Record<string, string>, b: Record<string, string>) =>
      JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(actual.sort(order)).toEqual(expected.sort(order));
    expect(rows.every((r) => r.dt === DT)).toBe(true);
  });

  it('users with no registered authenticator (hardware token holders excluded)', async () => {
    // Prepare
    const expected = TENANTS.flatMap((tenant) =>
      sim
        .data(tenant)
        .users.filter(
          (u) => !u.deviceRegistered && !u.fidoRegistered && !u.smsRegistered && !u.voiceRegistered && !u.hardwareToken,
        )
        .map((u) => `${tenant}/${u.username}`),
    ).sort();
    const tokenOnly = TENANTS.flatMap((tenant) =>
      sim
        .data(tenant)
        .users.filter(
          (u) => !u.deviceRegistered && !u.fidoRegistered && !u.smsRegistered && !u.voiceRegistered && u.hardwareToken,
        ),
    );

    // Act
    const { rows } = await catalog.query(query('rsa-users-without-registered-authenticator'));

    // Assess
    expect(expected.length).toBeGreaterThan(0);
    expect(tokenOnly.length).toBeGreaterThan(0); // the hardware token clause is exercised
    expect(rows.map((r) => `${r.tenant}/${r.username}`).sort()).toEqual(expected);
  });

  it('hardware tokens assigned and unassigned', async () => {
    // Prepare
    const expected = TENANTS.map((tenant) => {
      const rows = sim.table(tenant, 'hardware_tokens').rows;
      const assigned = rows.filter((r) => r[2] !== '').length;
      return { tenant, assigned, unassigned: rows.length - assigned };
    });

    // Act
    const { rows } = await catalog.query(query('rsa-hardware-tokens-by-assignment'));

    // Assess
    const actual = TENANTS.map((tenant) => {
      const sum = (assignment: string) =>
        rows
          .filter((r) => r.tenant === tenant && r.assignment === assignment)
          .reduce((n, r) => n + Number(r.tokens), 0);
      return { tenant, assigned: sum('assigned'), unassigned: sum('unassigned') };
    });
    expect(actual).toEqual(expected);
  });

  it('hardware tokens expired or expiring within 90 days of the report date', async () => {
    // Prepare
    const limit = Date.parse(`${DT}T00:00:00Z`) + 90 * 86_400_000;
    const expected = TENANTS.flatMap((tenant) =>
      sim
        .table(tenant, 'hardware_tokens')
        .rows.filter((r) => Date.parse(r[7]!.replace(' UTC', 'Z').replace(' ', 'T')) < limit)
        .map((r) => `${tenant}/${r[0]}`),
    ).sort();

    // Act
    const { rows } = await catalog.query(query('rsa-hardware-tokens-expiring'));

    // Assess
    expect(expected.length).toBeGreaterThan(0);
    expect(rows.map((r) => `${r.tenant}/${r.serial_number}`).sort()).toEqual(expected);
    expect(rows.some((r) => r.expiry_state === 'expiring')).toBe(true);
  });

  it('administrators and their roles', async () => {
    // Prepare
    const expected = TENANTS.flatMap((tenant) =>
      sim.table(tenant, 'admin_users').rows.map((r) => `${tenant}/${r[0]}/${r[3]}`),
    ).sort();

    // Act
    const { rows } = await catalog.query(query('rsa-administrators-and-roles'));

    // Assess
    expect(rows.map((r) => `${r.tenant}/${r.email}/${r.administrative_role}`).sort()).toEqual(expected);
  });

  it('RADIUS clients', async () => {
    // Act
    const { rows } = await catalog.query(query('rsa-radius-clients'));

    // Assess
    expect(rows).toHaveLength(TENANTS.reduce((n, t) => n + sim.table(t, 'radius_clients').rows.length, 0));
    const first = sim.table('acme', 'radius_clients').rows[0]!;
    expect(rows.find((r) => r.tenant === 'acme' && r.name === first[0])?.description).toBe(
      'Cisco ASA, "primary" DC\nfailover: manual',
    );
  });

  it('MFA agents by type and version', async () => {
    // Act
    const { rows } = await catalog.query(query('rsa-mfa-agents-by-type-and-version'));

    // Assess
    expect(rows.reduce((n, r) => n + Number(r.agents), 0)).toBe(
      TENANTS.reduce((n, t) => n + sim.table(t, 'mfa_clients').rows.length, 0),
    );
  });

  it('reads unknown columns from the extra map', async () => {
    // Act
    const { rows } = await catalog.query(
      `SELECT COUNT(*) AS n, COUNT(extra['manager_email']) AS managers FROM rsa_users WHERE dt = '${DT}'`,
    );

    // Assess
    expect(rows).toEqual([{ n: '300', managers: '0' }]);
  });
});
