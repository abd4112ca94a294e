/**
 * One check of a report date for the whole app: the plan step, the archive's keys, the connectors
 * and the command lines all refuse a day that does not exist, which Date.parse would roll over.
 */
import { describe, expect, it } from 'vitest';
import { addDays, dayNumber, fromDayNumber, isCalendarDate, utcDate } from '../../lambdas/core/dates.ts';
import { dataKey } from '../../lambdas/core/layout.ts';
import { RunRequestSchema } from '../../lambdas/pipeline/plan.ts';

describe('isCalendarDate', () => {
  it.each(['2026-11-22', '2024-02-29', '2000-02-29', '2026-12-31', '2026-01-01'])('accepts %s', (date) => {
    expect(isCalendarDate(date)).toBe(true);
  });

  it.each([
    ['a 30 February', '2026-02-30'],
    ['29 February of a common year', '2026-02-29'],
    ['29 February of a century not divisible by 400', '1900-02-29'],
    ['31 April', '2026-04-31'],
    ['month 13', '2026-13-01'],
    ['month 0', '2026-00-10'],
    ['day 0', '2026-11-00'],
    ['no zero padding', '2026-1-5'],
    ['a timestamp', '2026-11-22T00:00:00Z'],
    ['day first', '22/11/2026'],
    ['empty', ''],
  ])('refuses %s (%s)', (_what, date) => {
    expect(isCalendarDate(date)).toBe(false);
  });
});

describe('a day that does not exist', () => {
  it('is refused by the plan step, so a hand-started run fails before any vendor call', () => {
    const result = RunRequestSchema.safeParse({ scheduledTime: '2026-11-22T02:00:00Z', date: '2026-02-30' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('expected a calendar date as YYYY-MM-DD');
  });

  it('never becomes a partition Athena date projection would not list', () => {
    const request = { vendor: 'csp', report: 'mfa_audit', tenant: 'alice', date: '2026-02-30' };
    const attempt = '20240301T020000Z-0a1b2c3d';
    expect(() => dataKey(request, attempt)).toThrow(
      'date must be a calendar date as YYYY-MM-DD; received "2026-02-30"',
    );
    expect(dataKey({ ...request, date: '2024-02-29' }, attempt)).toBe(
      'data/vendor=csp/report=mfa_audit/dt=2024-02-29/tenant=alice/20240301T020000Z-0a1b2c3d.jsonl.gz',
    );
  });
});

describe('UTC-day arithmetic', () => {
  it('reads the UTC date of an instant, whatever the local time zone would say', () => {
    expect(utcDate(new Date('2026-11-22T23:59:59.999Z'))).toBe('2026-11-22');
    expect(utcDate(new Date('2026-11-22T23:30:00-01:00'))).toBe('2026-11-23');
  });

  it('refuses an invalid Date instead of formatting it', () => {
    expect(() => utcDate(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('moves across month, year and leap-day boundaries', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-11-22', -60)).toBe('2026-09-23');
  });

  it('numbers days from 1970-01-01 and back again, and has no number for a day that does not exist', () => {
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(dayNumber('2026-11-22')).toBe(20_779);
    expect(fromDayNumber(20_779)).toBe('2026-11-22');
    expect(dayNumber('2026-02-30')).toBeUndefined();
    expect(dayNumber('22/11/2026')).toBeUndefined();
  });
});
