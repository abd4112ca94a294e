/**
 * The coverage days laid out as calendars, the one model the terminal table and the HTML page
 * both draw: per vendor and tenant, per report a row of cells, one per day of the range (a day
 * the view has no row for is not expected and holds nothing), with counts per state.
 */
import { datesBetween } from '../../lambdas/core/dates.ts';
import { groupBy } from '../../lambdas/core/group-by.ts';
import { COVERAGE_STATES, type CoverageState } from '../../lambdas/core/views/coverage.ts';
import type { CoverageDay } from './query.ts';

/**
 * States that make the command exit 1: the day is not in the archive and no run decided to leave
 * it out. `skipped` is a decision with its reason (a window not yet passed, a snapshot of another
 * day), so it does not.
 */
export const ATTENTION_STATES: ReadonlySet<CoverageState> = new Set([
  'failed',
  'missing',
  'at_risk',
  'lost',
  'retention_unknown',
]);

export type StateCounts = Record<CoverageState, number>;

export interface ReportRow {
  readonly report: string;
  /** one per date of the calendar; null: not expected, nothing recorded */
  readonly cells: readonly (CoverageDay | null)[];
}

export interface TenantCalendar {
  readonly tenant: string;
  readonly rows: readonly ReportRow[];
  readonly counts: StateCounts;
}

export interface VendorCalendar {
  readonly vendor: string;
  readonly tenants: readonly TenantCalendar[];
  readonly counts: StateCounts;
}

export interface Calendar {
  readonly from: string;
  readonly to: string;
  readonly dates: readonly string[];
  readonly vendors: readonly VendorCalendar[];
  readonly counts: StateCounts;
}

/** Consecutive days of one report in the same state for the same reason: one line of a list. */
export interface DayRun {
  readonly vendor: string;
  readonly tenant: string;
  readonly report: string;
  readonly first: string;
  readonly last: string;
  readonly days: number;
  readonly state: CoverageState;
  readonly reason: string | null;
  readonly error: string | null;
}

export function emptyCounts(): StateCounts {
  return Object.fromEntries(COVERAGE_STATES.map((s) => [s, 0])) as StateCounts;
}

function countDays(days: Iterable<CoverageDay | null>): StateCounts {
  const counts = emptyCounts();
  for (const day of days) if (day) counts[day.state] += 1;
  return counts;
}

/** Grouped by key, the groups in key order. */
function groupSorted<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  return new Map([...groupBy(items, key)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The days (any order) as calendars over `from`..`to`; days outside the range are left out. */
export function buildCalendar(days: readonly CoverageDay[], from: string, to: string): Calendar {
  const dates = datesBetween(from, to);
  const index = new Map(dates.map((d, i) => [d, i]));
  const inRange = days.filter((d) => index.has(d.dt));
  const vendors = [...groupSorted(inRange, (d) => d.vendor)].map(([vendor, vendorDays]) => {
    const tenants = [...groupSorted(vendorDays, (d) => d.tenant)].map(([tenant, tenantDays]) => {
      const rows = [...groupSorted(tenantDays, (d) => d.report)].map(([report, reportDays]) => {
        const cells: (CoverageDay | null)[] = dates.map(() => null);
        for (const day of reportDays) cells[index.get(day.dt) as number] = day;
        return { report, cells };
      });
      return { tenant, rows, counts: countDays(tenantDays) };
    });
    return { vendor, tenants, counts: countDays(vendorDays) };
  });
  return { from, to, dates, vendors, counts: countDays(inRange) };
}

/** The days in `states`, consecutive days of a report in the same state and reason joined. */
export function dayRuns(calendar: Calendar, states: ReadonlySet<CoverageState>): DayRun[] {
  const runs: DayRun[] = [];
  for (const { vendor, tenants } of calendar.vendors) {
    for (const { tenant, rows } of tenants) {
      for (const { report, cells } of rows) {
        let open: DayRun | undefined;
        for (const day of cells) {
          const joins =
            open && day && day.state === open.state && day.reason === open.reason && day.error === open.error;
          if (open && day && joins) {
            open = { ...open, last: day.dt, days: open.days + 1 };
            runs[runs.length - 1] = open;
            continue;
          }
          open = undefined;
          if (!day || !states.has(day.state)) continue;
          open = { vendor, tenant, report, first: day.dt, last: day.dt, days: 1, ...pick(day) };
          runs.push(open);
        }
      }
    }
  }
  return runs;
}

const pick = (day: CoverageDay) => ({ state: day.state, reason: day.reason, error: day.error });

/** Days in a state that needs attention (the command's exit 1). */
export function attentionCount(counts: StateCounts): number {
  return COVERAGE_STATES.filter((s) => ATTENTION_STATES.has(s)).reduce((sum, s) => sum + counts[s], 0);
}
