/**
 * The explicit denies that keep the archive's evidence and its key from being lost by mistake.
 *
 * 1. Key: nobody but the break-glass principal may disable the archive key or schedule its
 *    deletion (a deleted key makes every locked object unreadable), and nobody but the deploying
 *    role and break-glass may change its key policy. KMS's lockout safety check still passes: the
 *    deploying role keeps kms:PutKeyPolicy, so later deploys and rollbacks can rewrite the policy.
 * 2. Buckets: nobody but the deploying role and break-glass may bypass GOVERNANCE retention,
 *    delete an object version, or change Object Lock or lifecycle (the stack sets both from config).
 * 3. Archive objects: nobody but the deploying role, break-glass and the configured legal-hold
 *    principals may place or lift a legal hold. Lifting one is the same action as placing it
 *    (`s3:PutObjectLegalHold`), and without this deny any principal with S3 rights could.
 *
 * An explicit Deny wins over every Allow, the account root's included. An account administrator
 * can still rewrite a bucket policy, so these denies guard against mistakes; a hostile
 * administrator is held off by COMPLIANCE mode and an organisation policy (docs/protection.md).
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** Actions on the archive key that only break-glass may call. */
export const KEY_BREAK_GLASS_ACTIONS = ['kms:ScheduleKeyDeletion', 'kms:DisableKey'] as const;

/** Bucket actions that only the deploying role and break-glass may call. */
export const BUCKET_GUARDED_ACTIONS = [
  's3:BypassGovernanceRetention',
  // A plain delete removes no version, but its delete marker hides the report from the tables and
  // from listings; nothing in the stack deletes (the pipeline writes once and never removes).
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutBucketObjectLockConfiguration',
  's3:PutLifecycleConfiguration',
] as const;

/** Placing and lifting a legal hold: one action for both. */
export const LEGAL_HOLD_ACTIONS = ['s3:PutObjectLegalHold'] as const;

/**
 * A Deny of `actions` to every principal except `exempt` (by `aws:PrincipalArn`, which names an
 * assumed role by its role ARN). With nobody exempt, the Deny has no condition at all.
 */
export function denyAllExcept(
  sid: string,
  actions: readonly string[],
  resources: readonly string[],
  exempt: readonly string[],
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: [...actions],
    resources: [...resources],
    conditions: exempt.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': [...exempt] } } : undefined,
  });
}

export interface KeyProtection {
  /** may change the key policy (the role CloudFormation deploys with) */
  readonly deployRoleArn: string;
  /** may also disable the key and schedule its deletion @default - nobody may */
  readonly breakGlassPrincipalArn?: string;
  /** the deploying role may also delete the key (a throwaway stack whose key goes with it) */
  readonly deployRoleMayDelete: boolean;
}

/** The key policy denies; the key's own `kms:*` for the account root stays for the grants. */
export function keyDenies(protection: KeyProtection): iam.PolicyStatement[] {
  const breakGlass = protection.breakGlassPrincipalArn ? [protection.breakGlassPrincipalArn] : [];
  const deleters = protection.deployRoleMayDelete ? [protection.deployRoleArn, ...breakGlass] : breakGlass;
  return [
    denyAllExcept('DenyKeyDeletionExceptBreakGlass', KEY_BREAK_GLASS_ACTIONS, ['*'], deleters),
    denyAllExcept(
      'DenyKeyPolicyChangeExceptDeployer',
      ['kms:PutKeyPolicy'],
      ['*'],
      [protection.deployRoleArn, ...breakGlass],
    ),
  ];
}

/** The bucket policy deny for `bucketArn` and its objects. */
export function bucketDeny(bucketArn: string, exempt: readonly string[]): iam.PolicyStatement {
  return denyAllExcept(
    'DenyEvidenceRemovalExceptDeployer',
    BUCKET_GUARDED_ACTIONS,
    [bucketArn, `${bucketArn}/*`],
    exempt,
  );
}

/** The archive bucket's deny on legal holds, for its objects. */
export function legalHoldDeny(bucketArn: string, exempt: readonly string[]): iam.PolicyStatement {
  return denyAllExcept('DenyLegalHoldChangeExceptHolders', LEGAL_HOLD_ACTIONS, [`${bucketArn}/*`], exempt);
}
