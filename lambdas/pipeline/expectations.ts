/**
 * The vendor's expectations: which tenant reports are due from which day, kept in the archive
 * (`expectations/<vendor>.jsonl`, read by the `expected_reports` table) so coverage can count a
 * tenant that was never archived as missing rather than leave it out.
 *
 * 1. One row per tenant × report of the vendor's whole config section (not just the tenants a
 *    run selects), sorted by tenant then report, with exactly the table's columns.
 * 2. Written only when the rows differ from what the object holds, `written_at` aside: a run
 *    with an unchanged config reads one small object and writes nothing.
 * 3. The write is conditional on what was read (`If-Match` on its ETag, `If-None-Match: *` when
 *    there was none), so two plans with different configs cannot silently undo each other. On
 *    412 (or 409, a conditional write in flight) the object is read and compared once more; a
 *    second refusal throws instead of looping (the plan logs it and goes on: plan.ts keepBooks).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { httpStatusOf, putText, type S3Target } from '../core/archive/s3-upload.ts';
import { addDays } from '../core/dates.ts';
import { expectationsKey } from '../core/layout.ts';
import { isAbsent } from '../core/s3-objects.ts';
import type { Cadence } from '../core/types.ts';

/** One line of the object: the `expected_reports` columns, in their order. */
export interface ExpectationRow {
  readonly vendor: string;
  readonly tenant: string;
  readonly report: string;
  readonly since: string;
  readonly until: string | null;
  readonly cadence: Cadence['kind'];
  /** days the vendor serves; null where its retention is undocumented */
  readonly history_days: number | null;
  readonly written_at: string;
}

/** The section's tenants and reports, as configured. */
export interface ExpectedSection {
  readonly tenants: readonly { readonly id: string; readonly since: string; readonly until?: string }[];
  readonly reports: readonly string[];
}

/** Tries of the conditional write: the first, and one more after reading again. */
const WRITE_ATTEMPTS = 2;

export class ExpectationsContendedError extends Error {
  override readonly name = 'ExpectationsContendedError';
}

export function expectationRows(
  vendor: string,
  section: ExpectedSection,
  cadence: Cadence,
  writtenAt: Date,
): ExpectationRow[] {
  const rows = section.tenants.flatMap((tenant) =>
    section.reports.map((report) => ({
      vendor,
      tenant: tenant.id,
      report,
      since: tenant.since,
      until: tenant.until ?? null,
      cadence: cadence.kind,
      history_days: cadence.historyDays,
      written_at: writtenAt.toISOString(),
    })),
  );
  // code-point order, not the locale's: the object's bytes must not depend on where it was written
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => order(a.tenant, b.tenant) || order(a.report, b.report));
}

/**
 * Writes `rows` to the vendor's expectations object unless it already says the same.
 * `WRITTEN`: this call wrote them; `UNCHANGED`: the object held them already.
 */
export async function writeExpectations(
  vendor: string,
  rows: readonly ExpectationRow[],
  target: S3Target,
): Promise<'WRITTEN' | 'UNCHANGED'> {
  const key = expectationsKey(vendor);
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const current = await readCurrent(target, key);
    const wanted = withRetired(rows, current?.text ?? '');
    if (current && sameRows(current.text, wanted)) return 'UNCHANGED';
    const body = wanted.map((row) => `${JSON.stringify(row)}\n`).join('');
    try {
      const condition = current?.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const };
      await putText(target, key, body, 'application/x-ndjson', condition);
      return 'WRITTEN';
    } catch (error) {
      const status = httpStatusOf(error);
      if (status !== 412 && status !== 409) throw error;
    }
  }
  throw new ExpectationsContendedError(
    `${key} changed under this run ${WRITE_ATTEMPTS} times (HTTP 412 to a conditional write); expected one writer at a time`,
  );
}

async function readCurrent(target: S3Target, key: string): Promise<{ text: string; etag?: string } | undefined> {
  try {
    const object = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return { text: (await object.Body?.transformToString()) ?? '', etag: object.ETag };
  } catch (error) {
    if (await isAbsent(target, key, error)) return undefined;
    throw error;
  }
}

/**
 * `rows` plus the stored rows of tenants and reports that left the configuration: a removed
 * tenant keeps its expected days up to the day before it was first seen missing (`until`), so
 * its past gaps stay in coverage instead of turning into days nobody expected.
 */
function withRetired(rows: readonly ExpectationRow[], text: string): ExpectationRow[] {
  const present = new Set(rows.map((row) => `${row.tenant}/${row.report}`));
  const retiredAt = rows[0]?.written_at ?? new Date().toISOString();
  const yesterday = addDays(retiredAt.slice(0, 10), -1);
  const retired: ExpectationRow[] = [];
  for (const stored of storedRows(text)) {
    if (present.has(`${stored.tenant}/${stored.report}`)) continue;
    const until = stored.until !== null && stored.until < yesterday ? stored.until : yesterday;
    // a tenant removed before its first expected day was never due
    if (until >= stored.since) retired.push({ ...stored, until, written_at: retiredAt });
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows, ...retired].sort((a, b) => order(a.tenant, b.tenant) || order(a.report, b.report));
}

/** The rows of a stored object that read as rows; anything else is left out (and so rewritten). */
function storedRows(text: string): ExpectationRow[] {
  const rows: ExpectationRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const row = JSON.parse(line) as Partial<ExpectationRow>;
      if (typeof row.tenant === 'string' && typeof row.report === 'string' && typeof row.since === 'string') {
        rows.push(row as ExpectationRow);
      }
    } catch {
      // an unreadable line is dropped from the rewrite
    }
  }
  return rows;
}

/** Whether `text` holds `rows`, line for line, whatever its `written_at` says. */
function sameRows(text: string, rows: readonly ExpectationRow[]): boolean {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== rows.length) return false;
  return lines.every((line, i) => {
    let stored: unknown;
    try {
      stored = JSON.parse(line);
    } catch {
      return false;
    }
    return comparable(stored) === comparable(rows[i]);
  });
}

/** The row's values but `written_at`, in column order (a stored row's key order is not trusted). */
function comparable(row: unknown): string {
  const r = (typeof row === 'object' && row !== null ? row : {}) as Partial<Record<keyof ExpectationRow, unknown>>;
  return JSON.stringify([r.vendor, r.tenant, r.report, r.since, r.until, r.cadence, r.history_days]);
}
