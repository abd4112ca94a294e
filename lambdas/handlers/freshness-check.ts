/**
 * The FreshnessCheck function: every hour, publishes each enabled vendor's freshness metrics and
 * logs its per-tenant freshness (lambdas/ops/freshness-check.ts). The environment is parsed once,
 * the S3 client and logger live at module scope.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { checkFreshness, type FreshnessCheckDeps, type VendorCheck } from '../ops/freshness-check.ts';
import { parseFreshnessEnvironment } from '../ops/freshness-environment.ts';

const environment = parseFreshnessEnvironment(process.env);

const deps: FreshnessCheckDeps = {
  s3: new S3Client({}),
  bucket: environment.ARCHIVE_BUCKET,
  vendors: environment.FRESHNESS_VENDORS,
  graceHours: environment.FRESHNESS_GRACE_HOURS,
  logger: new Logger({ serviceName: environment.POWERTOOLS_SERVICE_NAME }),
  metrics: (line) => {
    process.stdout.write(`${line}\n`);
  },
  now: () => new Date(),
};

export async function handler(): Promise<VendorCheck[]> {
  return checkFreshness(deps);
}
