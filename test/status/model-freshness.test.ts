/**
 * status (model.ts) says freshness as the freshness alarms compute it, although it reads more days
 * of records (--days, default 7) than the check's window: a record of a report date outside the
 * window, recorded recently (a backfill, `npm start --date`), makes neither fresh.
 */
import { describe, expect, it } from 'vitest';
import { freshnessWindow, vendorFreshness } from '../../lambdas/ops/freshness.ts';
import { vendorStatus } from '../../scripts/status/model.ts';
import { expectation, outcome } from '../ops/outcome-fixtures.ts';

const now = new Date('2026-12-08T10:00:00Z');
const settings = { cadenceHours: 24, graceHours: 6 };

describe('status freshness', () => {
  it('counts only the records of the freshness window, as the alarm does', () => {
    const window = freshnessWindow(now, settings);
    expect(window.from).toBe('2026-12-05');
    // backfilled an hour ago: report date 2026-12-02, outside the window the check reads
    const backfilled = outcome({ tenant: 'acme', report_date: '2026-12-02', recorded_at: '2026-12-08T09:00:00.000Z' });
    const expectations = [expectation({ tenant: 'acme' })];
    const inWindow = [backfilled].filter((record) => record.report_date >= window.from);
    const alarm = vendorFreshness('openathens', expectations, inWindow, now, settings);
    expect(alarm.staleTenants).toBe(1);

    const status = vendorStatus({
      vendor: 'openathens',
      runs: [],
      records: [backfilled],
      expectations,
      now,
      settings,
    });
    expect(status.freshness).toEqual(alarm);
    expect(status.attention).toContain('1 stale tenant');
  });
});
