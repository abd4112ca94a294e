/**
 * The optional replica: a second copy of the archive kept apart, as records rules such as SEC
 * 17a-4 ask for (another region or account, under its own Object Lock).
 *
 * 1. A role S3 assumes to replicate, named so the destination account's bucket and key policies
 *    can allow it before it exists. It may read the archive's versions with their retention and
 *    legal hold, decrypt them with the archive key through S3, replicate objects and tags into
 *    the destination and encrypt them there with the destination key. It may not replicate deletes.
 * 2. The destination bucket (created and locked outside this stack) must be versioned and under
 *    Object Lock: S3 carries each version's retention and legal hold across. Delete markers are
 *    not replicated, so nothing done to the archive removes a replica.
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { ReplicaStorageClass } from './config.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';

export interface ArchiveReplicationProps {
  /** the destination bucket, versioned and under Object Lock, in another region or account */
  readonly destinationBucketArn: string;
  /** the KMS key (in the destination's region) that encrypts the replicas */
  readonly destinationKmsKeyArn: string;
  /**
   * The destination's account, when it is not this one: replicas are then owned by it.
   * @default - the destination is in this account
   */
  readonly destinationAccountId?: string;
  /**
   * Storage class of the replicas (S3's name for it).
   * @default - the source object's
   */
  readonly storageClass?: ReplicaStorageClass;
}

/**
 * The role and rule for `s3.BucketProps`'s `replicationRole` and `replicationRules`. The role's
 * permissions on the archive are added once it exists (`grantArchiveReplication`).
 */
export function archiveReplication(
  scope: Construct,
  props: ArchiveReplicationProps,
): { role: iam.Role; rules: s3.ReplicationRule[] } {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'ReplicationRole', {
    assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    roleName: `${stack.stackName}-archive-replication`.slice(0, 64),
    description: 'Replicates the identity report archive to its replica bucket',
  });
  const destination = s3.Bucket.fromBucketAttributes(scope, 'ReplicaBucket', {
    bucketArn: props.destinationBucketArn,
    ...(props.destinationAccountId ? { account: props.destinationAccountId } : {}),
  });
  const rule: s3.ReplicationRule = {
    id: 'ReplicateArchive',
    destination,
    kmsKey: kms.Key.fromKeyArn(scope, 'ReplicaKey', props.destinationKmsKeyArn),
    sseKmsEncryptedObjects: true,
    deleteMarkerReplication: false,
    priority: 1,
    ...(props.destinationAccountId ? { accessControlTransition: true } : {}),
    ...(props.storageClass ? { storageClass: new s3.StorageClass(props.storageClass) } : {}),
  };
  return { role, rules: [rule] };
}

/** What the replication role may do: read the archive's versions, write replicas, use both keys through S3. */
export function grantArchiveReplication(
  role: iam.Role,
  source: { bucketArn: string; key: kms.IKey },
  props: ArchiveReplicationProps,
): void {
  const stack = Stack.of(role);
  const destinationRegion = Arn.split(props.destinationKmsKeyArn, ArnFormat.SLASH_RESOURCE_NAME).region;
  const ownerOverride = props.destinationAccountId ? ['s3:ObjectOwnerOverrideToBucketOwner'] : [];
  const statements: iam.PolicyStatementProps[] = [
    { actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [source.bucketArn] },
    {
      actions: [
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionTagging',
        's3:GetObjectRetention',
        's3:GetObjectLegalHold',
      ],
      resources: [`${source.bucketArn}/*`],
    },
    // no s3:ReplicateDelete: nothing done to the archive removes a replica
    {
      actions: ['s3:ReplicateObject', 's3:ReplicateTags', ...ownerOverride],
      resources: [`${props.destinationBucketArn}/*`],
    },
    {
      actions: ['kms:Decrypt'],
      resources: [source.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    },
    {
      actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [props.destinationKmsKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${destinationRegion}.amazonaws.com` } },
    },
  ];
  for (const statement of statements) role.addToPolicy(new iam.PolicyStatement(statement));
  for (const resource of [`${source.bucketArn}/*`, `${props.destinationBucketArn}/*`]) {
    acknowledge(
      role,
      wildcardResourceFinding(role, resource),
      'replication reads every object version of the archive and writes its replica at the same key: the keys are every key of the bucket',
    );
  }
}
