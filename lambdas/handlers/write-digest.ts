/**
 * The WriteDigest function: on its daily schedule, writes the next signed digest of the manifest
 * versions published since the last one (lambdas/digest/write-digest.ts), signed by the stack's
 * asymmetric KMS key.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { formatIssues } from '../core/zod-issues.ts';
import { kmsSigner } from '../digest/signer.ts';
import { type DigestOutcome, writeNextDigest } from '../digest/write-digest.ts';

export const DigestEnvironmentSchema = z.object({
  ARCHIVE_BUCKET: z.string().min(1),
  ARCHIVE_KMS_KEY_ARN: z.string().min(1).optional(),
  DIGEST_SIGNING_KEY_ARN: z.string().min(1),
  /** publications younger than this wait for the next digest */
  DIGEST_SETTLE_MINUTES: z.coerce.number().int().nonnegative(),
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
});
export type DigestEnvironment = z.input<typeof DigestEnvironmentSchema>;

const parsed = DigestEnvironmentSchema.safeParse(process.env);
if (!parsed.success) throw new Error(`WriteDigest environment: ${formatIssues(parsed.error)}`);
const environment = parsed.data;
const logger = new Logger({ serviceName: environment.POWERTOOLS_SERVICE_NAME });
const s3 = new S3Client({});
const kms = new KMSClient({});

export async function handler(): Promise<DigestOutcome> {
  const outcome = await writeNextDigest({
    s3,
    bucket: environment.ARCHIVE_BUCKET,
    kmsKeyId: environment.ARCHIVE_KMS_KEY_ARN,
    signer: kmsSigner(kms, environment.DIGEST_SIGNING_KEY_ARN),
    now: () => new Date(),
    settleMs: environment.DIGEST_SETTLE_MINUTES * 60_000,
  });
  logger.info('digest', { ...outcome });
  return outcome;
}
