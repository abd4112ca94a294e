/** The legal-hold report as text for a person, or as JSON for a script. */
import type { LegalHoldOptions } from './args.ts';
import type { LegalHoldReport } from './holds.ts';
import { KINDS } from './versions.ts';

export function formatReport(report: LegalHoldReport, options: LegalHoldOptions): string {
  const scope = {
    vendor: options.vendor,
    tenant: options.tenant ?? null,
    report: options.report ?? null,
    from: options.from,
    to: options.to,
  };
  if (options.json) return JSON.stringify({ ...scope, ...report }, null, 2);
  const verb = report.status === 'ON' ? 'placed' : 'lifted';
  const lines = [
    `legal hold ${report.status}${report.dryRun ? ' (dry run: nothing changed)' : ''}: ${options.vendor}, ` +
      `tenant ${options.tenant ?? 'all'}, report ${options.report ?? 'all'}, ${options.from}..${options.to}, bucket ${report.bucket}`,
  ];
  for (const kind of KINDS) {
    const c = report.kinds[kind];
    lines.push(
      `  ${`${kind}:`.padEnd(11)} ${c.versions} versions, ${c.changed} ${report.dryRun ? `to be ${verb}` : verb}, ${c.already} already ${report.status}`,
    );
  }
  if (KINDS.every((kind) => report.kinds[kind].versions === 0)) {
    lines.push('  no object version found in range: check --vendor, --tenant, --report and the dates');
  }
  if (report.failures.length > 0) {
    lines.push(`  failed: ${report.failures.length}`);
    for (const f of report.failures) lines.push(`    ${f.key} (version ${f.versionId}): ${f.error}`);
  }
  return lines.join('\n');
}
