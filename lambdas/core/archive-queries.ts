/**
 * Saved queries over the archive as a whole rather than one vendor's report: Athena named queries
 * in the workgroup (lib/report-catalog.ts), which `npm start` also runs locally, under the same
 * names. Each one prunes by `dt`, so its cost does not grow with the archive's age.
 */
import { MANIFESTS_PREFIX } from './layout.ts';
import type { SavedQuery } from './types.ts';

export const archiveQueries: readonly SavedQuery[] = [
  {
    name: 'archive-recent-manifests',
    description: `What was collected when: reports archived for the last 31 days (manifests under ${MANIFESTS_PREFIX}/), newest first, with the start of the first original's SHA-256 (the full hashes are in report_manifests)`,
    sql: `SELECT vendor, report, tenant, dt, row_count, substr(completed_at, 1, 19) AS completed_at,
  substr(originals[1].sha256, 1, 16) AS original_sha256
FROM report_manifests
WHERE dt >= CAST(CAST(current_date - INTERVAL '31' DAY AS DATE) AS VARCHAR)
ORDER BY completed_at DESC, vendor, report, tenant`,
  },
];
