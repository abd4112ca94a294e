/**
 * The compliance archive: where every original, data file and manifest lands.
 *
 * 1. A customer-managed KMS key (rotated yearly) encrypts every object, with an S3 bucket key so
 *    KMS is called per bucket key rather than per object.
 * 2. The bucket is private (block public access, bucket-owner-enforced), TLS-only, versioned and
 *    under S3 Object Lock with a default retention from the configuration, so an archived report
 *    cannot be altered or deleted before its retention ends.
 * 3. Lifecycle rules move objects to colder storage classes, keep superseded versions (re-runs)
 *    until their lock has surely ended, and abort multipart uploads a failed run left behind.
 * 4. Server access logs go to a separate log bucket (SSE-S3: S3 cannot deliver access logs to an
 *    SSE-KMS bucket), itself private, TLS-only and versioned, with its own retention.
 * 5. EventBridge notifications are on, so downstream teams can subscribe to new objects.
 *
 * Needs the feature flag `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` (cdk.json): S3 logging
 * is then allowed by the log bucket's policy, not by an ACL a bucket-owner-enforced bucket refuses.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface ArchiveBucketProps {
  /** S3 Object Lock mode of the default retention */
  readonly objectLockMode: ObjectLockMode;
  /** days every new object version is locked for */
  readonly objectLockDays: number;
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

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the identity report archive',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(props.accessLogRetentionDays),
          // a log object that was overwritten or deleted stays recoverable for 90 days
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    const retention = Duration.days(props.objectLockDays);
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
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'AbortIncompleteMultipartUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          id: 'ColderStorage',
          transitions,
        },
        {
          id: 'SupersededVersions',
          noncurrentVersionTransitions: noncurrentTransitions,
          noncurrentVersionExpiration: noncurrentExpiration,
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    // EventBridge notifications through the bucket's own CloudFormation property: the L2's
    // `eventBridgeEnabled` deploys a custom-resource Lambda to make the same API call. (Adding
    // `addEventNotification` later would bring that custom resource back: use EventBridge rules.)
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
  }
}
