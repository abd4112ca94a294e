/**
 * `<table>_latest`: a snapshot report's rows of each tenant's latest archived day.
 *
 * 1. Only snapshot reports (cadence `snapshot`: the vendor lists the state as it is now) get one:
 *    adding two days of a snapshot counts the same users twice, while an event log's days add up.
 * 2. The latest day of a tenant is the newest `dt` a manifest was published for, read from
 *    `report_manifests` (one small object per day) rather than from the rows. A published
 *    snapshot with no rows is that tenant's latest state: it shows no rows, not an older day's.
 * 3. Both sides look back `LATEST_LOOKBACK_DAYS` days from today and no further, so the cost does
 *    not grow with history. A tenant whose newest snapshot is older than that is absent (coverage
 *    shows its missing days); one whose newest is 3 days old shows with that `dt`.
 */
import { definitions } from '../../connectors/registry.ts';
import { MANIFEST_TABLE_NAME, type ReportTableDefinition, reportViewColumns } from '../tables.ts';
import type { ViewDefinition } from '../views.ts';
import { dtDaysAgo, ident, LATEST_LOOKBACK_DAYS, latestViewName, literal } from './sql-text.ts';

const isSnapshot = (table: ReportTableDefinition): boolean =>
  definitions.some((d) => d.vendor === table.report.vendor && d.cadence.kind === 'snapshot');

/** The rows of each tenant's newest published day within the look-back. */
export function latestView(table: ReportTableDefinition): ViewDefinition {
  const columns = reportViewColumns(table);
  const since = dtDaysAgo(LATEST_LOOKBACK_DAYS);
  return {
    name: latestViewName(table.name),
    description: `${table.name} as of each tenant's newest archived snapshot in the last ${LATEST_LOOKBACK_DAYS} days (dt says which day).`,
    sql: [
      `SELECT ${columns.map((c) => `r.${ident(c.name)}`).join(', ')}`,
      `FROM ${ident(table.name)} AS r`,
      `JOIN (SELECT m."tenant", MAX(m."dt") AS "dt" FROM ${ident(MANIFEST_TABLE_NAME)} AS m`,
      `  WHERE m."vendor" = ${literal(table.report.vendor)} AND m."report" = ${literal(table.report.name)} AND m."dt" >= ${since}`,
      '  GROUP BY m."tenant") AS latest',
      'ON r."tenant" = latest."tenant" AND r."dt" = latest."dt"',
      `WHERE r."dt" >= ${since}`,
    ].join('\n'),
    columns,
    sources: [table.name, MANIFEST_TABLE_NAME],
  };
}

/** A `_latest` view for each snapshot report among `tables`. */
export function latestViews(tables: readonly ReportTableDefinition[]): ViewDefinition[] {
  return tables.filter(isSnapshot).map(latestView);
}
