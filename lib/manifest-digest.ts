/**
 * The signed manifest digests (lambdas/digest/): an asymmetric KMS key that signs, a function
 * that writes the next digest, and the daily schedule that runs it.
 *
 * 1. The key is ECC_NIST_P256 for SIGN_VERIFY: the private half never leaves KMS, the public half
 *    is written into the archive beside the digests, so a copy kept outside AWS can be checked.
 *    Its policy carries the archive key's denies (no disabling or deletion but by break-glass; the
 *    policy changed only by the deploying role), and the key-change alarm watches it.
 * 2. The function may list and read the archive, write under `digests/` only, and sign with the key.
 * 3. The schedule runs it daily after the pipelines' usual hours; every run writes one digest,
 *    empty when nothing was published, so each day is accounted for in the chain.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { DIGESTS_PREFIX } from '../lambdas/digest/digest.ts';
import { PUBLICATIONS_PREFIX } from '../lambdas/digest/publications.ts';
import type { Alerts } from './alerts.ts';
import { type KeyProtection, keyDenies } from './archive-protection.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { ReportFunction } from './report-function.ts';

export interface ManifestDigestProps {
  readonly archiveBucket: s3.IBucket;
  readonly archiveKey: kms.IKey;
  readonly protection: KeyProtection;
  /**
   * When the digest is written (EventBridge Scheduler, UTC).
   * @default 'cron(45 5 * * ? *)'
   */
  readonly schedule?: string;
  /** publications younger than this wait for the next digest @default 15 */
  readonly settleMinutes?: number;
}

export class ManifestDigest extends Construct {
  public readonly signingKey: kms.Key;
  public readonly writer: ReportFunction;

  constructor(scope: Construct, id: string, props: ManifestDigestProps) {
    super(scope, id);
    this.signingKey = new kms.Key(this, 'SigningKey', {
      description: 'Signs the manifest digests of the identity report archive',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: props.protection.deployRoleMayDelete ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    for (const statement of keyDenies(props.protection)) this.signingKey.addToResourcePolicy(statement);

    this.writer = new ReportFunction(this, 'Writer', {
      handler: 'write-digest',
      description: 'Writes the next signed digest of the published manifests',
      memorySize: 512,
      timeout: Duration.minutes(10),
      environment: {
        ARCHIVE_BUCKET: props.archiveBucket.bucketName,
        ARCHIVE_KMS_KEY_ARN: props.archiveKey.keyArn,
        DIGEST_SIGNING_KEY_ARN: this.signingKey.keyArn,
        DIGEST_SETTLE_MINUTES: props.settleMinutes ?? 15,
        POWERTOOLS_SERVICE_NAME: 'identity-report-archive',
      },
    });
    this.grant(props);

    // Its own role, assumable by EventBridge Scheduler for this account only (the target's default
    // role is shared by every schedule of the stack).
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Starts the daily manifest digest',
    });
    acknowledge(
      scheduleRole,
      wildcardResourceFinding(this, `${this.writer.function.functionArn}:*`),
      'the LambdaInvoke target grants lambda:InvokeFunction on the function and its versions (`:*`); this function publishes no versions or aliases, so it is this one function',
    );
    new scheduler.Schedule(this, 'Schedule', {
      description: 'Writes the daily signed digest of the published manifests',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? 'cron(45 5 * * ? *)'),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.writer.function, { retryAttempts: 3, role: scheduleRole }),
    });
  }

  public addAlarms(alerts: Alerts): void {
    alerts.watchFunction('ManifestDigest', this.writer.function, 'digest-errors');
    alerts.watchKey('DigestSigningKey', this.signingKey);
  }

  private grant(props: ManifestDigestProps): void {
    const role = this.writer.role;
    const bucket = props.archiveBucket;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${DIGESTS_PREFIX}*`, `${PUBLICATIONS_PREFIX}*`] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${DIGESTS_PREFIX}*`), bucket.arnForObjects(`${PUBLICATIONS_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${DIGESTS_PREFIX}*`)] }),
    );
    for (const prefix of [DIGESTS_PREFIX, PUBLICATIONS_PREFIX]) {
      acknowledge(
        role,
        wildcardResourceFinding(this, bucket.arnForObjects(`${prefix}*`)),
        `digest and publication-log keys carry a sequence number or a time stamp known only at run time; scoped to ${prefix} (reads of both, writes under ${DIGESTS_PREFIX} only)`,
      );
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        // SSE-KMS: S3 asks KMS for a data key to write, and decrypts it to read
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.archiveKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    this.signingKey.grant(role, 'kms:Sign', 'kms:GetPublicKey');
  }
}
