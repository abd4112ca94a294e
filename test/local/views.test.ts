/**
 * The auditor views (lambdas/core/views/) in the local catalog, over the hand-written archive of
 * auditor-fixture.ts: each returns the rows its documentation promises, counted by hand from the
 * fixture, and each view's columns in DuckDB are the ones it declares to Glue and Athena.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prestoType } from '../../lambdas/core/tables.ts';
import { archiveViews } from '../../lambdas/core/views.ts';
import { type AuditorArchive, allTables, day, openAuditorArchive } from './auditor-fixture.ts';

let archive: AuditorArchive;
const rows = async (sql: string) => (await archive.catalog.query(sql)).rows;

beforeAll(async () => {
  archive = await openAuditorArchive();
});
afterAll(() => archive?.close());

/** DuckDB's DESCRIBE spelling of a Presto type. */
function duckdbType(presto: string): string {
  const array = /^array\((.+)\)$/.exec(presto);
  if (array) return `${duckdbType(array[1] ?? '')}[]`;
  const map = /^map\(([^,]+),(.+)\)$/.exec(presto);
  if (map) return `MAP(${duckdbType(map[1] ?? '')}, ${duckdbType(map[2] ?? '')})`;
  return presto.toUpperCase();
}

describe('view columns', () => {
  it('every view has, in DuckDB, the columns and types it declares (Presto and Hive spellings agree)', async () => {
    const views = archiveViews(allTables());
    expect(views.map((v) => v.name)).toEqual(
      expect.arrayContaining([
        'pingone_mfa_devices_latest',
        'rsa_users_latest',
        'mfa_posture',
        'mfa_posture_latest',
        'authentication_failures',
      ]),
    );
    for (const view of views) {
      // Act
      const described = await rows(`DESCRIBE ${view.name}`);
      // Assess
      expect(
        described.map((c) => [c.column_name, c.column_type]),
        view.name,
      ).toEqual(view.columns.map((c) => [c.name, duckdbType(c.prestoType)]));
      for (const column of view.columns) expect(prestoType(column.glueType), column.name).toBe(column.prestoType);
    }
  });

  it('event logs get no _latest view: their days add up rather than replace each other', () => {
    const names = archiveViews(allTables()).map((v) => v.name);
    expect(names).not.toContain('csp_mfa_audit_latest');
    expect(names).not.toContain('openathens_raw_statistics_latest');
  });
});

describe('<report>_latest', () => {
  it("keeps each tenant's newest archived day of the last 14, however old within them", async () => {
    const got = await rows(
      'SELECT tenant, dt, user_id, device_id FROM pingone_mfa_devices_latest ORDER BY tenant, user_id, device_id',
    );
    expect(got).toEqual([
      { tenant: 'env-a', dt: day(1), user_id: 'u1', device_id: 'd1' },
      { tenant: 'env-a', dt: day(1), user_id: 'u1', device_id: 'd2' },
      { tenant: 'env-a', dt: day(1), user_id: 'u2', device_id: null },
      { tenant: 'env-a', dt: day(1), user_id: 'u3', device_id: 'd3' },
      { tenant: 'env-a', dt: day(1), user_id: 'u3', device_id: 'd4' },
      // env-b's newest is 3 days old; env-c's (20 days) is past the look-back
      { tenant: 'env-b', dt: day(3), user_id: 'b1', device_id: 'b' },
    ]);
  });

  it('reads the newest day of each RSA report on its own', async () => {
    expect(
      await rows('SELECT tenant, dt, COUNT(*) AS n FROM rsa_users_latest GROUP BY tenant, dt ORDER BY tenant'),
    ).toEqual([
      { tenant: 'acme', dt: day(1), n: '3' },
      { tenant: 'globex', dt: day(1), n: '1' },
    ]);
    expect(await rows('SELECT tenant, COUNT(*) AS n FROM rsa_hardware_tokens_latest GROUP BY tenant')).toEqual([
      { tenant: 'acme', n: '2' },
    ]);
  });
});

const POSTURE = 'vendor, tenant, dt, identity_key, username, email, mfa_enabled, factor_count, factor_kinds';

describe('mfa_posture', () => {
  it('PingOne: one row per user, not per device row; email from the EMAIL device', async () => {
    const got = await rows(
      `SELECT ${POSTURE} FROM mfa_posture WHERE vendor = 'pingone' AND tenant = 'env-a' AND dt = '${day(1)}' ORDER BY identity_key`,
    );
    const row = (key: string, username: string, email: string | null, on: boolean, n: string, kinds: string[]) => ({
      vendor: 'pingone',
      tenant: 'env-a',
      dt: day(1),
      identity_key: key,
      username,
      email,
      mfa_enabled: on,
      factor_count: n,
      factor_kinds: kinds,
    });
    expect(got).toEqual([
      row('u1', 'alice', 'alice@example.com', true, '2', ['EMAIL', 'SMS']),
      row('u2', 'bob', null, false, '0', []),
      row('u3', 'carol', null, false, '2', ['TOTP']),
    ]);
  });

  it("RSA: the registration flags and the same day's hardware tokens; a day without the token report is left out", async () => {
    const got = await rows(
      `SELECT tenant, identity_key, username, email, mfa_enabled, factor_count, factor_kinds FROM mfa_posture WHERE vendor = 'rsa' ORDER BY tenant, identity_key`,
    );
    expect(got).toEqual([
      {
        tenant: 'acme',
        identity_key: 'alice',
        username: 'alice',
        email: 'alice@example.com',
        mfa_enabled: true,
        factor_count: '2',
        factor_kinds: ['authenticator_app', 'sms'],
      },
      {
        tenant: 'acme',
        identity_key: 'bob',
        username: 'Bob',
        email: 'bob@example.com',
        mfa_enabled: true,
        factor_count: '1',
        factor_kinds: ['hardware_token'],
      },
      {
        tenant: 'acme',
        identity_key: 'carol',
        username: 'carol',
        email: null,
        mfa_enabled: false,
        factor_count: '0',
        factor_kinds: [],
      },
    ]);
  });

  it("CSP: only days with an MFA change, as the day's last change leaves it; a tie that disagrees is unknown", async () => {
    const got = await rows(
      `SELECT dt, identity_key, mfa_enabled, factor_count FROM mfa_posture WHERE vendor = 'csp' ORDER BY dt, identity_key`,
    );
    expect(got).toEqual([
      { dt: day(4), identity_key: 'alice@example.com', mfa_enabled: null, factor_count: null },
      { dt: day(4), identity_key: 'dave@example.com', mfa_enabled: true, factor_count: null },
      { dt: day(2), identity_key: 'alice@example.com', mfa_enabled: true, factor_count: null },
    ]);
  });

  it("mfa_posture_latest keeps each PingOne and RSA tenant's newest day of the last 14, and each CSP identity's latest change", async () => {
    const got = await rows(
      'SELECT vendor, tenant, dt, COUNT(*) AS identities FROM mfa_posture_latest GROUP BY vendor, tenant, dt ORDER BY vendor, tenant, dt DESC',
    );
    expect(got).toEqual([
      { vendor: 'csp', tenant: 'alice', dt: day(2), identities: '1' },
      { vendor: 'csp', tenant: 'alice', dt: day(4), identities: '1' },
      { vendor: 'pingone', tenant: 'env-a', dt: day(1), identities: '3' },
      { vendor: 'pingone', tenant: 'env-b', dt: day(3), identities: '1' },
      { vendor: 'rsa', tenant: 'acme', dt: day(1), identities: '3' },
    ]);
  });
});

describe('authentication_failures', () => {
  it('holds CSP MFA failures and OpenAthens failed authentications, with their source address', async () => {
    const got = await rows(
      `SELECT vendor, dt, identity, reason, source_ip, COUNT(*) AS n, MIN(CAST(event_time AS VARCHAR)) AS first
       FROM authentication_failures GROUP BY vendor, dt, identity, reason, source_ip ORDER BY vendor, dt, identity, reason`,
    );
    const csp = (dt: string, reason: string, ip: string | null, time: string) => ({
      vendor: 'csp',
      dt,
      identity: 'alice@example.com',
      reason,
      source_ip: ip,
      n: '1',
      first: `${dt} ${time}`,
    });
    const oa = (dt: string, identity: string, ip: string | null, n: string) => ({
      vendor: 'openathens',
      dt,
      identity,
      reason: 'ACCOUNT_ERROR_BAD_PASSWORD',
      source_ip: ip,
      n,
      first: `${dt} 08:00:00`,
    });
    expect(got).toEqual([
      csp(day(9), 'MFA_AUTHENTICATION_FAILURE', null, '09:00:00'),
      csp(day(7), 'MFA_AUTHENTICATION_FAILURE', null, '23:00:00'),
      csp(day(1), 'MFA_AUTHENTICATION_FAILURE', '198.51.100.4', '09:00:00'),
      csp(day(1), 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE', null, '10:00:00'),
      oa(day(40), 'acc-z', '192.0.2.9', '7'),
      oa(day(1), 'acc-x', '192.0.2.7', '6'),
      oa(day(1), 'acc-y', null, '2'),
    ]);
  });
});
