/**
 * What `npm start` prints after the run: a table per vendor (archived, already archived, failed,
 * skipped, rows), a line per failed or skipped report saying why, what the plan left out or
 * recorded lost, with `--date` one line per vendor saying what it did with that date, and the
 * totals.
 */
import { REPORT_ARCHIVED, REPORT_FAILED, REPORT_SKIPPED } from '../../state-machines/report-pipeline.ts';
import type { CommandOutput } from './command.ts';
import { formatBytes, formatTable, printable } from './format.ts';
import type { VendorRunResult } from './pipeline.ts';

/** `date`: the `--date` the run was asked for, which gets one line per vendor. */
export function printSummary(
  results: readonly VendorRunResult[],
  elapsedMs: number,
  out: CommandOutput,
  date?: string,
): void {
  let reports = 0;
  let rows = 0;
  let originalBytes = 0;
  let dataBytes = 0;
  const table = results.map((r) => {
    const archived = r.events.filter((e) => e.detailType === REPORT_ARCHIVED);
    const failures = r.events.filter((e) => e.detailType === REPORT_FAILED);
    // from the events: a run that ends failed has no outcomes to read, but its skips still count
    const skipped = r.events.filter((e) => e.detailType === REPORT_SKIPPED);
    const vendorRows = archived.reduce((sum, e) => sum + Number(e.detail.rowCount ?? 0), 0);
    const bytes = archived.map((e) => e.detail.bytes as { original: number; data: number });
    reports += archived.length;
    rows += vendorRows;
    originalBytes += bytes.reduce((s, b) => s + b.original, 0);
    dataBytes += bytes.reduce((s, b) => s + b.data, 0);
    return {
      vendor: r.vendor,
      status: r.status,
      archived: archived.length,
      'already archived': r.plan?.alreadyArchived ?? 0,
      failed: failures.length,
      skipped: skipped.length,
      rows: vendorRows,
      seconds: (r.durationMs / 1000).toFixed(1),
    };
  });
  out.print(formatTable({ columns: Object.keys(table[0] ?? { vendor: '' }), rows: table }, { maxRows: 50 }));
  printReasons(results, out);
  if (date !== undefined) printDateLines(results, date, out);
  out.print(
    `\n${reports} reports archived, ${rows} rows, ${formatBytes(originalBytes)} as delivered, ${formatBytes(dataBytes)} as gzip JSON Lines, in ${(elapsedMs / 1000).toFixed(1)} s`,
  );
}

/** One line per failed or skipped report, and per vendor whose run failed before any report. */
function printReasons(results: readonly VendorRunResult[], out: CommandOutput): void {
  // a failure of the plan step has no tenant, report or date
  const item = (d: Record<string, unknown>) =>
    [d.tenant, d.report, d.date].filter((x) => x !== undefined && x !== '').join(' ');
  for (const r of results) {
    for (const e of r.events.filter((x) => x.detailType === REPORT_FAILED)) {
      const what = item(e.detail);
      out.print(printable(`  ${r.vendor}: ${what ? `${what}: ` : ''}${e.detail.error}: ${e.detail.cause}`));
    }
    for (const e of r.events.filter((x) => x.detailType === REPORT_SKIPPED)) {
      out.print(
        printable(`  ${r.vendor}: ${item(e.detail)}: skipped: ${String(e.detail.reason ?? 'no reason given')}`),
      );
    }
    if (r.status === 'FAILED' && r.events.length === 0) out.print(`  ${r.vendor}: ${r.error}`);
    printPlanNotes(r, out);
  }
}

/**
 * What the plan left out, recorded without an item, or failed to record (its bookkeeping, which
 * never stops a run): never a bare SUCCEEDED with nothing.
 */
function printPlanNotes(r: VendorRunResult, out: CommandOutput): void {
  const outside = r.plan?.outsideTenantRange ?? 0;
  if (outside > 0) {
    out.print(`  ${r.vendor}: ${outside} tenant date(s) not planned: outside the tenant's since..until`);
  }
  for (const failure of r.plan?.bookkeeping ?? []) out.print(printable(`  ${r.vendor}: ${failure}`));
  const lost = r.plan?.lost ?? 0;
  if (lost > 0) {
    out.print(`  ${r.vendor}: ${lost} date(s) aged out of the vendor's history unarchived (recorded as lost)`);
  }
}

/**
 * `--date D`: for every vendor, one line saying what it did with D (archived, already archived,
 * failed, skipped with the reason, or not planned), so no vendor answers with a bare SUCCEEDED.
 */
function printDateLines(results: readonly VendorRunResult[], date: string, out: CommandOutput): void {
  out.print(`\nWhat each vendor did with ${date}:`);
  for (const r of results) out.print(printable(`  ${r.vendor}: ${dateLine(r)}`));
}

function dateLine(r: VendorRunResult): string {
  const of = (type: string) => r.events.filter((e) => e.detailType === type);
  const failures = of(REPORT_FAILED);
  // a plan failure has no tenant: the run could not even list what to fetch
  const planFailure = failures.find((e) => e.detail.tenant === undefined);
  if (planFailure) return `not planned: ${planFailure.detail.error}: ${planFailure.detail.cause}`;
  const parts: string[] = [];
  const count = (n: number, what: string) => {
    if (n > 0) parts.push(`${n} ${what}`);
  };
  count(of(REPORT_ARCHIVED).length, 'archived');
  count(r.plan?.alreadyArchived ?? 0, 'already archived');
  count(failures.length, 'failed (reasons above)');
  const skipped = of(REPORT_SKIPPED).map((e) => String(e.detail.reason ?? 'no reason given'));
  const reasons = [...new Set(skipped)];
  count(skipped.length, reasons.length === 1 ? `skipped: ${reasons[0]}` : 'skipped (reasons above)');
  count(r.plan?.outsideTenantRange ?? 0, "not planned: outside the tenant's since..until");
  if (r.status === 'FAILED' && r.events.length === 0) parts.push(`run failed: ${r.error}`);
  return parts.length > 0 ? parts.join('; ') : 'nothing planned';
}
