/**
 * SQL text shared by the views and the saved queries (which import it without the connector
 * registry the views read): quoting, the names of the `_latest` views, and the `dt` bound that
 * keeps a query's cost independent of the archive's age. Every text here is valid Trino SQL that
 * DuckDB runs with the same meaning (README, "Local SQL vs Athena").
 */

/** A quoted identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A quoted string literal. */
export const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * The `dt` text of `days` days before today (UTC): `dt >= ${dtDaysAgo(7)}` keeps today and the 7
 * days before it. The inner cast matters: in DuckDB a date minus an interval is a timestamp, whose
 * text carries a time and would drop the boundary day; in both engines the result is a constant,
 * so Athena prunes the projected `dt` partitions with it.
 */
export function dtDaysAgo(days: number): string {
  if (!Number.isInteger(days) || days < 0) throw new Error(`days must be a whole number ≥ 0; received ${days}`);
  return `CAST(CAST(current_date - INTERVAL '${days}' DAY AS DATE) AS VARCHAR)`;
}

/** How far back a `_latest` view looks for a tenant's newest snapshot, today included. */
export const LATEST_LOOKBACK_DAYS = 14;

/** The view of a snapshot report's newest day per tenant (lambdas/core/views/latest.ts). */
export const latestViewName = (reportView: string): string => `${reportView}_latest`;

/** How many days back a saved query over an event log reads, today included. */
export const RECENT_DAYS = 30;
