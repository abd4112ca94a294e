/**
 * The hourly freshness check: for each enabled vendor, read its expectations and the outcome
 * records of the freshness window, decide (`vendorFreshness`), publish the two metrics, and log one
 * `report freshness` line per tenant × report (the dashboard's per-tenant table is a Logs
 * Insights query over those lines, so a thousand tenants cost no custom metrics).
 *
 * A vendor whose read fails publishes nothing (its alarms treat the missing data as breaching)
 * and the others are checked all the same; the check then throws, naming the vendors it could not
 * read, so the function's error alarm says why the freshness alarms fired.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MetricsSink } from '../pipeline/metrics.ts';
import { type FreshnessSettings, freshnessWindow, type VendorFreshness, vendorFreshness } from './freshness.ts';
import type { FreshnessVendor } from './freshness-environment.ts';
import { publishFreshness } from './freshness-metrics.ts';
import { readExpectations, readOutcomes } from './outcome-reader.ts';

export interface FreshnessCheckDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly vendors: readonly FreshnessVendor[];
  readonly graceHours: number;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

export interface VendorCheck {
  readonly vendor: string;
  readonly minutesSinceLastArchived: number;
  readonly staleTenants: number;
}

export class FreshnessCheckError extends Error {
  override readonly name = 'FreshnessCheckError';
}

/** Checks every vendor; throws after the others are published when any could not be read. */
export async function checkFreshness(deps: FreshnessCheckDeps): Promise<VendorCheck[]> {
  const now = deps.now();
  const checked: VendorCheck[] = [];
  const failed: string[] = [];
  for (const { vendor, cadenceHours } of deps.vendors) {
    const settings = { cadenceHours, graceHours: deps.graceHours };
    let freshness: VendorFreshness;
    try {
      freshness = await readFreshness(deps, vendor, now, settings);
    } catch (error) {
      deps.logger.error('freshness check failed', { vendor, error });
      failed.push(vendor);
      continue;
    }
    publishFreshness(vendor, freshness, deps.metrics, now);
    logFreshness(deps.logger, freshness);
    const { minutesSinceLastArchived, staleTenants } = freshness;
    checked.push({ vendor, minutesSinceLastArchived, staleTenants });
  }
  if (failed.length > 0) {
    throw new FreshnessCheckError(
      `could not read the outcome records or expectations of ${failed.join(', ')} (see the "freshness check failed" log lines); their freshness metrics were not published`,
    );
  }
  return checked;
}

async function readFreshness(
  deps: FreshnessCheckDeps,
  vendor: string,
  now: Date,
  settings: FreshnessSettings,
): Promise<VendorFreshness> {
  const window = freshnessWindow(now, settings);
  const [expectations, records] = await Promise.all([
    readExpectations(deps.s3, deps.bucket, vendor),
    readOutcomes(deps.s3, deps.bucket, vendor, window.from, window.to),
  ]);
  return vendorFreshness(vendor, expectations, records, now, settings);
}

/** Powertools leaves null fields out of a line; Logs Insights reads a missing field as null. */
function logFreshness(logger: Logger, freshness: VendorFreshness): void {
  const { vendor } = freshness;
  for (const report of freshness.reports) {
    logger.info('report freshness', {
      vendor,
      tenant: report.tenant,
      report: report.report,
      hoursSinceArchived: report.hoursSinceArchived,
      stale: report.stale,
      lastOutcome: report.lastOutcome,
      lastError: report.lastError,
      lastReason: report.lastReason,
      lastArchivedAt: report.lastArchivedAt,
      lastArchivedDate: report.lastArchivedDate,
    });
  }
  logger.info('vendor freshness', {
    vendor,
    lastArchivedAt: freshness.lastArchivedAt,
    minutesSinceLastArchived: freshness.minutesSinceLastArchived,
    staleTenants: freshness.staleTenants,
    reports: freshness.reports.length,
  });
}
