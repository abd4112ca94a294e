/**
 * Places or lifts the legal hold on every version in range, and counts what it did.
 *
 * 1. The bucket must have Object Lock (asked of S3 first): a legal hold exists nowhere else, and
 *    a bucket without it (the local S3) is refused by name rather than reported as done.
 * 2. Each version's hold is read first, so a version already in the asked state is counted as
 *    such and left alone (S3 answers NoSuchObjectLockConfiguration for one never held: OFF).
 * 3. A version that cannot be read or changed is a named failure; the others go on. A few
 *    versions are handled at a time.
 */
import {
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { LegalHoldStatus } from './args.ts';
import { NoObjectLockError } from './errors.ts';
import { KINDS, type Kind, type ObjectVersion, type RangeScope, versionsInRange } from './versions.ts';

/** Versions handled at once: S3 takes thousands of requests a second per prefix; this stays polite. */
const CONCURRENCY = 8;

export interface KindCounts {
  /** versions found in range */
  versions: number;
  /** versions whose hold was set to the asked state (with `dryRun`: would be) */
  changed: number;
  /** versions already in the asked state */
  already: number;
}

export interface HoldFailure {
  readonly kind: Kind;
  readonly key: string;
  readonly versionId: string;
  readonly error: string;
}

export interface LegalHoldReport {
  readonly bucket: string;
  readonly status: LegalHoldStatus;
  readonly dryRun: boolean;
  readonly kinds: Record<Kind, KindCounts>;
  readonly failures: HoldFailure[];
}

/** Refuses a bucket without Object Lock, naming it. */
export async function assertObjectLock(s3: S3Client, bucket: string): Promise<void> {
  let enabled: string | undefined;
  try {
    const answer = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    enabled = answer.ObjectLockConfiguration?.ObjectLockEnabled;
  } catch (error) {
    if ((error as Error).name !== 'ObjectLockConfigurationNotFoundError') throw error;
  }
  if (enabled !== 'Enabled') {
    throw new NoObjectLockError(
      `bucket ${bucket} has no S3 Object Lock, so it cannot hold a legal hold; expected the deployed archive bucket`,
    );
  }
}

async function currentHold(s3: S3Client, bucket: string, version: ObjectVersion): Promise<LegalHoldStatus> {
  try {
    const answer = await s3.send(
      new GetObjectLegalHoldCommand({ Bucket: bucket, Key: version.key, VersionId: version.versionId }),
    );
    return answer.LegalHold?.Status === 'ON' ? 'ON' : 'OFF';
  } catch (error) {
    if ((error as Error).name === 'NoSuchObjectLockConfiguration') return 'OFF';
    throw error;
  }
}

/** One version: counted as already in state, changed, or a failure. */
async function holdVersion(
  s3: S3Client,
  scope: RangeScope,
  options: { status: LegalHoldStatus; dryRun: boolean },
  version: ObjectVersion,
  report: LegalHoldReport,
): Promise<void> {
  const counts = report.kinds[version.kind];
  counts.versions++;
  try {
    if ((await currentHold(s3, scope.bucket, version)) === options.status) {
      counts.already++;
      return;
    }
    if (!options.dryRun) {
      await s3.send(
        new PutObjectLegalHoldCommand({
          Bucket: scope.bucket,
          Key: version.key,
          VersionId: version.versionId,
          LegalHold: { Status: options.status },
        }),
      );
    }
    counts.changed++;
  } catch (error) {
    const { name, message } = error as Error;
    report.failures.push({ ...version, error: `${name}: ${message}` });
  }
}

export async function applyLegalHold(
  s3: S3Client,
  scope: RangeScope,
  options: { status: LegalHoldStatus; dryRun: boolean },
): Promise<LegalHoldReport> {
  await assertObjectLock(s3, scope.bucket);
  const kinds = Object.fromEntries(KINDS.map((kind) => [kind, { versions: 0, changed: 0, already: 0 }])) as Record<
    Kind,
    KindCounts
  >;
  const report: LegalHoldReport = { bucket: scope.bucket, ...options, kinds, failures: [] };
  let batch: Promise<void>[] = [];
  for await (const version of versionsInRange(s3, scope)) {
    batch.push(holdVersion(s3, scope, options, version, report));
    if (batch.length >= CONCURRENCY) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  return report;
}
