/**
 * Gathers the status report from a source, local or deployed, the same way: per vendor its last
 * runs (from the source), its outcome records of the days read and its expectations (from the
 * archive, with the reader the freshness check uses), the latest plan's dates at risk still
 * unarchived (at-risk.ts), then the pure model.ts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { addDays, utcDate } from '../../lambdas/core/dates.ts';
import { type FreshnessSettings, freshnessWindow } from '../../lambdas/ops/freshness.ts';
import { readExpectations, readOutcomes } from '../../lambdas/ops/outcome-reader.ts';
import { stillAtRisk } from './at-risk.ts';
import { type RunInfo, type StatusReport, vendorStatus } from './model.ts';

export interface StatusSource {
  /** where the status was read, for the report's first line */
  readonly description: string;
  readonly s3: S3Client;
  readonly bucket: string;
  /** the vendors to report, with their cadence and grace */
  readonly vendors: readonly { readonly vendor: string; readonly settings: FreshnessSettings }[];
  /** the vendor's last `limit` executions, newest first */
  runs(vendor: string, limit: number): Promise<RunInfo[]>;
}

export interface CollectOptions {
  readonly now: Date;
  /** report dates of outcome records to read, up to today */
  readonly days: number;
  /** runs to list per vendor */
  readonly runs: number;
}

export async function collectStatus(source: StatusSource, options: CollectOptions): Promise<StatusReport> {
  const to = utcDate(options.now);
  const asked = addDays(to, -(options.days - 1));
  let from = asked;
  const vendors = [];
  for (const { vendor, settings } of source.vendors) {
    // at least the window the freshness alarm reads, so the two agree
    const window = freshnessWindow(options.now, settings);
    const start = window.from < asked ? window.from : asked;
    if (start < from) from = start;
    const [runs, records, expectations] = await Promise.all([
      source.runs(vendor, options.runs),
      readOutcomes(source.s3, source.bucket, vendor, start, to),
      readExpectations(source.s3, source.bucket, vendor),
    ]);
    const [latest, ...older] = runs;
    const current = latest
      ? [{ ...latest, atRisk: await stillAtRisk(source.s3, source.bucket, vendor, latest.atRisk) }]
      : [];
    vendors.push(
      vendorStatus({ vendor, runs: [...current, ...older], records, expectations, now: options.now, settings }),
    );
  }
  return {
    source: source.description,
    generatedAt: options.now.toISOString(),
    days: { from, to },
    healthy: vendors.every((v) => v.attention.length === 0),
    vendors,
  };
}
