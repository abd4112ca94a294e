/**
 * A vendor's cadence for freshness: the longest time between two firings of its EventBridge
 * Scheduler expression, in hours (pure; synth calls it once per vendor).
 *
 * 1. `rate(n unit)`: n units.
 * 2. `cron(min hour day-of-month month day-of-week year)` with numbers, `*`, `?`, ranges, steps,
 *    lists and day names: the firings of a common year, a leap year and the month after are laid
 *    out and the longest gap between two of them is taken (a schedule on the 31st skips months;
 *    one on weekdays waits over the weekend). `L`, `W`, `#` and restricted years are refused by name: a
 *    guessed cadence would make the freshness alarm fire early or never.
 * 3. A schedule read in a time zone other than UTC may fire an hour late across a
 *    daylight-saving change: one hour is added.
 */
import { DAY_MS } from '../core/dates.ts';

const HOUR_MS = 3_600_000;
const UNIT_HOURS: Record<string, number> = { minute: 1 / 60, hour: 1, day: 24 };
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const UTC_ZONES = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'z', 'zulu', 'universal', 'etc/universal']);
/**
 * 2027 is not a leap year and 2028 is: their firings and January 2029's give every gap a year can
 * hold (a schedule on the 29th waits from 29 January to 29 March in 2027 only).
 */
const LAYOUT_START = Date.UTC(2027, 0, 1);
const LAYOUT_DAYS = 365 + 366 + 31;

export function scheduleCadenceHours(expression: string, timeZone = 'UTC'): number {
  const hours = gapHours(expression);
  return UTC_ZONES.has(timeZone.toLowerCase()) ? hours : hours + 1;
}

function gapHours(expression: string): number {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return Number(rate[1]) * (UNIT_HOURS[rate[2] as string] as number);
  const fields = /^cron\((.*)\)$/.exec(expression)?.[1]?.trim().split(/\s+/);
  const refuse = (why: string) =>
    new Error(
      `cannot tell how often "${expression}" fires (${why}); expected rate(n unit) or a cron expression of numbers, ranges, steps, lists and names`,
    );
  if (fields?.length !== 6) throw refuse('expected six cron fields');
  const [minute, hour, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  if (year !== '*') throw refuse('a restricted year ends the schedule');
  const minutes = values(minute, 0, 59);
  const hoursOfDay = values(hour, 0, 23);
  const days = dayOfMonth === '?' ? undefined : values(dayOfMonth, 1, 31);
  const months = values(month, 1, 12, MONTH_NAMES, 1);
  const weekdays = dayOfWeek === '?' ? undefined : values(dayOfWeek, 1, 7, DAY_NAMES, 1);
  if (!minutes || !hoursOfDay || !months || days === null || weekdays === null) throw refuse('a field not understood');

  const firings: number[] = [];
  for (let d = 0; d < LAYOUT_DAYS; d++) {
    const start = LAYOUT_START + d * DAY_MS;
    const date = new Date(start);
    if (!months.includes(date.getUTCMonth() + 1)) continue;
    if (days && !days.includes(date.getUTCDate())) continue;
    // EventBridge numbers the days of the week 1 (Sunday) to 7 (Saturday)
    if (weekdays && !weekdays.includes(date.getUTCDay() + 1)) continue;
    for (const h of hoursOfDay) for (const m of minutes) firings.push(start + (h * 60 + m) * 60_000);
  }
  if (firings.length < 2) throw refuse('it fires at most once a year');
  let longest = 0;
  for (let i = 1; i < firings.length; i++)
    longest = Math.max(longest, (firings[i] as number) - (firings[i - 1] as number));
  return longest / HOUR_MS;
}

/**
 * The values one field allows, sorted, or null when not understood. `names` (with the number
 * of the first) let a field say `MON-FRI` or `JAN,JUL`.
 */
function values(field: string, min: number, max: number, names: readonly string[] = [], first = 0): number[] | null {
  if (field === '*') return Array.from({ length: max - min + 1 }, (_, i) => min + i);
  const found = new Set<number>();
  const number = (text: string) => {
    const index = names.indexOf(text.toUpperCase());
    return index >= 0 ? index + first : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  };
  for (const part of field.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    const from = m[1] === '*' ? min : number(m[1] as string);
    const to = m[2] !== undefined ? number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : from;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (!(from >= min && to <= max && from <= to && step >= 1)) return null;
    for (let v = from; v <= to; v += step) found.add(v);
  }
  return [...found].sort((a, b) => a - b);
}
