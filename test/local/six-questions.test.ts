/**
 * The README's "Six questions an auditor asks": each SQL answer, read from the README itself, runs
 * in the local catalog over the hand-written archive of auditor-fixture.ts and returns the rows
 * counted by hand from that archive (questions 4 and 5 are a view and a command, tested with them).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditorArchive, day, openAuditorArchive } from './auditor-fixture.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const SECTION = README.split('### Six questions an auditor asks')[1]?.split('\n### ')[0] ?? '';

/** The first SQL block after the question numbered `n`. */
function answer(n: number): string {
  const after = SECTION.split(`**${n}. `)[1] ?? '';
  const sql = /```sql\n([\s\S]*?)```/.exec(after.split(`**${n + 1}. `)[0] ?? '')?.[1];
  if (!sql) throw new Error(`README question ${n} has no SQL answer`);
  return sql;
}

let archive: AuditorArchive;
const run = async (n: number) => (await archive.catalog.query(answer(n))).rows;

beforeAll(async () => {
  archive = await openAuditorArchive();
});
afterAll(() => archive?.close());

describe('README: six questions an auditor asks', () => {
  it('1. PingOne users without MFA on the latest date, per environment: users, not device rows', async () => {
    // env-a's newest day has bob (no device) and carol (two TOTP rows) without MFA: 2 users, 3 rows
    expect(await run(1)).toEqual([{ tenant: 'env-a', dt: day(1), users_without_mfa: '2' }]);
  });

  it('2. every MFA failure of one CSP user in the last 7 days, boundary day included', async () => {
    expect(await run(2)).toEqual([
      { event_time: `${day(7)} 23:00:00`, reason: 'MFA_AUTHENTICATION_FAILURE', source_ip: null },
      { event_time: `${day(1)} 09:00:00`, reason: 'MFA_AUTHENTICATION_FAILURE', source_ip: '198.51.100.4' },
      { event_time: `${day(1)} 10:00:00`, reason: 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE', source_ip: null },
    ]);
  });

  it('3. OpenAthens accounts with more than 5 bad passwords in a day (last 30 days)', async () => {
    expect(await run(3)).toEqual([{ dt: day(1), tenant: 'uni', account: 'acc-x', bad_passwords: '6' }]);
  });

  it('6. identities in more than one vendor, with their MFA state', async () => {
    const got = await run(6);
    expect(got.map((r) => [r.identity, r.vendor, r.tenant, r.dt, r.mfa_enabled, r.factor_count])).toEqual([
      ['alice@example.com', 'csp', 'alice', day(2), true, null],
      ['alice@example.com', 'pingone', 'env-a', day(1), true, '2'],
      ['alice@example.com', 'rsa', 'acme', day(1), true, '2'],
      ['carol', 'pingone', 'env-a', day(1), false, '2'],
      ['carol', 'rsa', 'acme', day(1), false, '0'],
    ]);
  });

  it('names a view or command for the other two', () => {
    expect(SECTION).toMatch(/\*\*4\. [^*]+\*\* The `coverage` view/);
    expect(SECTION).toMatch(/\*\*5\. [^*]+\*\* `npm run verify/);
  });
});
