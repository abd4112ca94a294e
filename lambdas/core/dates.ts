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
