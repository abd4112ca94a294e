/**
 * Saved queries stay cheap as the archive ages: each one reads `_latest` views or bounds `dt` by
 * today, and on the hand-written archive of auditor-fixture.ts the bound keeps exactly the days
 * the description names (hand-counted answers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionFor, definitions } from '../../lambdas/connectors/registry.ts';
import { archiveQueries } from '../../lambdas/core/archive-queries.ts';
import { type AuditorArchive, day, openAuditorArchive } from './auditor-fixture.ts';

let archive: AuditorArchive;
const rows = async (sql: string) => (await archive.catalog.query(sql)).rows;
const saved = (vendor: string, name: string): string => {
  const query = definitionFor(vendor).queries.find((q) => q.name === name);
  if (!query) throw new Error(`no saved query ${vendor}/${name}`);
  return query.sql;
};

beforeAll(async () => {
  archive = await openAuditorArchive();
});
afterAll(() => archive?.close());

const BOUND = "dt >= CAST(CAST(current_date - INTERVAL '";

describe('every saved query prunes by dt', () => {
  it.each([
    ...archiveQueries.map((q) => ['archive', q.name, q.sql] as const),
    ...definitions.flatMap((d) => d.queries.map((q) => [d.vendor, q.name, q.sql] as const)),
  ])('%s %s reads _latest views or bounds dt by today', (_vendor, _name, sql) => {
    const sources = [...sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/g)].map((m) => m[1] ?? '');
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) if (!source.endsWith('_latest')) expect(sql, source).toContain(BOUND);
  });
});

describe('saved queries on the fixture archive', () => {
  it("snapshot queries read each tenant's newest day only", async () => {
    const got = await rows(saved('pingone', 'pingone-users-without-mfa'));
    expect(got.map((r) => [r.tenant, r.dt, r.user_id, r.devices])).toEqual([
      ['env-a', day(1), 'u2', '0'],
      ['env-a', day(1), 'u3', '2'],
    ]);
    const rsa = await rows(saved('rsa', 'rsa-users-without-registered-authenticator'));
    expect(rsa.map((r) => [r.tenant, r.username])).toEqual([['acme', 'carol']]);
  });

  it('event-log queries read the last 30 days: a day 40 days back is left out', async () => {
    const repeated = await rows(saved('openathens', 'openathens-repeated-bad-passwords'));
    expect(repeated.map((r) => [r.day, r.account_accountid, r.bad_passwords])).toEqual([[day(1), 'acc-x', '6']]);
    const failures = await rows(saved('openathens', 'openathens-failed-authentications-by-reason'));
    expect(failures).toEqual([{ day: day(1), tenant: 'uni', reason: 'ACCOUNT_ERROR_BAD_PASSWORD', failures: '8' }]);
    const csp = await rows(saved('csp', 'csp-mfa-authentication-failures-per-day'));
    expect(csp.map((r) => [r.day, r.mfa_failures, r.recovery_code_failures])).toEqual([
      [day(9), '1', '0'],
      [day(7), '1', '0'],
      [day(1), '1', '1'],
    ]);
  });
});
