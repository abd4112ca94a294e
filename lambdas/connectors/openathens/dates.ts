/**
 * OpenAthens' raw report window, as pure functions of a clock.
 *
 * The API serves one UTC day per request, "between yesterday and 30 days ago" (both ends
 * inclusive here). At any instant `now` the window is [today − 30, today − 1], where `today` is
 * the UTC calendar date of `now`; a day leaves the window at the midnight (UTC) that starts day
 * `d + 31`. Everything that decides which dates to ask for goes through `rawReportWindow`, so
 * the plan step, the start step and the alarm agree to the second.
 */
import { dayNumber, fromDayNumber, utcDate } from '../../core/dates.ts';

/** Days back the vendor keeps raw statistics ("30 days ago"). */
export const RAW_REPORT_WINDOW_DAYS = 30;

function todayNumber(now: Date): number {
  return dayNumber(utcDate(now)) as number;
}

export interface RawReportWindow {
  /** oldest date served (30 days ago, UTC) */
  readonly oldest: string;
  /** newest date served (yesterday, UTC) */
  readonly newest: string;
  /** every date in the window, newest first */
  readonly dates: readonly string[];
}

export function rawReportWindow(now: Date): RawReportWindow {
  const today = todayNumber(now);
  const dates: string[] = [];
  for (let back = 1; back <= RAW_REPORT_WINDOW_DAYS; back += 1) dates.push(fromDayNumber(today - back));
  return { newest: dates[0] as string, oldest: dates[dates.length - 1] as string, dates };
}

export type WindowCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether OpenAthens serves `date` at `now`. The reason says what was received and what was
 * expected, so it can go straight into a FAILED result or an error.
 */
export function checkRawReportDate(date: string, now: Date): WindowCheck {
  const window = rawReportWindow(now);
  const expected = `a date from ${window.oldest} to ${window.newest} (yesterday back to ${RAW_REPORT_WINDOW_DAYS} days ago, UTC, at ${now.toISOString()})`;
  const day = dayNumber(date);
  if (day === undefined) {
    return { ok: false, reason: `report date must be YYYY-MM-DD, ${expected}; received ${JSON.stringify(date)}` };
  }
  const today = todayNumber(now);
  if (day >= today) {
    return {
      ok: false,
      reason: `report date ${date} is not over yet or in the future: OpenAthens serves ${expected}`,
    };
  }
  if (day < today - RAW_REPORT_WINDOW_DAYS) {
    return {
      ok: false,
      reason: `report date ${date} has aged out: OpenAthens serves ${expected}, so this day can no longer be fetched`,
    };
  }
  return { ok: true };
}

/**
 * Dates one run covers. A requested date: just that date, even one OpenAthens would not serve, so
 * that the start step skips it with the reason (before anything is sent to the vendor) and the
 * skip is recorded. Otherwise yesterday (always, so a re-run refreshes it) followed by every
 * other date of the window missing from `archived`, oldest first: the days closest to ageing out
 * are fetched first.
 */
export function planRawReportDates(input: {
  scheduledTime: Date;
  requestedDate?: string;
  archived: ReadonlySet<string>;
}): string[] {
  if (input.requestedDate !== undefined) return [input.requestedDate];
  const window = rawReportWindow(input.scheduledTime);
  const missing = window.dates.slice(1).filter((date) => !input.archived.has(date));
  return [window.newest, ...missing.reverse()];
}

/**
 * Dates still served but not archived that leave the window within `horizonDays` (a day leaves at
 * the UTC midnight that starts day `d + 31`). Oldest first. `horizonDays` 0 means none.
 */
export function rawReportDatesAtRisk(input: {
  now: Date;
  archived: ReadonlySet<string>;
  horizonDays: number;
}): string[] {
  if (!Number.isInteger(input.horizonDays) || input.horizonDays < 0) {
    throw new RangeError(`horizonDays must be a whole number ≥ 0; received ${input.horizonDays}`);
  }
  const today = todayNumber(input.now);
  // d leaves at the start of d + 31; at risk when d + 31 <= today + horizonDays.
  const newestAtRisk = today - (RAW_REPORT_WINDOW_DAYS + 1) + input.horizonDays;
  return rawReportWindow(input.now)
    .dates.filter((date) => (dayNumber(date) as number) <= newestAtRisk && !input.archived.has(date))
    .reverse();
}
