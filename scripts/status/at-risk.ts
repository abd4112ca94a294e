/**
 * The dates at risk of a vendor now: those the latest plan found about to age out unarchived
 * (the plan's own `datesAtRisk` logic), less the ones archived since. The plan counts the dates
 * its run is about to fetch as at risk until they are archived, so a run that archives them
 * leaves them in its plan; the manifests, read as the plan reads them, say which were.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { archivedDates } from '../../lambdas/pipeline/plan.ts';

export async function stillAtRisk(
  s3: S3Client,
  bucket: string,
  vendor: string,
  atRisk: readonly string[],
): Promise<string[]> {
  const parsed = atRisk.map((entry) => {
    const [tenant = '', report = '', date = ''] = entry.split('/');
    return { entry, tenant, report, date };
  });
  const remaining: string[] = [];
  for (const report of new Set(parsed.map((p) => p.report))) {
    const ofReport = parsed.filter((p) => p.report === report);
    const from = ofReport.map((p) => p.date).sort()[0] as string;
    const archived = await archivedDates(s3, bucket, vendor, report, from);
    remaining.push(...ofReport.filter((p) => !archived.get(p.tenant)?.has(p.date)).map((p) => p.entry));
  }
  return remaining.sort();
}
