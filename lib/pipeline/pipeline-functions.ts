/**
 * The five functions of one vendor's pipeline, sized from its config, and every grant they need.
 *
 * 1. `plan-run` lists which tenant × report × date items a run covers; it may only list the
 *    vendor's manifests and outcome records, write and read the vendor's run claims (one per
 *    scheduled time) and its expectations file, and write its `lost` outcome records.
 * 2. `start-job` and `check-job` talk to the vendor; they may read that vendor's tenant secrets
 *    (or its one secret for every tenant) and nothing else.
 * 3. `archive-report` streams the report into the archive (sized by the `functions` config
 *    block); it may read the same secrets and write only under the vendor's three archive
 *    prefixes.
 * 4. `record-outcome` writes how each item ended; it may only create objects under the vendor's
 *    outcomes prefix, encrypted with the archive key, and reads nothing.
 * 5. All five get the one handler environment (`handlerEnvironment`, as the local runner does).
 * 6. Each timeout stays below its Task's TimeoutSeconds in `state-machines/report-pipeline.ts`
 *    (plan 120 s, start/check 300 s, archive 960 s, record 60 s), so a function that runs out of
 *    time fails as a Lambda error the Task can retry or catch: plan, start/check and record keep
 *    fixed timeouts, and the archive step's configured one is capped at 15 minutes by its schema.
 */
import { ArnFormat, Duration, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ArchiveLimits } from '../../lambdas/core/archive/limits.ts';
import {
  DATA_PREFIX,
  expectationsKey,
  LOST_OUTCOME_NAME,
  MANIFESTS_PREFIX,
  ORIGINALS_PREFIX,
  OUTCOMES_PREFIX,
} from '../../lambdas/core/layout.ts';
import { DEFAULT_FUNCTION_SIZING, type FunctionSizing } from '../../lambdas/core/settings.ts';
import { PUBLICATIONS_PREFIX } from '../../lambdas/digest/publications.ts';
import { handlerEnvironment } from '../../lambdas/handlers/env.ts';
import { RUNS_PREFIX } from '../../lambdas/pipeline/claim.ts';
import type { PipelineFunction } from '../../state-machines/report-pipeline.ts';
import { acknowledge, wildcardResourceFinding } from '../nag.ts';
import { ReportFunction } from '../report-function.ts';

/** A tenant as the functions see it: its id (for messages) and the secret holding its credentials. */
export interface PipelineTenant {
  readonly id: string;
  /** a Secrets Manager secret name or ARN; deployed functions read credentials from nowhere else */
  readonly secretName?: string;
}

export interface PipelineFunctionsProps {
  /** the connector's vendor id (config key, S3 partition value) */
  readonly vendor: string;
  /** the tenants whose secrets start, check and archive may read */
  readonly tenants: readonly PipelineTenant[];
  /**
   * One secret (name or ARN) holding every tenant's credentials, keyed by tenant id: the only
   * secret the functions may then read.
   * @default - each tenant's own secretName
   */
  readonly vendorSecretName?: string;
  readonly archiveBucket: s3.IBucket;
  /** the key that encrypts the archive */
  readonly archiveKey: kms.IKey;
  /** the archive limits the handler environment carries */
  readonly limits: ArchiveLimits;
  /** recorded in every manifest */
  readonly softwareVersion: string;
  /**
   * Memory, timeout and /tmp of the functions (the vendor section's `functions` block).
   * @default DEFAULT_FUNCTION_SIZING
   */
  readonly sizing?: FunctionSizing;
  /**
   * Retention of the functions' log groups.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

export class PipelineFunctions extends Construct {
  public readonly planRun: ReportFunction;
  public readonly startJob: ReportFunction;
  public readonly checkJob: ReportFunction;
  public readonly archiveReport: ReportFunction;
  public readonly recordOutcome: ReportFunction;

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    const { vendor, logRetention } = props;
    const sizing = props.sizing ?? DEFAULT_FUNCTION_SIZING;
    const environment = functionEnvironment(props);

    this.planRun = new ReportFunction(this, 'PlanRun', {
      handler: 'plan-run',
      description: `${vendor}: plans a run (which tenants, reports and dates are still to archive)`,
      environment,
      memorySize: sizing.plan.memoryMb,
      timeout: Duration.minutes(1),
      logRetention,
    });
    this.startJob = new ReportFunction(this, 'StartJob', {
      handler: 'start-job',
      description: `${vendor}: starts a report job`,
      environment,
      memorySize: sizing.poll.memoryMb,
      timeout: Duration.minutes(2),
      logRetention,
    });
    this.checkJob = new ReportFunction(this, 'CheckJob', {
      handler: 'check-job',
      description: `${vendor}: checks whether a report job is ready`,
      environment,
      memorySize: sizing.poll.memoryMb,
      timeout: Duration.minutes(2),
      logRetention,
    });
    this.archiveReport = new ReportFunction(this, 'ArchiveReport', {
      handler: 'archive-report',
      description: `${vendor}: streams a report into the archive`,
      environment,
      memorySize: sizing.archive.memoryMb,
      timeout: Duration.minutes(sizing.archive.timeoutMinutes),
      ephemeralStorageSize: Size.mebibytes(sizing.archive.ephemeralStorageMb),
      logRetention,
    });
    this.recordOutcome = new ReportFunction(this, 'RecordOutcome', {
      handler: 'record-outcome',
      description: `${vendor}: records how each item of a run ended`,
      environment,
      memorySize: sizing.poll.memoryMb,
      timeout: Duration.seconds(30),
      logRetention,
    });

    grantManifestListing(this.planRun, props.archiveBucket, vendor);
    grantRunClaims(this.planRun, props.archiveBucket, props.archiveKey, vendor);
    // the plan writes only `lost` records
    grantOutcomeWrites(this.planRun, props.archiveBucket, props.archiveKey, vendor, `*/${LOST_OUTCOME_NAME}.json`);
    grantLostRecordListing(this.planRun, props.archiveBucket, vendor);
    grantExpectations(this.planRun, props.archiveBucket, vendor);
    const secretArns =
      props.vendorSecretName === undefined
        ? tenantSecretArns(Stack.of(this), props.tenants)
        : [secretArn(Stack.of(this), props.vendorSecretName)];
    for (const fn of [this.startJob, this.checkJob, this.archiveReport]) grantSecretReads(fn, secretArns);
    grantArchiveWrites(this.archiveReport, props.archiveBucket, props.archiveKey, vendor);
    grantManifestReads(this.archiveReport, props.archiveBucket, vendor);
    grantOutcomeWrites(this.recordOutcome, props.archiveBucket, props.archiveKey, vendor);
  }

  /** The five functions, in pipeline order. */
  public get all(): readonly ReportFunction[] {
    return [this.planRun, this.startJob, this.checkJob, this.archiveReport, this.recordOutcome];
  }

  /** Each function by the state that invokes it. */
  public get byState(): Readonly<Record<PipelineFunction, lambda.IFunction>> {
    return {
      PlanRun: this.planRun.function,
      StartJob: this.startJob.function,
      CheckJob: this.checkJob.function,
      ArchiveReport: this.archiveReport.function,
      RecordOutcome: this.recordOutcome.function,
    };
  }
}

/** The environment every handler parses at init, built by the same function the local runner uses. */
function functionEnvironment(props: PipelineFunctionsProps) {
  return handlerEnvironment({
    vendor: props.vendor,
    bucket: props.archiveBucket.bucketName,
    kmsKeyArn: props.archiveKey.keyArn,
    limits: props.limits,
    archiveFunction: (props.sizing ?? DEFAULT_FUNCTION_SIZING).archive,
    softwareVersion: props.softwareVersion,
  });
}

/** Object keys the archive step writes, one pattern per archive prefix. */
export function archiveKeyPatterns(vendor: string): string[] {
  const own = [DATA_PREFIX, ORIGINALS_PREFIX, MANIFESTS_PREFIX].map((prefix) => `${prefix}/vendor=${vendor}/*`);
  // the publication log is shared by every vendor: its keys are times (lambdas/digest/publications.ts)
  return [...own, `${PUBLICATIONS_PREFIX}*`];
}

/** Each tenant's secret ARN. */
/**
 * Most tenants with their own secret a vendor may have: measured, 58 secret ARNs of about 100
 * characters synthesize within IAM's policy size limits and 64 do not (CDK moves the statement
 * to a managed policy, capped at 6,144 characters), so a deploy would fail.
 */
export const MAX_TENANT_SECRETS = 50;

export function tenantSecretArns(stack: Stack, tenants: readonly PipelineTenant[]): string[] {
  if (tenants.length > MAX_TENANT_SECRETS) {
    throw new Error(
      `${tenants.length} tenants each with their own secret: each of the vendor's start, check and archive roles would list every secret's ARN in one IAM statement, and past about ${MAX_TENANT_SECRETS} that policy is larger than IAM accepts (the deploy fails); expected one secret for the vendor (vendors.<vendor>.secretName, see README "Secrets"), or at most ${MAX_TENANT_SECRETS} tenants`,
    );
  }
  return tenants.map((tenant) => {
    const name = tenant.secretName;
    if (name === undefined) {
      throw new Error(
        `tenant ${tenant.id}: expected secretName (a Secrets Manager secret), or one for the vendor; deployed functions read credentials from Secrets Manager only`,
      );
    }
    return secretArn(stack, name);
  });
}

/** A secret's ARN: the ARN as given, or the name with Secrets Manager's random suffix. */
export function secretArn(stack: Stack, name: string): string {
  if (name.startsWith('arn:')) return name;
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${name}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function grantManifestListing(fn: ReportFunction, bucket: s3.IBucket, vendor: string): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListVendorManifests',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${MANIFESTS_PREFIX}/vendor=${vendor}/*`] } },
    }),
  );
}

/**
 * The archive step reads a report's manifest before it runs: its ETag conditions the manifest
 * write (If-Match), so a run replaces only the manifest it saw. Listing the manifests prefix makes
 * a missing manifest answer 404 rather than 403.
 */
function grantManifestReads(fn: ReportFunction, bucket: s3.IBucket, vendor: string): void {
  grantManifestListing(fn, bucket, vendor);
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadVendorManifests',
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${MANIFESTS_PREFIX}/vendor=${vendor}/*`)],
    }),
  );
}

/** The plan lists the vendor's outcome keys to write only the `lost` records not there yet. */
function grantLostRecordListing(fn: ReportFunction, bucket: s3.IBucket, vendor: string): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListVendorOutcomes',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${OUTCOMES_PREFIX}/vendor=${vendor}/*`] } },
    }),
  );
}

/**
 * The vendor's expected tenant reports: read, compared, and written (If-Match / If-None-Match)
 * when the config changed. Listing that one key makes a missing file answer 404 rather than 403.
 * Its encryption goes through the run claims' grant of the key via S3.
 */
function grantExpectations(fn: ReportFunction, bucket: s3.IBucket, vendor: string): void {
  const key = expectationsKey(vendor);
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteVendorExpectations',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [bucket.arnForObjects(key)],
    }),
  );
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListVendorExpectations',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringEquals: { 's3:prefix': [key] } },
    }),
  );
}

/** The claim of a scheduled time: created once (If-None-Match), read back when it already exists. */
function grantRunClaims(fn: ReportFunction, bucket: s3.IBucket, key: kms.IKey, vendor: string): void {
  const pattern = `${RUNS_PREFIX}/vendor=${vendor}/*`;
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ClaimVendorRuns',
      actions: ['s3:PutObject', 's3:GetObject'],
      resources: [bucket.arnForObjects(pattern)],
    }),
  );
  acknowledge(
    fn.role,
    wildcardResourceFinding(fn, bucket.arnForObjects(pattern)),
    `a claim's key holds the scheduled time, only known at run time; scoped to ${pattern} with put and get only`,
  );
  grantKeyViaS3(fn, key, 'EncryptVendorRunClaims');
}

/**
 * Outcome records: created once (If-None-Match) in a single PUT, never read back, so no read and
 * no decrypt. S3 answers an existing key with 412 on the write itself.
 */
function grantOutcomeWrites(fn: ReportFunction, bucket: s3.IBucket, key: kms.IKey, vendor: string, below = '*'): void {
  const pattern = `${OUTCOMES_PREFIX}/vendor=${vendor}/${below}`;
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'RecordVendorOutcomes',
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(pattern)],
    }),
  );
  acknowledge(
    fn.role,
    wildcardResourceFinding(fn, bucket.arnForObjects(pattern)),
    `a record's key holds the date, report, tenant and run, only known at run time; scoped to ${pattern} with put only`,
  );
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'EncryptVendorOutcomes',
      // S3 asks KMS for a data key on a single PutObject; it never calls kms:Encrypt for SSE-KMS.
      actions: ['kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}

/** SSE-KMS through S3 only: a data key to write, a decrypt to read (or to complete a multipart upload). */
function grantKeyViaS3(fn: ReportFunction, key: kms.IKey, sid: string): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid,
      // S3 never calls kms:Encrypt for SSE-KMS.
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}

function grantSecretReads(fn: ReportFunction, secretArns: string[]): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadTenantSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: secretArns,
    }),
  );
}

function grantArchiveWrites(fn: ReportFunction, bucket: s3.IBucket, key: kms.IKey, vendor: string): void {
  const patterns = archiveKeyPatterns(vendor);
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteVendorArchive',
      // No delete: nothing completed is ever removed, and under Object Lock a delete would only
      // add a marker that hides the archived version.
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: patterns.map((pattern) => bucket.arnForObjects(pattern)),
    }),
  );
  for (const pattern of patterns) {
    acknowledge(
      fn.role,
      wildcardResourceFinding(fn, bucket.arnForObjects(pattern)),
      `object keys below the vendor's prefix are only known at run time (report, date, tenant, file name); scoped to ${pattern} with object actions only (put, abort a multipart upload; get, on manifests only)`,
    );
  }
  // S3 asks KMS for a data key on PutObject and, to complete a multipart upload, decrypts it
  // again to read the parts.
  grantKeyViaS3(fn, key, 'EncryptVendorArchive');
}
