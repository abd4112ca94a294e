/**
 * The `coverage` view: for every vendor, tenant, report and day, whether the archive holds it, and
 * if not, why. One text, valid Trino SQL, that DuckDB runs unchanged (the catalogs create it like
 * every view: lambdas/core/views.ts).
 *
 * 1. Expected days: each `expected_reports` row from `since` to `until`, or to yesterday (UTC)
 *    while the tenant is active, and never past yesterday: today is not over for an event log,
 *    and a snapshot of today may still come.
 * 2. Facts: the expected days, every manifest and every outcome record, one UNION ALL grouped by
 *    vendor, tenant, report and `dt`. Days outside the expectations that have a manifest or a
 *    record show too (`expected` false). The view's `dt` is the group's key, so a `dt` (or
 *    `vendor`) filter on the view reaches both partitioned sources and prunes their partitions.
 * 3. State, first match wins: a manifest → archived; a `lost` record, or past the vendor's
 *    history (`history_days`) → lost; within AT_RISK_DAYS of ageing out → at_risk (a failure
 *    then follows in the reason: the most urgent word shows); the latest outcome record (by
 *    `recorded_at`) when it says failed, or skipped after the day was over (a skip of a day not
 *    closed yet says nothing of it once it is); the vendor's retention undocumented
 *    (`history_days` null) → retention_unknown; else missing. A day leaves the vendor's history at the midnight
 *    that starts day `dt + history_days + 1` (OpenAthens' window, lambdas/connectors/openathens/dates.ts).
 */
import { EXPECTATIONS_TABLE_NAME, MANIFEST_TABLE_NAME, OUTCOMES_TABLE_NAME, type ViewColumn } from '../tables.ts';
import type { ViewDefinition } from '../views.ts';

export const COVERAGE_VIEW_NAME = 'coverage';

/** A day not archived is at risk this many days (or fewer) before the vendor stops serving it. */
export const AT_RISK_DAYS = 3;

export const COVERAGE_STATES = [
  'archived',
  'failed',
  'skipped',
  'missing',
  'at_risk',
  'lost',
  'retention_unknown',
] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

const column = (name: string, glueType: string, prestoType: string, comment: string): ViewColumn => ({
  name,
  glueType,
  prestoType,
  comment,
});

const COLUMNS: readonly ViewColumn[] = [
  column('vendor', 'string', 'varchar', 'vendor id'),
  column('tenant', 'string', 'varchar', 'tenant id'),
  column('report', 'string', 'varchar', 'report name'),
  column('dt', 'string', 'varchar', 'the day (YYYY-MM-DD, UTC)'),
  column('state', 'string', 'varchar', COVERAGE_STATES.join(', ')),
  column('reason', 'string', 'varchar', 'why it is not archived: the outcome record, or what the state means'),
  column('error', 'string', 'varchar', 'error name of a failure, else null'),
  column('run_id', 'string', 'varchar', 'run that archived it (the manifest) or recorded the outcome'),
  column('recorded_at', 'string', 'varchar', 'ISO 8601 time of the manifest or the outcome record'),
  column('expected', 'boolean', 'boolean', 'whether the configuration expects this day (since..until, to yesterday)'),
  column('history_days', 'bigint', 'bigint', 'days back the vendor serves data; null when undocumented'),
];

/**
 * Numbers 0 to 9 999 from a written-out table of digits, because the engines share no generator
 * (Trino's `sequence` is missing in DuckDB; DuckDB's `range` and `generate_series` in Trino). An
 * expectation expands to at most 10 000 days: 27 years from its `since`.
 */
const NUMBERS_SQL = [
  'digits AS (SELECT n FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t (n))',
  `numbers AS (SELECT a.n + 10 * b.n + 100 * c.n + 1000 * d.n AS n FROM digits AS a CROSS JOIN digits AS b CROSS JOIN digits AS c CROSS JOIN digits AS d)`,
];

// a date minus an interval is a timestamp in DuckDB: cast back to date (README, "Local SQL vs Athena")
const YESTERDAY = "CAST(current_date - INTERVAL '1' DAY AS date)";
const NULL_TEXT = 'CAST(NULL AS varchar)';

const EXPECTED_DAYS_SQL = `expectations AS (
  SELECT "vendor", "tenant", "report", CAST("since" AS date) AS first_day,
    least(coalesce(CAST("until" AS date), ${YESTERDAY}), ${YESTERDAY}) AS last_day
  FROM "${EXPECTATIONS_TABLE_NAME}"
)`;

const FACTS_SQL = `facts AS (
  SELECT e."vendor", e."tenant", e."report",
    CAST(CAST(e.first_day + n.n * INTERVAL '1' DAY AS date) AS varchar) AS dt,
    'expected' AS kind, ${NULL_TEXT} AS outcome, ${NULL_TEXT} AS error, ${NULL_TEXT} AS reason,
    ${NULL_TEXT} AS run_id, ${NULL_TEXT} AS recorded_at
  FROM expectations AS e
  JOIN numbers AS n ON n.n <= date_diff('day', e.first_day, e.last_day)
  UNION ALL
  SELECT m."vendor", m."tenant", m."report", m."dt", 'manifest', ${NULL_TEXT}, ${NULL_TEXT}, ${NULL_TEXT},
    m."run_id", m."completed_at"
  FROM "${MANIFEST_TABLE_NAME}" AS m
  UNION ALL
  SELECT o."vendor", o."tenant", o."report", o."dt", 'record', o."outcome", o."error", o."reason",
    o."run_id", o."recorded_at"
  FROM "${OUTCOMES_TABLE_NAME}" AS o
)`;

/**
 * The latest record's fields: ordered by `recorded_at` (ISO 8601 from `toISOString`, fixed width,
 * so text order is time order), then the run id, so every field comes from the same record. A
 * null field is carried as '' and given back as null: DuckDB's `max_by` skips rows whose value is
 * null (it would return an older record's error), Trino's returns the null.
 */
const latest = (field: string, as: string) =>
  `nullif(max_by(coalesce(${field}, ''), recorded_at || ' ' || run_id) FILTER (WHERE kind = 'record'), '') AS ${as}`;

const DAYS_SQL = `days AS (
  SELECT "vendor", "tenant", "report", dt,
    bool_or(kind = 'expected') AS expected,
    bool_or(kind = 'manifest') AS archived,
    max(run_id) FILTER (WHERE kind = 'manifest') AS manifest_run_id,
    max(recorded_at) FILTER (WHERE kind = 'manifest') AS manifest_at,
    ${latest('outcome', 'outcome')},
    ${latest('error', 'error')},
    ${latest('reason', 'reason')},
    ${latest('run_id', 'record_run_id')},
    ${latest('recorded_at', 'record_at')}
  FROM facts
  GROUP BY "vendor", "tenant", "report", dt
)`;

const HISTORY_SQL = `history AS (
  SELECT "vendor", "report", max("history_days") AS history_days
  FROM "${EXPECTATIONS_TABLE_NAME}"
  GROUP BY "vendor", "report"
)`;

const AGE = "date_diff('day', CAST(d.dt AS date), current_date)";
const GONE = `${AGE} > h.history_days`;
const AT_RISK = `${AGE} > h.history_days - ${AT_RISK_DAYS}`;
// a skip recorded before the day was over (an event log's day not closed yet) says nothing of it now
const SETTLED_SKIP = "d.outcome = 'skipped' AND d.record_at >= CAST(CAST(d.dt AS date) + INTERVAL '1' DAY AS varchar)";

/**
 * A day not archived is lost once the vendor no longer serves it (recorded or not), then at risk
 * close to that, whatever a run said of it (a failure is then in the reason); else the latest
 * record's failure or settled skip; else what the vendor's retention allows.
 */
const STATE_SQL = `CASE
    WHEN d.archived THEN 'archived'
    WHEN d.outcome = 'lost' OR ${GONE} THEN 'lost'
    WHEN ${AT_RISK} THEN 'at_risk'
    WHEN d.outcome = 'failed' THEN 'failed'
    WHEN ${SETTLED_SKIP} THEN 'skipped'
    WHEN h.history_days IS NULL THEN 'retention_unknown'
    ELSE 'missing'
  END`;

/** The latest run's word on a day it did not archive, to follow the state's own reason. */
const LAST_RUN = `CASE WHEN d.outcome IN ('failed', 'skipped') THEN '; last run ' || d.outcome || ': ' || coalesce(d.error || ': ', '') || coalesce(d.reason, '') ELSE '' END`;

const REASON_SQL = `CASE
    WHEN d.archived THEN ${NULL_TEXT}
    WHEN d.outcome = 'lost' THEN d.reason
    WHEN ${GONE} AND h.history_days = 0 THEN 'not archived on the day: the report is a snapshot, and a past day cannot be fetched' || ${LAST_RUN}
    WHEN ${GONE} THEN 'not archived, and the vendor no longer serves it (it serves ' || CAST(h.history_days AS varchar) || ' days back)' || ${LAST_RUN}
    WHEN ${AT_RISK} THEN 'not archived; the vendor stops serving it in ' || CAST(h.history_days + 1 - ${AGE} AS varchar) || ' day(s)' || ${LAST_RUN}
    WHEN d.outcome = 'failed' OR ${SETTLED_SKIP} THEN d.reason
    WHEN h.history_days IS NULL THEN 'not archived; the vendor does not document how long it serves past days' || ${LAST_RUN}
    ELSE 'not archived, and no run recorded an outcome for it' || ${LAST_RUN}
  END`;

export const COVERAGE_SQL = `WITH
${[...NUMBERS_SQL, EXPECTED_DAYS_SQL, FACTS_SQL, DAYS_SQL, HISTORY_SQL].join(',\n')}
SELECT d."vendor", d."tenant", d."report", d.dt AS "dt",
  ${STATE_SQL} AS "state",
  ${REASON_SQL} AS "reason",
  CASE WHEN d.archived THEN ${NULL_TEXT} ELSE d.error END AS "error",
  CASE WHEN d.archived THEN d.manifest_run_id ELSE d.record_run_id END AS "run_id",
  CASE WHEN d.archived THEN d.manifest_at ELSE d.record_at END AS "recorded_at",
  d.expected AS "expected",
  h.history_days AS "history_days"
FROM days AS d
LEFT JOIN history AS h ON h."vendor" = d."vendor" AND h."report" = d."report"`;

export function coverageView(): ViewDefinition {
  return {
    name: COVERAGE_VIEW_NAME,
    description:
      'Per vendor, tenant, report and day: archived, failed, skipped, missing, at_risk, lost or retention_unknown, with the reason. Filter by dt.',
    sql: COVERAGE_SQL,
    columns: COLUMNS,
    sources: [MANIFEST_TABLE_NAME, OUTCOMES_TABLE_NAME, EXPECTATIONS_TABLE_NAME],
  };
}
