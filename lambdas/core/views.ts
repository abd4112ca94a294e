/**
 * View definitions, written once and created the same way in both engines: as Athena views (Glue
 * `VIRTUAL_VIEW` tables, lib/report-catalog.ts) and as DuckDB views (scripts/local/catalog.ts).
 * A view's SQL is one text, valid Trino SQL, that DuckDB runs unchanged.
 */
import {
  isReportTable,
  MANIFEST_TABLE_NAME,
  objectsTableName,
  type ReportTableDefinition,
  reportViewColumns,
  reportViewSql,
  type TableDefinition,
  type ViewColumn,
} from './tables.ts';
import { authenticationFailuresView } from './views/authentication-failures.ts';
import { coverageView } from './views/coverage.ts';
import { latestViews } from './views/latest.ts';
import { mfaPostureLatestView, mfaPostureView } from './views/mfa-posture.ts';

export interface ViewDefinition {
  /** the name auditors query */
  readonly name: string;
  readonly description: string;
  /** the SELECT behind the view */
  readonly sql: string;
  /** the view's columns in order, as the SELECT returns them */
  readonly columns: readonly ViewColumn[];
  /** the tables and views the SELECT reads: created first, and a view is left out when one is missing */
  readonly sources: readonly string[];
}

/** A report's view of its published rows (see `reportViewSql`). */
export function reportView(table: ReportTableDefinition): ViewDefinition {
  return {
    name: table.name,
    description: `${table.description} Only rows of data objects a manifest names.`,
    sql: reportViewSql(table),
    columns: reportViewColumns(table),
    sources: [objectsTableName(table.name), MANIFEST_TABLE_NAME],
  };
}

/**
 * Every view over a set of tables, in an order where each comes after its sources; a view whose
 * sources are not all there (a report the catalog does not hold) is left out.
 */
export function archiveViews(tables: readonly TableDefinition[]): ViewDefinition[] {
  const reports = tables.filter(isReportTable);
  const candidates: ViewDefinition[] = [
    ...reports.map(reportView),
    ...latestViews(reports),
    mfaPostureView(),
    mfaPostureLatestView(),
    authenticationFailuresView(),
    coverageView(),
  ];
  const known = new Set(tables.map((t) => (isReportTable(t) ? objectsTableName(t.name) : t.name)));
  const ordered: ViewDefinition[] = [];
  let pending = candidates;
  while (pending.length > 0) {
    const ready = pending.filter((view) => view.sources.every((source) => known.has(source)));
    if (ready.length === 0) break;
    for (const view of ready) {
      ordered.push(view);
      known.add(view.name);
    }
    pending = pending.filter((view) => !ready.includes(view));
  }
  return ordered;
}
