import { describe, expect, it } from 'vitest';
import {
  checkRawReportDate,
  planRawReportDates,
  RAW_REPORT_WINDOW_DAYS,
  rawReportDatesAtRisk,
  rawReportWindow,
} from '../../../lambdas/connectors/openathens/dates.ts';
import { openAthensDefinition } from '../../../lambdas/connectors/openathens/definition.ts';

const JUST_BEFORE_MIDNIGHT = new Date('2024-03-01T23:59:59.999Z');
const JUST_AFTER_MIDNIGHT = new Date('2024-03-02T00:00:00.000Z');

function isoDays(from: string, to: string): string[] {
  // inclusive, newest first, built independently of the code under test
  const out: string[] = [];
  for (let t = Date.parse(`${to}T00:00:00Z`); t >= Date.parse(`${from}T00:00:00Z`); t -= 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

describe('rawReportWindow', () => {
  it('spans yesterday back to 30 days ago in UTC, across a leap day', () => {
    // Act
    const window = rawReportWindow(JUST_BEFORE_MIDNIGHT);
    // Assess: 2024 is a leap year, so 30 days before 2024-03-01 is 2024-01-31
    expect(window.newest).toBe('2024-02-29');
    expect(window.oldest).toBe('2024-01-31');
    expect(window.dates).toEqual(isoDays('2024-01-31', '2024-02-29'));
    expect(window.dates).toHaveLength(RAW_REPORT_WINDOW_DAYS);
  });

  it('moves by one day at midnight UTC, not at local midnight', () => {
    // Act
    const before = rawReportWindow(JUST_BEFORE_MIDNIGHT);
    const after = rawReportWindow(JUST_AFTER_MIDNIGHT);
    // Assess
    expect(after.newest).toBe('2024-03-01');
    expect(after.oldest).toBe('2024-02-01');
    expect(before.dates).toContain('2024-01-31');
    expect(after.dates).not.toContain('2024-01-31');
  });

  it('uses the UTC date of an instant given with an offset', () => {
    // Prepare: 01:30 in UTC+02:00 is still the previous day in UTC
    const now = new Date('2024-03-02T01:30:00+02:00');
    // Act / Assess
    expect(rawReportWindow(now).newest).toBe('2024-02-29');
  });
});

describe('checkRawReportDate', () => {
  it.each([
    ['yesterday', '2024-03-01', JUST_AFTER_MIDNIGHT],
    ['30 days ago', '2024-02-01', JUST_AFTER_MIDNIGHT],
    ['30 days ago, a millisecond before it ages out', '2024-01-31', JUST_BEFORE_MIDNIGHT],
  ])('accepts %s', (_label, date, now) => {
    expect(checkRawReportDate(date, now)).toEqual({ ok: true });
  });

  it.each([
    ['today', '2024-03-02', JUST_AFTER_MIDNIGHT, /not over yet/],
    ['tomorrow', '2024-03-03', JUST_AFTER_MIDNIGHT, /not over yet/],
    ['31 days ago, right after midnight', '2024-01-31', JUST_AFTER_MIDNIGHT, /aged out/],
    ['yesterday seen just before midnight (it is still today)', '2024-03-01', JUST_BEFORE_MIDNIGHT, /not over yet/],
    ['a date that does not exist', '2024-02-30', JUST_AFTER_MIDNIGHT, /must be YYYY-MM-DD/],
    ['another format', '01/03/2024', JUST_AFTER_MIDNIGHT, /must be YYYY-MM-DD/],
  ])('refuses %s, saying what was expected', (_label, date, now, pattern) => {
    // Act
    const check = checkRawReportDate(date, now);
    // Assess
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.reason).toMatch(pattern);
    expect(check.reason).toContain(date);
    expect(check.reason).toContain(rawReportWindow(now).oldest);
    expect(check.reason).toContain(rawReportWindow(now).newest);
  });
});

describe('planRawReportDates', () => {
  describe('with a requested date', () => {
    it('plans just that date when the vendor still serves it', () => {
      expect(
        planRawReportDates({ scheduledTime: JUST_AFTER_MIDNIGHT, requestedDate: '2024-02-10', archived: new Set() }),
      ).toEqual(['2024-02-10']);
    });

    it('plans a date outside the window too, for the start step to skip with its reason', () => {
      // Act / Assess: aged out, and not over yet
      expect(
        planRawReportDates({ scheduledTime: JUST_AFTER_MIDNIGHT, requestedDate: '2024-01-31', archived: new Set() }),
      ).toEqual(['2024-01-31']);
      expect(
        planRawReportDates({ scheduledTime: JUST_AFTER_MIDNIGHT, requestedDate: '2024-03-02', archived: new Set() }),
      ).toEqual(['2024-03-02']);
    });
  });

  describe('for a scheduled run', () => {
    it('plans yesterday and every unarchived day of the window, oldest first', () => {
      // Prepare: everything archived but three days
      const window = isoDays('2024-02-01', '2024-03-01');
      const missing = ['2024-02-01', '2024-02-14', '2024-02-28'];
      const archived = new Set(window.filter((d) => !missing.includes(d)));
      // Act
      const dates = planRawReportDates({ scheduledTime: new Date('2024-03-02T01:30:00Z'), archived });
      // Assess
      expect(dates).toEqual(['2024-03-01', '2024-02-01', '2024-02-14', '2024-02-28']);
    });

    it('plans the whole window for a new organisation, yesterday first and no date twice', () => {
      // Act
      const dates = planRawReportDates({ scheduledTime: JUST_AFTER_MIDNIGHT, archived: new Set() });
      // Assess
      expect(dates[0]).toBe('2024-03-01');
      expect(new Set(dates).size).toBe(30);
      expect([...dates].sort()).toEqual(isoDays('2024-02-01', '2024-03-01').sort());
    });

    it('still plans yesterday when it is archived (a re-run refreshes it), and ignores older archive dates', () => {
      // Prepare
      const archived = new Set([...isoDays('2024-02-01', '2024-03-01'), '2023-12-01']);
      // Act / Assess
      expect(planRawReportDates({ scheduledTime: JUST_AFTER_MIDNIGHT, archived })).toEqual(['2024-03-01']);
    });

    it('differs across midnight: the day that aged out is no longer planned', () => {
      // Prepare: nothing archived
      const archived = new Set<string>();
      // Act
      const before = planRawReportDates({ scheduledTime: JUST_BEFORE_MIDNIGHT, archived });
      const after = planRawReportDates({ scheduledTime: JUST_AFTER_MIDNIGHT, archived });
      // Assess
      expect(before).toContain('2024-01-31');
      expect(before).not.toContain('2024-03-01');
      expect(after).not.toContain('2024-01-31');
      expect(after[0]).toBe('2024-03-01');
    });
  });
});

describe('rawReportDatesAtRisk', () => {
  it('lists the unarchived days that leave the window within the horizon, oldest first', () => {
    // Prepare: window at 2024-03-02 is 2024-02-01 … 2024-03-01; 02-01 leaves tomorrow, 02-02 the day after
    const archived = new Set(['2024-02-02']);
    // Act
    const risk = rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived, horizonDays: 3 });
    // Assess
    expect(risk).toEqual(['2024-02-01', '2024-02-03']);
  });

  it('shifts at midnight UTC', () => {
    // Act
    const before = rawReportDatesAtRisk({ now: JUST_BEFORE_MIDNIGHT, archived: new Set(), horizonDays: 1 });
    const after = rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived: new Set(), horizonDays: 1 });
    // Assess
    expect(before).toEqual(['2024-01-31']);
    expect(after).toEqual(['2024-02-01']);
  });

  it('is empty when everything is archived or the horizon is 0', () => {
    const all = new Set(isoDays('2024-02-01', '2024-03-01'));
    expect(rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived: all, horizonDays: 30 })).toEqual([]);
    expect(rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived: new Set(), horizonDays: 0 })).toEqual([]);
  });

  it('covers the whole window when the horizon is the window', () => {
    expect(rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived: new Set(), horizonDays: 30 })).toEqual(
      isoDays('2024-02-01', '2024-03-01').reverse(),
    );
  });

  it('refuses a negative or fractional horizon', () => {
    expect(() => rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived: new Set(), horizonDays: -1 })).toThrow(
      /horizonDays/,
    );
    expect(() => rawReportDatesAtRisk({ now: JUST_AFTER_MIDNIGHT, archived: new Set(), horizonDays: 1.5 })).toThrow(
      /horizonDays/,
    );
  });

  it('is what the connector exposes to the plan step', () => {
    expect(openAthensDefinition.datesAtRisk).toBe(rawReportDatesAtRisk);
    expect(openAthensDefinition.planDates).toBe(planRawReportDates);
  });
});
