/**
 * How fresh a vendor's archive is, decided from its expectations and recorded outcomes alone
 * (pure: the reader and the clock are the caller's).
 *
 * 1. A tenant × report is active when it is due today or was due yesterday (since ≤ today, until
 *    absent or ≥ yesterday); rows of tenants ended before that, or not started yet, are left out.
 * 2. An active tenant × report is stale when no `archived` record was recorded within cadence +
 *    grace of now, unless it became due more recently than that (its first run may not be late
 *    yet). `failed`, `skipped` and `lost` records never make it fresh: a tenant that fails every
 *    day goes stale like one that never runs.
 * 3. The vendor's `minutesSinceLastArchived` is measured from its last archived record of any
 *    tenant; with none in the window read, it is the window's length, which always exceeds
 *    cadence + grace, so a vendor whose schedule stopped reads as late, not as unknown.
 */
import { addDays, DAY_MS, utcDate } from '../core/dates.ts';
import { groupBy } from '../core/group-by.ts';
import type { ExpectationRow } from '../pipeline/expectations.ts';
import type { Outcome, OutcomeRecord } from '../pipeline/outcome-record.ts';

export interface FreshnessSettings {
  /** longest time between two scheduled runs of the vendor (daily: 24) */
  readonly cadenceHours: number;
  /** how late a run may be before it counts as missing */
  readonly graceHours: number;
}

export interface ReportFreshness {
  readonly tenant: string;
  readonly report: string;
  /** when the last `archived` record was recorded */
  readonly lastArchivedAt: string | null;
  /** the latest report date archived */
  readonly lastArchivedDate: string | null;
  readonly hoursSinceArchived: number | null;
  readonly stale: boolean;
  /** the last record of any outcome, with its error and reason */
  readonly lastOutcome: Outcome | null;
  readonly lastError: string | null;
  readonly lastReason: string | null;
}

export interface VendorFreshness {
  readonly vendor: string;
  readonly lastArchivedAt: string | null;
  /** since the last archived record of any tenant; the window's length when there is none */
  readonly minutesSinceLastArchived: number;
  /** tenants with at least one stale report */
  readonly staleTenants: number;
  readonly reports: ReportFreshness[];
}

export interface FreshnessWindow {
  /** first and last report date whose records are read */
  readonly from: string;
  readonly to: string;
  /** what `minutesSinceLastArchived` says when the window holds no archived record */
  readonly minutes: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Cadence + grace, in minutes: the age past which a tenant or a vendor is late. */
export function thresholdMinutes(settings: FreshnessSettings): number {
  return Math.round((settings.cadenceHours + settings.graceHours) * 60);
}

/**
 * The report dates to read: ceil((cadence + grace) / 24) + 1 days back from today. A report date
 * trails the run that archives it (an event-log vendor archives yesterday, a backlog older days),
 * hence the extra day; the window's length in minutes is more than cadence + grace.
 */
export function freshnessWindow(now: Date, settings: FreshnessSettings): FreshnessWindow {
  const days = Math.ceil((settings.cadenceHours + settings.graceHours) / 24) + 1;
  const today = utcDate(now);
  return { from: addDays(today, -days), to: today, minutes: (days * DAY_MS) / MINUTE_MS };
}

export function vendorFreshness(
  vendor: string,
  expectations: readonly ExpectationRow[],
  records: readonly OutcomeRecord[],
  now: Date,
  settings: FreshnessSettings,
): VendorFreshness {
  const own = records.filter((record) => record.vendor === vendor);
  const byReport = groupBy(own, (record) => reportKey(record.tenant, record.report));
  const reports = expectations
    .filter((row) => row.vendor === vendor && isActive(row, now))
    .map((row) => reportFreshness(row, byReport.get(reportKey(row.tenant, row.report)) ?? [], now, settings));

  const lastArchivedAt = latest(own.filter((record) => record.outcome === 'archived'))?.recorded_at ?? null;
  const minutesSinceLastArchived =
    lastArchivedAt === null
      ? freshnessWindow(now, settings).minutes
      : Math.max(0, Math.floor((now.getTime() - Date.parse(lastArchivedAt)) / MINUTE_MS));
  const staleTenants = new Set(reports.filter((report) => report.stale).map((report) => report.tenant)).size;
  return { vendor, lastArchivedAt, minutesSinceLastArchived, staleTenants, reports };
}

function reportFreshness(
  row: ExpectationRow,
  records: readonly OutcomeRecord[],
  now: Date,
  settings: FreshnessSettings,
): ReportFreshness {
  const archived = records.filter((record) => record.outcome === 'archived');
  const lastArchived = latest(archived);
  const last = latest(records);
  const hoursSince = lastArchived ? (now.getTime() - Date.parse(lastArchived.recorded_at)) / HOUR_MS : null;
  const limitHours = settings.cadenceHours + settings.graceHours;
  const dueForHours = (now.getTime() - Date.parse(`${row.since}T00:00:00Z`)) / HOUR_MS;
  const late = hoursSince === null || hoursSince > limitHours;
  return {
    tenant: row.tenant,
    report: row.report,
    lastArchivedAt: lastArchived?.recorded_at ?? null,
    lastArchivedDate: archived.reduce<string | null>(
      (max, record) => (max === null || record.report_date > max ? record.report_date : max),
      null,
    ),
    hoursSinceArchived: hoursSince === null ? null : Math.round(Math.max(0, hoursSince) * 10) / 10,
    stale: late && dueForHours > limitHours,
    lastOutcome: last?.outcome ?? null,
    lastError: last?.error ?? null,
    lastReason: last?.reason ?? null,
  };
}

/** Due today, or due yesterday (whose report today's run may still archive). */
function isActive(row: ExpectationRow, now: Date): boolean {
  const today = utcDate(now);
  return row.since <= today && (row.until === null || row.until >= addDays(today, -1));
}

/** The record recorded last (by instant: `recorded_at` may carry any number of fractional digits). */
function latest(records: readonly OutcomeRecord[]): OutcomeRecord | undefined {
  let found: OutcomeRecord | undefined;
  for (const record of records) {
    if (!found || Date.parse(record.recorded_at) > Date.parse(found.recorded_at)) found = record;
  }
  return found;
}

function reportKey(tenant: string, report: string): string {
  return `${tenant}/${report}`;
}
