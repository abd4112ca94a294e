/**
 * Calendar days, checked by arithmetic. `Date.parse` is no check: it reads 2026-02-30 as
 * 2 March, and a report archived under `dt=2026-02-30` would sit where Athena's date
 * projection never looks.
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `day` of `month` (1-12) of `year` (proleptic Gregorian) exists. */
export function isRealDay(year: number, month: number, day: number): boolean {
  if (!(month >= 1 && month <= 12 && day >= 1)) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS[month - 1] as number));
}

/** Whether `value` is a day as `YYYY-MM-DD`, the form of the archive's `dt` partitions. */
export function isCalendarDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  return match !== null && isRealDay(Number(match[1]), Number(match[2]), Number(match[3]));
}

// UTC days as arithmetic: one day is 86 400 000 ms (UTC has no daylight saving), so a day number
// is a whole count of days since 1970-01-01.

export const DAY_MS = 86_400_000;

/** The UTC calendar date of an instant, as YYYY-MM-DD. */
export function utcDate(instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new RangeError('expected a valid Date; received an invalid Date');
  return instant.toISOString().slice(0, 10);
}

/** Whole days since 1970-01-01 of a YYYY-MM-DD date, or undefined when it is not a calendar date. */
export function dayNumber(date: string): number | undefined {
  if (!isCalendarDate(date)) return undefined;
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

/** The YYYY-MM-DD date of a day number. */
export function fromDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Every date from `from` to `to`, both included; none when `from` is after `to`. */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) dates.push(date);
  return dates;
}

/** `isoDate` moved by `days` whole days (negative: back). */
export function addDays(isoDate: string, days: number): string {
  return utcDate(new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * DAY_MS));
}
