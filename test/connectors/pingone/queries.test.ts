/**
 * The auditor queries in DuckDB over the archive layout, fed by the connector from the simulator
 * (file mode for one environment, entries mode for the other), answers checked against the
 * simulator's own rows.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingOneDefinition } from '../../../lambdas/connectors/pingone/definition.ts';
import { addDays, utcDate } from '../../../lambdas/core/dates.ts';
import { dataKey } from '../../../lambdas/core/layout.ts';
import { reportTable } from '../../../lambdas/core/tables.ts';
import { type ArchiveCatalog, openArchiveCatalog } from '../../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../../scripts/local/s3.ts';
import type { SimRow } from '../../../simulators/pingone/data.ts';
import type { PingOneSimulator } from '../../../simulators/pingone/server.ts';
import { publishDataObject } from '../../support/published.ts';
import { contextFor, dataRows, runFlow, startSim, TENANT_A, TENANT_B } from './helpers.ts';

const BUCKET = 'archive';
/** today (UTC): the saved queries read the `_latest` view, which looks back from today */
const TODAY = utcDate(new Date());
const YESTERDAY = addDays(TODAY, -1);
const report = pingOneDefinition.reports[0]!;
/** data objects written by hand take the key of one archive attempt */
const FIXTURE_ATTEMPT = '20261122T020000Z-00000001';

let dir: string;
let catalog: ArchiveCatalog;
let sim: PingOneSimulator;
const truth = new Map<string, readonly SimRow[]>();

async function writePartition(tenant: string, dt: string, records: readonly object[]): Promise<void> {
  const key = dataKey({ vendor: 'pingone', report: report.name, tenant, date: dt }, FIXTURE_ATTEMPT);
  const path = join(dir, BUCKET, `${key}${S3RVER_SUFFIX}`);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, gzipSync(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`));
  publishDataObject(join(dir, BUCKET), { vendor: 'pingone', report: report.name, tenant, date: dt }, key);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pingone-queries-'));
  sim = await startSim({ pollsUntilDone: 0, rowsPerEnvironment: 150 });
  for (const tenantId of [TENANT_A, TENANT_B]) {
    const ctx = contextFor(sim, { tenantId });
    const rows = await dataRows((await runFlow(ctx)).fetched);
    await writePartition(
      tenantId,
      TODAY,
      rows.map((r) => report.toRecord(r)),
    );
    truth.set(tenantId, sim.dataset(ctx.tenant.environmentId));
  }
  // An older snapshot of A that the "latest snapshot" queries must ignore.
  await writePartition(TENANT_A, YESTERDAY, [
    report.toRecord({
      userId: 'old-user',
      username: 'old',
      mfaEnabled: 'false',
      deviceId: 'old-device',
      deviceType: 'MOBILE',
      deviceStatus: 'ACTIVE',
      deviceIntegrityStateCompromised: 'true',
      deviceBlocked: 'true',
      phone: '+4420000000',
    }),
  ]);
  catalog = await openArchiveCatalog({
    s3Directory: dir,
    bucket: BUCKET,
    tables: [reportTable('pingone', report)],
  });
});

afterAll(async () => {
  catalog?.close();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

function sqlOf(name: string): string {
  const query = pingOneDefinition.queries.find((q) => q.name === name);
  if (!query) throw new Error(`no query ${name}`);
  return query.sql;
}

function sum(
  rows: Record<string, unknown>[],
  column: string,
  where: (r: Record<string, unknown>) => boolean = () => true,
) {
  return rows.filter(where).reduce((n, r) => n + Number(r[column]), 0);
}

const KNOWN_PREFIXES = ['+972', '+44', '+49', '+33', '+61', '+65', '+81', '+1'];

describe('auditor queries (DuckDB over the archived layout)', () => {
  it('are kebab-case, described, and read the table', () => {
    expect(pingOneDefinition.queries.map((q) => q.name)).toEqual([
      'pingone-users-without-mfa',
      'pingone-devices-by-type',
      'pingone-compromised-devices',
      'pingone-locked-or-blocked-devices',
      'pingone-phone-numbers-by-country-prefix',
    ]);
    for (const query of pingOneDefinition.queries) {
      expect(query.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(query.description.length).toBeGreaterThan(10);
      expect(query.sql).toContain('FROM pingone_mfa_devices');
    }
  });

  it('the table answers the row count exactly, with typed columns', async () => {
    // Act
    const { rows } = await catalog.query(
      `SELECT tenant, COUNT(*) AS n, COUNT(device_id) AS devices, MIN(user_created_at) AS first,
         SUM(CASE WHEN mfa_enabled THEN 1 ELSE 0 END) AS enabled
       FROM pingone_mfa_devices WHERE dt = '${TODAY}' GROUP BY tenant ORDER BY tenant`,
    );
    // Assess
    expect(rows.map((r) => [r.tenant, r.n])).toEqual([
      [TENANT_A, '150'],
      [TENANT_B, '150'],
    ]);
    for (const row of rows) {
      const rowsOf = truth.get(String(row.tenant)) ?? [];
      expect(row.devices).toBe(String(rowsOf.filter((r) => r.deviceId !== null).length));
      expect(row.enabled).toBe(String(rowsOf.filter((r) => r.mfaEnabled === true).length));
      expect(String(row.first)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    }
  });

  it('users without MFA enabled', async () => {
    // Act
    const { rows } = await catalog.query(sqlOf('pingone-users-without-mfa'));
    // Assess
    for (const tenant of [TENANT_A, TENANT_B]) {
      const expected = new Set((truth.get(tenant) ?? []).filter((r) => r.mfaEnabled === false).map((r) => r.userId));
      const got = rows.filter((r) => r.tenant === tenant);
      expect(expected.size).toBeGreaterThan(0);
      expect(got.map((r) => r.user_id).sort()).toEqual([...expected].sort());
      expect(got.every((r) => r.dt === TODAY)).toBe(true);
    }
    expect(rows.some((r) => r.user_id === 'old-user')).toBe(false);
  });

  it('devices by type per environment', async () => {
    // Act
    const { rows } = await catalog.query(sqlOf('pingone-devices-by-type'));
    // Assess
    for (const tenant of [TENANT_A, TENANT_B]) {
      const devices = (truth.get(tenant) ?? []).filter((r) => r.deviceId !== null);
      for (const type of new Set(devices.map((r) => r.deviceType))) {
        expect(sum(rows, 'devices', (r) => r.tenant === tenant && r.device_type === type)).toBe(
          devices.filter((r) => r.deviceType === type).length,
        );
      }
      expect(sum(rows, 'devices', (r) => r.tenant === tenant)).toBe(devices.length);
    }
  });

  it('compromised devices', async () => {
    // Act
    const { rows } = await catalog.query(sqlOf('pingone-compromised-devices'));
    // Assess
    for (const tenant of [TENANT_A, TENANT_B]) {
      const expected = (truth.get(tenant) ?? []).filter((r) => r.deviceIntegrityStateCompromised === true);
      expect(expected.length).toBeGreaterThan(0);
      expect(
        rows
          .filter((r) => r.tenant === tenant)
          .map((r) => r.device_id)
          .sort(),
      ).toEqual(expected.map((r) => r.deviceId).sort());
    }
    expect(rows.some((r) => r.device_id === 'old-device')).toBe(false);
  });

  it('locked or blocked devices', async () => {
    // Act
    const { rows } = await catalog.query(sqlOf('pingone-locked-or-blocked-devices'));
    // Assess
    for (const tenant of [TENANT_A, TENANT_B]) {
      const expected = (truth.get(tenant) ?? []).filter((r) => r.deviceBlocked === true || r.deviceLocked === true);
      const got = rows.filter((r) => r.tenant === tenant);
      expect(expected.length).toBeGreaterThan(0);
      expect(got.map((r) => r.device_id).sort()).toEqual(expected.map((r) => r.deviceId).sort());
      expect(got.filter((r) => r.blocked === true)).toHaveLength(expected.filter((r) => r.deviceBlocked).length);
    }
  });

  it('phone numbers by country prefix', async () => {
    // Act
    const { rows } = await catalog.query(sqlOf('pingone-phone-numbers-by-country-prefix'));
    // Assess
    for (const tenant of [TENANT_A, TENANT_B]) {
      const counts = new Map<string, number>();
      for (const r of truth.get(tenant) ?? []) {
        if (r.phone === null) continue;
        const prefix = KNOWN_PREFIXES.find((p) => String(r.phone).startsWith(p)) ?? 'unknown';
        counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
      }
      expect(counts.size).toBeGreaterThan(2);
      const got = new Map(
        rows.filter((r) => r.tenant === tenant).map((r) => [String(r.country_prefix), Number(r.devices)]),
      );
      expect(got).toEqual(counts);
    }
  });
});
