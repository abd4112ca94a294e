import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAthensDefinition } from '../../../lambdas/connectors/openathens/definition.ts';
import { dataKey } from '../../../lambdas/core/layout.ts';
import { reportTable } from '../../../lambdas/core/tables.ts';
import { type ArchiveCatalog, openArchiveCatalog } from '../../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../../scripts/local/s3.ts';
import { publishDataObject } from '../../support/published.ts';
import { sqlAsOf } from '../../support/sql-as-of.ts';

const BUCKET = 'archive';
/** the day the saved queries run as (they read the last 30 days): just after the fixtures */
const AS_OF = '2024-02-12';
const report = openAthensDefinition.reports[0]!;

type Row = Record<string, string>;

function row(time: string, action: string, status: string, extra: Row = {}): Row {
  return {
    date: time,
    action,
    status,
    'account.accountid': 'acc-x',
    'account.organisation': '123456',
    'request.countrycode': 'GB',
    ...extra,
  };
}

const AUTH = 'LOCAL_AUTHENTICATE';
const BAD = 'ACCOUNT_ERROR_BAD_PASSWORD';
const R1 = { 'attribute.resourceid': 'https://sp.one/entity', 'attribute.resourcetitle': 'One, "Inc."' };

/** Hand-written partitions with hand-counted answers. */
const PARTITIONS: { dt: string; tenant: string; rows: Row[] }[] = [
  {
    dt: '2024-02-10',
    tenant: 'uni',
    rows: [
      row('10/02/2024T08:00:00', AUTH, BAD),
      row('10/02/2024T08:00:05', AUTH, BAD),
      row('10/02/2024T08:00:09', AUTH, BAD),
      row('10/02/2024T08:01:00', AUTH, 'SUCCESS'),
      row('10/02/2024T09:00:00', AUTH, BAD, { 'account.accountid': 'acc-y', 'request.countrycode': 'US' }),
      row('10/02/2024T09:00:10', AUTH, BAD, { 'account.accountid': 'acc-y', 'request.countrycode': 'US' }),
      row('10/02/2024T10:00:00', 'LOCAL_FEDERATED_TRANSFER', 'SUCCESS', R1),
      row('10/02/2024T10:05:00', 'LOCAL_FEDERATED_TRANSFER', 'FAILURE_RESTRICTIVE', R1),
      row('10/02/2024T11:00:00', 'AUTHENTICATE', 'SUCCESS', { 'account.organisation': '', 'request.countrycode': '' }),
    ],
  },
  {
    dt: '2024-02-11',
    tenant: 'uni',
    rows: [
      // acc-x again, but only 2 on this day: not repeated
      row('11/02/2024T08:00:00', AUTH, BAD),
      row('11/02/2024T08:00:01', AUTH, BAD),
      row('11/02/2024T12:00:00', 'FEDERATED_TRANSFER', 'SUCCESS', { ...R1, 'request.countrycode': 'DE' }),
    ],
  },
  {
    dt: '2024-02-10',
    tenant: 'med',
    rows: [
      row('10/02/2024T07:00:00', AUTH, BAD, { 'account.accountid': 'acc-m', 'account.organisation': '123457' }),
      row('10/02/2024T07:00:01', AUTH, BAD, { 'account.accountid': 'acc-m', 'account.organisation': '123457' }),
      row('10/02/2024T07:00:02', AUTH, BAD, { 'account.accountid': 'acc-m', 'account.organisation': '123457' }),
      row('10/02/2024T07:00:03', AUTH, BAD, { 'account.accountid': 'acc-m', 'account.organisation': '123457' }),
      // a row from another day than the partition: what a wrong date layout would produce
      row('02/10/2024T07:00:04', AUTH, 'SUCCESS', { 'account.accountid': 'acc-m', 'account.organisation': '123457' }),
    ],
  },
];

/** data objects written by hand take the key of one archive attempt */
const FIXTURE_ATTEMPT = '20261122T020000Z-00000001';

let dir: string;
let catalog: ArchiveCatalog;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openathens-queries-'));
  for (const partition of PARTITIONS) {
    const key = dataKey(
      { vendor: 'openathens', report: report.name, tenant: partition.tenant, date: partition.dt },
      FIXTURE_ATTEMPT,
    );
    const path = join(dir, BUCKET, `${key}${S3RVER_SUFFIX}`);
    await mkdir(join(path, '..'), { recursive: true });
    const lines = partition.rows.map((r) => JSON.stringify(report.toRecord(r))).join('\n');
    await writeFile(path, gzipSync(`${lines}\n`));
    publishDataObject(
      join(dir, BUCKET),
      { vendor: 'openathens', report: report.name, tenant: partition.tenant, date: partition.dt },
      key,
    );
  }
  catalog = await openArchiveCatalog({
    s3Directory: dir,
    bucket: BUCKET,
    tables: [reportTable('openathens', report)],
  });
});

afterAll(async () => {
  catalog?.close();
  await rm(dir, { recursive: true, force: true });
});

function sqlOf(name: string): string {
  const query = openAthensDefinition.queries.find((q) => q.name === name);
  if (!query) throw new Error(`no query ${name}`);
  return sqlAsOf(query.sql, AS_OF);
}

describe('auditor queries (DuckDB over the archived layout)', () => {
  it('are kebab-case, described, and each reads the table', () => {
    for (const query of openAthensDefinition.queries) {
      expect(query.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(query.description.length).toBeGreaterThan(10);
      expect(query.sql).toContain('FROM openathens_raw_statistics');
    }
  });

  it('the table answers the row count exactly, with typed columns', async () => {
    // Act
    const { rows } = await catalog.query(
      'SELECT COUNT(*) AS n, MIN(event_time) AS first, COUNT(DISTINCT tenant) AS tenants FROM openathens_raw_statistics WHERE attribute_resourcetitle = \'One, "Inc."\'',
    );
    const total = await catalog.query('SELECT COUNT(*) AS n FROM openathens_raw_statistics');
    // Assess
    expect(total.rows[0]?.n).toBe(String(PARTITIONS.reduce((n, p) => n + p.rows.length, 0)));
    expect(rows[0]).toEqual({ n: '3', first: '2024-02-10 10:00:00', tenants: '1' });
  });

  it('openathens-failed-authentications-by-reason', async () => {
    const { rows } = await catalog.query(sqlOf('openathens-failed-authentications-by-reason'));
    expect(rows).toEqual([
      { day: '2024-02-10', tenant: 'med', reason: BAD, failures: '4' },
      { day: '2024-02-10', tenant: 'uni', reason: BAD, failures: '5' },
      { day: '2024-02-11', tenant: 'uni', reason: BAD, failures: '2' },
    ]);
  });

  it('openathens-authentications-per-organisation', async () => {
    const { rows } = await catalog.query(sqlOf('openathens-authentications-per-organisation'));
    expect(rows).toEqual([
      { tenant: 'uni', account_organisation: '123456', authentications: '8', succeeded: '1', failed: '7' },
      { tenant: 'med', account_organisation: '123457', authentications: '5', succeeded: '1', failed: '4' },
      { tenant: 'uni', account_organisation: '(none)', authentications: '1', succeeded: '1', failed: '0' },
    ]);
  });

  it('openathens-authentications-per-resource', async () => {
    const { rows } = await catalog.query(sqlOf('openathens-authentications-per-resource'));
    expect(rows).toEqual([
      {
        tenant: 'uni',
        resource_id: 'https://sp.one/entity',
        resource_title: 'One, "Inc."',
        transfers: '3',
        not_successful: '1',
      },
    ]);
  });

  it('openathens-top-countries', async () => {
    const { rows } = await catalog.query(sqlOf('openathens-top-countries'));
    expect(rows).toEqual([
      { country: 'GB', events: '13', not_successful: '10' },
      { country: 'US', events: '2', not_successful: '2' },
      { country: '(unknown)', events: '1', not_successful: '0' },
      { country: 'DE', events: '1', not_successful: '0' },
    ]);
  });

  it('openathens-repeated-bad-passwords: 3 or more in one UTC day', async () => {
    const { rows } = await catalog.query(sqlOf('openathens-repeated-bad-passwords'));
    expect(rows).toEqual([
      {
        day: '2024-02-10',
        tenant: 'med',
        account_accountid: 'acc-m',
        bad_passwords: '4',
        first_seen: '2024-02-10 07:00:00',
        last_seen: '2024-02-10 07:00:03',
      },
      {
        day: '2024-02-10',
        tenant: 'uni',
        account_accountid: 'acc-x',
        bad_passwords: '3',
        first_seen: '2024-02-10 08:00:00',
        last_seen: '2024-02-10 08:00:09',
      },
    ]);
  });

  it('openathens-unexpected-event-day finds rows outside their partition day', async () => {
    const { rows } = await catalog.query(sqlOf('openathens-unexpected-event-day'));
    expect(rows).toEqual([{ day: '2024-02-10', tenant: 'med', rows_outside_day: '1', example: '02/10/2024T07:00:04' }]);
  });

  it('attributes are a map: a key one organisation lacks reads as NULL, not an error', async () => {
    const { rows } = await catalog.query(
      "SELECT COUNT(*) AS n FROM openathens_raw_statistics WHERE attributes['department'] IS NULL",
    );
    expect(rows[0]?.n).toBe('17');
  });
});
