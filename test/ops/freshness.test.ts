/**
 * `vendorFreshness` decides, from expectations and outcome records alone, which tenants are stale
 * (no archived report within cadence + grace) and how long ago the vendor last archived anything.
 */
import { describe, expect, it } from 'vitest';
import { freshnessWindow, thresholdMinutes, vendorFreshness } from '../../lambdas/ops/freshness.ts';
import { expectation, outcome } from './outcome-fixtures.ts';

const NOW = new Date('2026-12-08T10:00:00.000Z');
const DAILY = { cadenceHours: 24, graceHours: 6 };
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

describe('the freshness window', () => {
  it('reads ceil((cadence + grace) / 24) + 1 days back, and is longer than cadence + grace', () => {
    const window = freshnessWindow(NOW, DAILY);
    expect(window).toEqual({ from: '2026-12-05', to: '2026-12-08', minutes: 3 * 24 * 60 });
    expect(window.minutes).toBeGreaterThan(thresholdMinutes(DAILY));
  });
});

describe('an active tenant', () => {
  it('is fresh with an archived record within cadence + grace, and says when', () => {
    // Prepare
    const records = [
      outcome({ tenant: 'a', report_date: '2026-12-06', recorded_at: hoursAgo(34) }),
      outcome({ tenant: 'a', report_date: '2026-12-07', recorded_at: hoursAgo(10) }),
    ];

    // Act
    const result = vendorFreshness('openathens', [expectation({ tenant: 'a' })], records, NOW, DAILY);

    // Assess
    expect(result).toEqual({
      vendor: 'openathens',
      lastArchivedAt: hoursAgo(10),
      minutesSinceLastArchived: 600,
      staleTenants: 0,
      reports: [
        {
          tenant: 'a',
          report: 'raw_statistics',
          lastArchivedAt: hoursAgo(10),
          lastArchivedDate: '2026-12-07',
          hoursSinceArchived: 10,
          stale: false,
          lastOutcome: 'archived',
          lastError: null,
          lastReason: null,
        },
      ],
    });
  });

  it('is stale once its last archive is older than cadence + grace, and not before', () => {
    const at = (hours: number) =>
      vendorFreshness(
        'openathens',
        [expectation({ tenant: 'a' })],
        [outcome({ tenant: 'a', report_date: '2026-12-06', recorded_at: hoursAgo(hours) })],
        NOW,
        DAILY,
      );
    expect(at(30).reports[0]?.stale).toBe(false);
    expect(at(30.5).reports[0]?.stale).toBe(true);
    expect(at(30.5).staleTenants).toBe(1);
  });

  it('counts once in staleTenants however many of its reports are stale', () => {
    const rows = [expectation({ tenant: 'a', report: 'r1' }), expectation({ tenant: 'a', report: 'r2' })];
    const result = vendorFreshness('openathens', rows, [], NOW, DAILY);
    expect(result.reports.map((r) => r.stale)).toEqual([true, true]);
    expect(result.staleTenants).toBe(1);
  });
});

describe('a tenant that fails every day', () => {
  it('is stale, with its last error and reason', () => {
    // Prepare: archived four days ago, failed every run since
    const failed = (date: string, hours: number) =>
      outcome({
        tenant: 'a',
        report_date: date,
        recorded_at: hoursAgo(hours),
        outcome: 'failed',
        error: 'VendorAuthError',
        reason: 'the token endpoint answered 401',
      });
    const records = [
      outcome({ tenant: 'a', report_date: '2026-12-04', recorded_at: hoursAgo(80) }),
      failed('2026-12-05', 56),
      failed('2026-12-06', 32),
      failed('2026-12-07', 8),
      outcome({ tenant: 'b', report_date: '2026-12-07', recorded_at: hoursAgo(8) }),
    ];

    // Act
    const result = vendorFreshness(
      'openathens',
      [expectation({ tenant: 'a' }), expectation({ tenant: 'b' })],
      records,
      NOW,
      DAILY,
    );

    // Assess: the vendor archives (tenant b), yet tenant a is stale
    expect(result.minutesSinceLastArchived).toBe(8 * 60);
    expect(result.staleTenants).toBe(1);
    expect(result.reports[0]).toEqual({
      tenant: 'a',
      report: 'raw_statistics',
      lastArchivedAt: hoursAgo(80),
      lastArchivedDate: '2026-12-04',
      hoursSinceArchived: 80,
      stale: true,
      lastOutcome: 'failed',
      lastError: 'VendorAuthError',
      lastReason: 'the token endpoint answered 401',
    });
  });
});

describe('skipped and lost records', () => {
  it('do not count as archived', () => {
    // Prepare
    const records = [
      outcome({
        tenant: 'a',
        report_date: '2026-12-07',
        recorded_at: hoursAgo(9),
        outcome: 'lost',
        reason: 'aged out',
      }),
      outcome({
        tenant: 'a',
        report_date: '2026-12-08',
        recorded_at: hoursAgo(2),
        outcome: 'skipped',
        reason: 'past date',
      }),
    ];

    // Act
    const result = vendorFreshness('openathens', [expectation({ tenant: 'a' })], records, NOW, DAILY);

    // Assess
    expect(result.lastArchivedAt).toBeNull();
    expect(result.minutesSinceLastArchived).toBe(freshnessWindow(NOW, DAILY).minutes);
    expect(result.reports[0]).toMatchObject({
      stale: true,
      lastArchivedAt: null,
      lastArchivedDate: null,
      hoursSinceArchived: null,
      lastOutcome: 'skipped',
      lastReason: 'past date',
    });
  });
});

describe('new and ended tenants', () => {
  it('a tenant due more recently than cadence + grace is not stale yet; one due longer is', () => {
    const rows = [
      expectation({ tenant: 'new', since: '2026-12-08' }),
      expectation({ tenant: 'day-old', since: '2026-12-07' }), // due for 34 hours
      expectation({ tenant: 'future', since: '2026-12-09' }),
    ];
    const early = vendorFreshness('openathens', rows, [], new Date('2026-12-08T05:00:00Z'), DAILY);
    expect(early.reports.map((r) => [r.tenant, r.stale])).toEqual([
      ['new', false],
      ['day-old', false], // due for 29 hours
    ]);
    const later = vendorFreshness('openathens', rows, [], NOW, DAILY);
    expect(later.reports.map((r) => [r.tenant, r.stale])).toEqual([
      ['new', false],
      ['day-old', true],
    ]);
  });

  it('a tenant that ended before yesterday is left out; one that ended yesterday still counts', () => {
    const rows = [
      expectation({ tenant: 'gone', until: '2026-12-06' }),
      expectation({ tenant: 'ending', until: '2026-12-07' }),
    ];
    const result = vendorFreshness('openathens', rows, [], NOW, DAILY);
    expect(result.reports.map((r) => r.tenant)).toEqual(['ending']);
    expect(result.staleTenants).toBe(1);
  });
});

describe('a vendor whose schedule is disabled', () => {
  it('with no records at all reads the window length and every tenant due long enough stale', () => {
    // Prepare
    const rows = [
      expectation({ tenant: 'a' }),
      expectation({ tenant: 'b' }),
      expectation({ tenant: 'c', report: 'other' }),
      expectation({ tenant: 'just-added', since: '2026-12-08' }),
    ];

    // Act
    const result = vendorFreshness('openathens', rows, [], NOW, DAILY);

    // Assess
    expect(result.lastArchivedAt).toBeNull();
    expect(result.minutesSinceLastArchived).toBe(3 * 24 * 60);
    expect(result.minutesSinceLastArchived).toBeGreaterThan(thresholdMinutes(DAILY));
    expect(result.staleTenants).toBe(3);
  });

  it('with no expectations either still reads the window length', () => {
    const result = vendorFreshness('openathens', [], [], NOW, DAILY);
    expect(result).toEqual({
      vendor: 'openathens',
      lastArchivedAt: null,
      minutesSinceLastArchived: 3 * 24 * 60,
      staleTenants: 0,
      reports: [],
    });
  });
});

describe('records and expectations of another vendor', () => {
  it('are ignored', () => {
    const result = vendorFreshness(
      'openathens',
      [expectation({ tenant: 'a', vendor: 'csp' })],
      [outcome({ tenant: 'a', vendor: 'csp', report_date: '2026-12-08', recorded_at: hoursAgo(1) })],
      NOW,
      DAILY,
    );
    expect(result).toMatchObject({ lastArchivedAt: null, staleTenants: 0, reports: [] });
  });
});
