/**
 * The compliance archive: where every original, data file and manifest lands.
 *
 * 1. A customer-managed KMS key (rotated yearly) encrypts every object, with an S3 bucket key so
 *    KMS is called per bucket key rather than per object. Its policy denies disabling it or
 *    scheduling its deletion to all but break-glass, and changing the policy to all but the
 *    deploying role and break-glass (lib/archive-protection.ts).
 * 2. The bucket is private (block public access, bucket-owner-enforced), TLS-only, versioned and
 *    under S3 Object Lock with a default retention from the configuration (COMPLIANCE, seven
 *    years by default; anything weaker only by explicit opt-in, with a synth warning), so an
 *    archived report cannot be altered or deleted before its retention ends.
 * 3. Lifecycle rules move objects to colder storage classes, keep superseded versions (re-runs)
 *    until their lock has surely ended, and abort multipart uploads a failed run left behind. An
 *    optional disposition expires reports once their retention has ended (off by default).
 * 4. Server access logs go to a separate log bucket (SSE-S3: S3 cannot deliver access logs to an
 *    SSE-KMS bucket; no Object Lock: S3 does not accept a locked bucket as a log destination), itself
 *    private, TLS-only and versioned, with its own retention.
 * 5. Both bucket policies deny bypassing retention, deleting versions and changing Object Lock or
 *    lifecycle to all but the deploying role and break-glass. The archive's also denies placing or
 *    lifting a legal hold to all but those two and the configured legal-hold principals.
 * 6. Optionally, S3 replicates every new version to a replica bucket kept apart (another region or
 *    account, under its own Object Lock); delete markers are not replicated (archive-replication.ts).
 * 7. EventBridge notifications are on, so downstream teams can subscribe to new objects.
 * 8. Bucket and key outlive the stack, unless the config asks for a throwaway stack (`destroy`):
 *    then the buckets are emptied and deleted and the key is scheduled for deletion with it.
 *
 * Needs the feature flag `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` (cdk.json): S3 logging
 * is then allowed by the log bucket's policy, not by an ACL a bucket-owner-enforced bucket refuses.
 */
import {
  Annotations,
  CustomResourceProviderBase,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bucketDeny, keyDenies, legalHoldDeny } from './archive-protection.ts';
import { type ArchiveReplicationProps, archiveReplication, grantArchiveReplication } from './archive-replication.ts';
import { MIN_STRONG_RETENTION_DAYS } from './config.ts';

export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** The construct id CDK gives the stack's auto-delete-objects provider (`autoDeleteObjects`). */
const AUTO_DELETE_PROVIDER_ID = 'Custom::S3AutoDeleteObjectsCustomResourceProvider';

export interface ArchiveBucketProps {
  /** S3 Object Lock mode of the default retention */
  readonly objectLockMode: ObjectLockMode;
  /** days every new object version is locked for */
  readonly objectLockDays: number;
  /**
   * Accept GOVERNANCE mode or fewer than 365 days (synth then warns). Without it such a
   * retention is refused.
   * @default false
   */
  readonly allowWeakRetention?: boolean;
  /**
   * The only principal that may disable or schedule the deletion of the key, and that may (with
   * the deploying role) change the key policy and bypass the bucket denies.
   * @default - nobody may disable or delete the key
   */
  readonly breakGlassPrincipalArn?: string;
  /**
   * Principals (IAM role or user ARNs) that may place and lift legal holds on archived objects,
   * besides the deploying role and break-glass (for example the legal team's role that runs
   * `npm run legal-hold`).
   * @default - only the deploying role and break-glass
   */
  readonly legalHoldPrincipalArns?: readonly string[];
  /**
   * A replica of the archive in another region or account (S3 replication to a versioned bucket
   * under Object Lock, created outside this stack).
   * @default - no replica
   */
  readonly replication?: ArchiveReplicationProps;
  /**
   * The role CloudFormation deploys this stack with: it keeps the right to change the key policy,
   * Object Lock and lifecycle, so later deploys and rollbacks work.
   * @default - the CDK bootstrap's CloudFormation execution role, from the stack's synthesizer
   */
  readonly deployRoleArn?: string;
  /**
   * `RETAIN` keeps buckets and key when the stack is deleted. `DESTROY` (a throwaway stack, only
   * with `allowWeakRetention`) empties and deletes the buckets and schedules the key's deletion.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Disposition: days after creation when a report's current version expires (S3 then keeps it
   * as a noncurrent version for `noncurrentVersionExpiration`, and removes it). At least
   * `objectLockDays`: a locked version cannot expire.
   * @default - current versions never expire: the archive keeps every report
   */
  readonly disposeAfterDays?: number;
  /** days after creation to move objects to S3 Standard-IA */
  readonly infrequentAccessDays: number;
  /** days after creation to move objects to S3 Glacier Instant Retrieval */
  readonly glacierInstantRetrievalDays: number;
  /**
   * Days after creation to move objects to S3 Glacier Deep Archive. Athena does not read objects
   * in Deep Archive: they must be restored first.
   * @default - objects stay in Glacier Instant Retrieval
   */
  readonly deepArchiveDays?: number;
  /** days to keep server access logs */
  readonly accessLogRetentionDays: number;
  /**
   * How long a superseded object version (left by a re-run) is kept after it became noncurrent.
   * It cannot be removed while its Object Lock retention lasts in any case.
   * @default - the Object Lock retention (`objectLockDays`)
   */
  readonly noncurrentVersionExpiration?: Duration;
}

export class ArchiveBucket extends Construct {
  /** the archive bucket */
  public readonly bucket: s3.Bucket;
  /** the customer-managed key that encrypts the archive */
  public readonly key: kms.Key;
  /** the server access log bucket (other buckets of the stack may log here too, under their own prefix) */
  public readonly accessLogsBucket: s3.Bucket;
  /** the role exempt from the denies that guard configuration (it deploys the stack) */
  public readonly deployRoleArn: string;
  /** the role S3 replicates the archive with, when a replica is configured */
  public readonly replicationRole?: iam.Role;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    this.checkRetention(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    this.deployRoleArn = props.deployRoleArn ?? bootstrapExecutionRoleArn(this);
    const breakGlass = props.breakGlassPrincipalArn ? [props.breakGlassPrincipalArn] : [];

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the identity report archive',
      enableKeyRotation: true,
      removalPolicy,
      // the shortest wait KMS allows, for a throwaway stack; the default otherwise
      pendingWindow: destroy ? Duration.days(7) : undefined,
    });
    for (const statement of keyDenies({
      deployRoleArn: this.deployRoleArn,
      breakGlassPrincipalArn: props.breakGlassPrincipalArn,
      deployRoleMayDelete: destroy,
    })) {
      this.key.addToResourcePolicy(statement);
    }

    this.accessLogsBucket = this.createAccessLogsBucket(props.accessLogRetentionDays, removalPolicy);

    const retention = Duration.days(props.objectLockDays);
    const replication = props.replication ? archiveReplication(this, props.replication) : undefined;
    this.replicationRole = replication?.role;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        props.objectLockMode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(retention)
          : s3.ObjectLockRetention.governance(retention),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      removalPolicy,
      autoDeleteObjects: destroy,
      lifecycleRules: archiveLifecycleRules(props, retention),
      ...(replication ? { replicationRole: replication.role, replicationRules: replication.rules } : {}),
    });
    if (replication && props.replication) {
      grantArchiveReplication(replication.role, { bucketArn: this.bucket.bucketArn, key: this.key }, props.replication);
    }
    // EventBridge notifications through the bucket's own CloudFormation property: the L2's
    // `eventBridgeEnabled` deploys a custom-resource Lambda to make the same API call. (Adding
    // `addEventNotification` later would bring that custom resource back: use EventBridge rules.)
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };

    // the throwaway stack's emptying function must delete versions too
    const exempt = [this.deployRoleArn, ...breakGlass, ...(destroy ? [autoDeleteRoleArn(this)] : [])];
    for (const bucket of [this.bucket, this.accessLogsBucket]) {
      bucket.addToResourcePolicy(bucketDeny(bucket.bucketArn, exempt));
    }
    // the access-log bucket has no Object Lock, so no legal hold to guard
    this.bucket.addToResourcePolicy(
      legalHoldDeny(this.bucket.bucketArn, [
        this.deployRoleArn,
        ...breakGlass,
        ...(props.legalHoldPrincipalArns ?? []),
      ]),
    );
  }

  /** SSE-S3, versioned, no Object Lock (S3 does not deliver access logs to a locked bucket). */
  private createAccessLogsBucket(retentionDays: number, removalPolicy: RemovalPolicy): s3.Bucket {
    return new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(retentionDays),
          // An overwritten or deleted log stays as long as a kept one: s3:DeleteObject is not
          // denied, and a shorter noncurrent expiry would make its delete marker a version delete.
          noncurrentVersionExpiration: Duration.days(retentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }

  /** Weak retention only with the opt-in, and never silently; no disposition while locked. */
  private checkRetention(props: ArchiveBucketProps): void {
    const weak = props.objectLockMode !== 'COMPLIANCE' || props.objectLockDays < MIN_STRONG_RETENTION_DAYS;
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    if (props.disposeAfterDays !== undefined && props.disposeAfterDays < props.objectLockDays) {
      throw new Error(
        `${this.node.path}: disposeAfterDays must be at least objectLockDays (${props.objectLockDays}); received ${props.disposeAfterDays}`,
      );
    }
    if (destroy && props.objectLockMode === 'COMPLIANCE') {
      // the buckets could not be emptied, and the key would be deleted under locked versions
      throw new Error(`${this.node.path}: removal policy DESTROY needs GOVERNANCE mode; received COMPLIANCE`);
    }
    if (!weak && !destroy) return;
    const what = `Object Lock ${props.objectLockMode} for ${props.objectLockDays} days${destroy ? ', removal policy DESTROY' : ''}`;
    if (props.allowWeakRetention !== true) {
      throw new Error(
        `${this.node.path}: ${what} is weaker than evidence needs (COMPLIANCE, at least ${MIN_STRONG_RETENTION_DAYS} days, retained); set allowWeakRetention to accept it`,
      );
    }
    Annotations.of(this).addWarningV2(
      'identity-report-archive:weakRetention',
      `${what}: accepted by allowWeakRetention. This archive is not compliance-grade; use it only for a throwaway or test stack.`,
    );
  }
}

/** The role CloudFormation deploys with: the CDK bootstrap's execution role, with the stack's qualifier. */
function bootstrapExecutionRoleArn(scope: Construct): string {
  const synthesizer = Stack.of(scope).synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) {
    throw new Error(
      `${scope.node.path}: deployRoleArn is required when the stack does not use the DefaultStackSynthesizer (received ${synthesizer.constructor.name})`,
    );
  }
  // `arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-<qualifier>-cfn-exec-role-...`
  return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
}

/** The role of the function `autoDeleteObjects` adds to the stack (once per stack). */
function autoDeleteRoleArn(scope: Construct): string {
  const provider = Stack.of(scope).node.tryFindChild(AUTO_DELETE_PROVIDER_ID);
  if (!(provider instanceof CustomResourceProviderBase)) {
    throw new Error(`${scope.node.path}: expected the ${AUTO_DELETE_PROVIDER_ID} that autoDeleteObjects creates`);
  }
  return provider.roleArn;
}

/** Colder storage, superseded versions kept as long as their lock, optional disposition, multipart clean-up. */
function archiveLifecycleRules(props: ArchiveBucketProps, retention: Duration): s3.LifecycleRule[] {
  const noncurrentExpiration = props.noncurrentVersionExpiration ?? retention;
  // S3 refuses a noncurrent transition that is not earlier than the noncurrent expiration.
  const noncurrentTransitions: s3.NoncurrentVersionTransition[] =
    noncurrentExpiration.toDays() > 30
      ? [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(30) }]
      : [];
  const transitions: s3.Transition[] = [
    {
      storageClass: s3.StorageClass.INFREQUENT_ACCESS,
      transitionAfter: Duration.days(props.infrequentAccessDays),
    },
    {
      storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
      transitionAfter: Duration.days(props.glacierInstantRetrievalDays),
    },
  ];
  if (props.deepArchiveDays !== undefined) {
    transitions.push({
      storageClass: s3.StorageClass.DEEP_ARCHIVE,
      transitionAfter: Duration.days(props.deepArchiveDays),
    });
  }
  const disposition: s3.LifecycleRule[] =
    props.disposeAfterDays === undefined
      ? []
      : [{ id: 'Disposition', expiration: Duration.days(props.disposeAfterDays) }];
  return [
    { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    { id: 'ColderStorage', transitions },
    ...disposition,
    {
      id: 'SupersededVersions',
      noncurrentVersionTransitions: noncurrentTransitions,
      noncurrentVersionExpiration: noncurrentExpiration,
      expiredObjectDeleteMarker: true,
    },
  ];
}
