/**
 * For tests that write data objects straight into the local S3's directory: the manifest that
 * publishes one, since the report views show only rows of data objects a manifest names. It holds
 * the fields the views read; the archiver's own manifests are tested with the archiver.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { manifestKey } from '../../lambdas/core/layout.ts';
import type { ReportRequest } from '../../lambdas/core/types.ts';
import { S3RVER_SUFFIX } from '../../scripts/local/s3.ts';

export function publishDataObject(
  bucketDir: string,
  partition: Pick<ReportRequest, 'vendor' | 'report' | 'tenant' | 'date'>,
  dataKey: string,
): void {
  const path = join(bucketDir, `${manifestKey(partition)}${S3RVER_SUFFIX}`);
  mkdirSync(dirname(path), { recursive: true });
  const manifest = {
    schema_version: 1,
    tenant: partition.tenant,
    report_date: partition.date,
    data: { key: dataKey, format: 'jsonl.gz' },
  };
  writeFileSync(path, `${JSON.stringify(manifest)}\n`);
}
