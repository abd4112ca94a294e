/** The terminal summary of `npm run verify`: what was checked, then every finding in full. */
import { formatBytes } from '../local/format.ts';
import type { CheckReport, Finding } from './check-archive.ts';

const HEADINGS: Record<Finding['kind'], string> = {
  mismatch: 'MISMATCH',
  missing: 'MISSING',
  'unreadable-manifest': 'UNREADABLE MANIFEST',
  retention: 'RETENTION',
  'needs-restore': 'NOT VERIFIED (archive tier)',
  unreferenced: 'UNREFERENCED (no manifest names it)',
};

export function formatReport(report: CheckReport): string {
  const lines = [
    `${report.manifests} manifests; ${report.verified} objects (${formatBytes(report.bytes)}) read again and found as described`,
    report.objectLock
      ? 'Object Lock retention checked against the configured policy'
      : 'retention not checked: this bucket has no Object Lock (the local archive never has)',
  ];
  for (const finding of [...report.problems, ...report.notes]) {
    lines.push(`${HEADINGS[finding.kind]} ${finding.key}`);
    lines.push(`  ${finding.detail}`);
    if (finding.manifest) lines.push(`  named by ${finding.manifest}`);
  }
  lines.push(
    report.problems.length === 0
      ? 'OK: every object matches its manifest'
      : `FAILED: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`,
  );
  return lines.join('\n');
}
