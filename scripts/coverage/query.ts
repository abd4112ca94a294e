/**
 * The one query `npm run coverage` runs, in DuckDB (local) or Athena (deployed), over the
 * `coverage` view, and its rows read back into typed days whichever engine returned them (DuckDB
 * gives booleans and bigints as JSON, Athena gives every value as text).
 */
import { z } from 'zod';
import { isCalendarDate } from '../../lambdas/core/dates.ts';
import { COVERAGE_STATES, COVERAGE_VIEW_NAME, type CoverageState } from '../../lambdas/core/views/coverage.ts';
import { formatIssues } from '../../lambdas/core/zod-issues.ts';

export interface CoverageFilter {
  readonly from: string;
  readonly to: string;
  readonly vendor?: string;
  readonly tenant?: string;
  readonly report?: string;
}

/** One vendor, tenant, report and day of the view. */
export interface CoverageDay {
  readonly vendor: string;
  readonly tenant: string;
  readonly report: string;
  readonly dt: string;
  readonly state: CoverageState;
  readonly reason: string | null;
  readonly error: string | null;
  readonly runId: string | null;
  readonly recordedAt: string | null;
  readonly expected: boolean;
  readonly historyDays: number | null;
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * The SELECT over the view: the range on `dt` (a varchar, compared with varchar literals) prunes
 * the manifests and outcome records to those days.
 */
export function coverageSql(filter: CoverageFilter): string {
  for (const date of [filter.from, filter.to]) {
    if (!isCalendarDate(date)) throw new Error(`expected a date as YYYY-MM-DD; received ${JSON.stringify(date)}`);
  }
  const where = [`dt BETWEEN ${literal(filter.from)} AND ${literal(filter.to)}`];
  for (const name of ['vendor', 'tenant', 'report'] as const) {
    const value = filter[name];
    if (value !== undefined) where.push(`${name} = ${literal(value)}`);
  }
  return [
    'SELECT vendor, tenant, report, dt, state, reason, error, run_id, recorded_at, expected, history_days',
    `FROM ${COVERAGE_VIEW_NAME}`,
    `WHERE ${where.join(' AND ')}`,
    'ORDER BY vendor, tenant, report, dt',
  ].join('\n');
}

const text = z.string().min(1);
const nullableText = z.string().nullable().optional();

const RowSchema = z.object({
  vendor: text,
  tenant: text,
  report: text,
  dt: z.string().refine(isCalendarDate, 'expected a calendar date as YYYY-MM-DD'),
  state: z.enum(COVERAGE_STATES),
  reason: nullableText,
  error: nullableText,
  run_id: nullableText,
  recorded_at: nullableText,
  expected: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]),
  history_days: z
    .union([
      z.number().int(),
      z
        .string()
        .regex(/^-?\d+$/)
        .transform(Number),
    ])
    .nullable()
    .optional(),
});

/** The query's rows as days; a row the view could not have produced is an error naming it. */
export function coverageDays(rows: readonly Record<string, unknown>[]): CoverageDay[] {
  return rows.map((row, index) => {
    const parsed = RowSchema.safeParse(row);
    if (!parsed.success) {
      throw new Error(`coverage row ${index + 1} is not a coverage day: ${formatIssues(parsed.error)}`);
    }
    const r = parsed.data;
    return {
      vendor: r.vendor,
      tenant: r.tenant,
      report: r.report,
      dt: r.dt,
      state: r.state,
      reason: r.reason ?? null,
      error: r.error ?? null,
      runId: r.run_id ?? null,
      recordedAt: r.recorded_at ?? null,
      expected: r.expected,
      historyDays: r.history_days ?? null,
    };
  });
}
