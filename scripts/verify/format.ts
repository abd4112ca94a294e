/** The terminal summary of `npm run verify`: what was checked, then every finding in full. */
import { formatBytes } from '../local/format.ts';
import type { CheckReport, Finding } from './check-archive.ts';
import type { DigestSummary } from './check-digests.ts';

const HEADINGS: Record<Finding['kind'], string> = {
  mismatch: 'MISMATCH',
  missing: 'MISSING',
  'unreadable-manifest': 'UNREADABLE MANIFEST',
  retention: 'RETENTION',
  digest: 'DIGEST',
  'nothing-matched': 'NOTHING CHECKED',
  'needs-restore': 'NOT VERIFIED (archive tier)',
  unreferenced: 'UNREFERENCED (no manifest names it)',
  undigested: 'NOT IN A SIGNED DIGEST',
};

export function formatReport(report: CheckReport & { digests?: DigestSummary }): string {
  const lines = [
    `${report.manifests} manifests; ${report.verified} objects (${formatBytes(report.bytes)}) read again and found as described`,
    report.objectLock
      ? 'Object Lock retention checked against the configured policy'
      : 'retention not checked: this bucket has no Object Lock (the local archive never has)',
    digestLine(report.digests),
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

function digestLine(digests: DigestSummary | undefined): string {
  if (!digests) return 'signed digests not checked: filters narrow the check to part of the archive';
  const keys = digests.signedBy.map((k) => `${k.slice(0, 16)}…`).join(', ');
  const signers = keys === '' ? 'none with a valid signature' : `key ${keys}`;
  return `${digests.digests} signed digests (${signers}) list ${digests.publications} manifest versions; ${digests.pending} publications await the next digest`;
}
