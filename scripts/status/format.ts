/**
 * The status report for a person: per vendor a heading that says whether it needs attention,
 * its last runs, the latest run's failed and skipped items with their reasons, the deferred
 * backlog, the dates at risk, and freshness per tenant. Plain text; on a terminal the verdicts
 * are coloured (never when the output is a file or a pipe).
 */
import type { ReportFreshness } from '../../lambdas/ops/freshness.ts';
import { printable } from '../local/format.ts';
import type { RunStatus, StatusReport, VendorStatus } from './model.ts';

export interface FormatOptions {
  /** colour the verdicts (a TTY) */
  readonly colour: boolean;
}

const paint = (on: boolean, code: number, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** The whole report. */
export function formatStatus(report: StatusReport, options: FormatOptions): string {
  const lines = [`status of ${report.source} at ${report.generatedAt}`];
  lines.push(`outcome records of report dates ${report.days.from} to ${report.days.to}`);
  if (report.vendors.length === 0) lines.push('', 'no vendor has run here yet');
  for (const vendor of report.vendors) lines.push('', ...vendorLines(vendor, options));
  const verdict = report.healthy ? paint(options.colour, 32, 'healthy') : paint(options.colour, 31, 'needs attention');
  lines.push('', `overall: ${verdict}`);
  return lines.join('\n');
}

function vendorLines(vendor: VendorStatus, options: FormatOptions): string[] {
  const verdict =
    vendor.attention.length === 0
      ? paint(options.colour, 32, 'healthy')
      : paint(options.colour, 31, `needs attention: ${vendor.attention.join(', ')}`);
  const lines = [`${vendor.vendor}: ${verdict}`, '  last runs:'];
  if (vendor.runs.length === 0) lines.push('    none');
  for (const run of vendor.runs) lines.push(`    ${runLine(run)}`);
  if (vendor.latestIssues.length > 0) lines.push('  latest run, failed and skipped items:');
  for (const issue of vendor.latestIssues) {
    // a reason can hold a vendor's words: none of them may move the terminal's cursor
    const why = printable([issue.error, issue.reason].filter((text) => text !== null).join(': '));
    lines.push(`    ${issue.outcome.padEnd(7)} ${issue.tenant}/${issue.report} ${issue.date}  ${why}`);
  }
  lines.push(`  deferred backlog: ${vendor.deferred ?? 'unknown'}`);
  lines.push(`  dates at risk: ${vendor.datesAtRisk.length === 0 ? 'none' : vendor.datesAtRisk.join(', ')}`);
  lines.push(...freshnessLines(vendor, options));
  return lines;
}

function runLine(run: RunStatus): string {
  const when = run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const failure = run.error ? ` (${printable(run.error)})` : '';
  const planned = run.planned === null ? '' : `planned ${run.planned}, `;
  const unrecorded = run.unrecorded ? `, ${run.unrecorded} not among the records read` : '';
  return `${when}  ${run.status}${failure}  ${planned}archived ${run.archived}, failed ${run.failed}, skipped ${run.skipped}${unrecorded}`;
}

function freshnessLines(vendor: VendorStatus, options: FormatOptions): string[] {
  const { freshness, settings } = vendor;
  const tenants = new Set(freshness.reports.map((r) => r.tenant)).size;
  const last = freshness.lastArchivedAt === null ? 'nothing archived' : `last archived ${freshness.lastArchivedAt}`;
  const lines = [
    `  freshness (cadence ${settings.cadenceHours} h + grace ${settings.graceHours} h): ${freshness.staleTenants} of ${tenants} tenants stale; ${last}`,
  ];
  for (const report of freshness.reports) lines.push(`    ${reportLine(report, options)}`);
  return lines;
}

/** Never archived yet not stale: due more recently than cadence + grace, so not late yet. */
function notStale(report: ReportFreshness): string {
  return report.lastArchivedAt === null ? 'new' : 'fresh';
}

function reportLine(report: ReportFreshness, options: FormatOptions): string {
  const state = report.stale ? paint(options.colour, 31, 'stale') : notStale(report);
  const since = report.hoursSinceArchived === null ? 'never archived' : `archived ${report.hoursSinceArchived} h ago`;
  // the last outcome only when it is not the archive just shown
  const last =
    report.lastOutcome === null || report.lastOutcome === 'archived'
      ? ''
      : `; last ${report.lastOutcome}${report.lastError ? ` ${printable(report.lastError)}` : ''}`;
  return `${state.padEnd(5)} ${report.tenant}/${report.report}  ${since}${last}`;
}
