/**
 * The archive bucket and the catalog: encryption, public access, TLS, versioning, Object Lock,
 * lifecycle, access logs, EventBridge, the denies that protect the evidence and its key, the
 * throwaway profile, and the Glue / Athena side built from the connectors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, DefaultStackSynthesizer, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionFor, definitions } from '../../lambdas/connectors/registry.ts';
import { archiveQueries } from '../../lambdas/core/archive-queries.ts';
import { manifestTable, objectsTableName, PROJECTION_START_DATE, reportTable } from '../../lambdas/core/tables.ts';
import { WATCHED_KEY_CALLS } from '../../lib/alerts.ts';
import { ArchiveBucket, type ArchiveBucketProps } from '../../lib/archive-bucket.ts';
import { BUCKET_GUARDED_ACTIONS, KEY_BREAK_GLASS_ACTIONS, LEGAL_HOLD_ACTIONS } from '../../lib/archive-protection.ts';
import { enabledVendors, parseConfig } from '../../lib/config.ts';
import {
  asArray,
  cdkJsonContext,
  documentStatements,
  EXAMPLE_CONFIG,
  logicalId,
  type Resources,
  ROOT,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  roleStatements,
  type Statement,
  type Synthesized,
  synthExample,
} from './support.ts';

let synth: Synthesized;
let resources: Resources;
let archiveBucketId: string;
let accessLogsBucketId: string;

beforeAll(() => {
  synth = synthExample();
  resources = resourcesById(synth.template);
  archiveBucketId = logicalId(synth.stack, synth.stack.archive.bucket);
  accessLogsBucketId = logicalId(synth.stack, synth.stack.archive.accessLogsBucket);
});

afterAll(() => removeOutdir(synth.app));

const props = (id: string) => resources[id]?.Properties ?? {};

interface TableInput {
  readonly Name: string;
  readonly Parameters: Record<string, unknown>;
  readonly PartitionKeys: { Name: string; Type: string }[];
  readonly StorageDescriptor: {
    readonly Location: unknown;
    readonly Columns: { Name: string; Type: string; Comment?: string }[];
  } & Record<string, unknown>;
}

interface WorkGroupConfiguration {
  readonly EnforceWorkGroupConfiguration: boolean;
  readonly BytesScannedCutoffPerQuery: number;
  readonly EngineVersion: unknown;
  readonly ResultConfiguration: { OutputLocation: unknown; EncryptionConfiguration: unknown };
}

describe('every bucket', () => {
  it('blocks public access', () => {
    const buckets = resourcesOf(synth.template, 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(3);
    for (const [, bucket] of buckets) {
      expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('denies requests without TLS', () => {
    for (const [id] of resourcesOf(synth.template, 'AWS::S3::Bucket')) {
      const policies = resourcesOf(synth.template, 'AWS::S3::BucketPolicy').filter(
        ([, p]) => render(p.Properties?.Bucket) === `<${id}>`,
      );
      expect(policies, `bucket policy of ${id}`).toHaveLength(1);
      const statements = documentStatements(policies[0]?.[1].Properties.PolicyDocument);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      );
    }
  });

  it('is encrypted at rest, with rotating customer-managed keys where KMS is used', () => {
    for (const [id, bucket] of resourcesOf(synth.template, 'AWS::S3::Bucket')) {
      const rule = (
        bucket.Properties.BucketEncryption as {
          ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: Record<string, unknown> }[];
        }
      ).ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault;
      expect(rule?.SSEAlgorithm, id).toMatch(/^(aws:kms|AES256)$/);
      if (rule?.SSEAlgorithm === 'aws:kms') {
        const keyId = render(rule.KMSMasterKeyID).replace(/^<(.*)\.Arn>$/, '$1');
        expect(resources[keyId]?.Type).toBe('AWS::KMS::Key');
        expect(props(keyId).EnableKeyRotation).toBe(true);
      }
    }
  });
});

describe('archive bucket', () => {
  it('is encrypted with the rotating customer-managed key and a bucket key', () => {
    const keyId = logicalId(synth.stack, synth.stack.archive.key);
    expect(props(keyId).EnableKeyRotation).toBe(true);
    expect(props(archiveBucketId).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        },
      ],
    });
  });

  it('is versioned and under Object Lock with the configured default retention', () => {
    const { mode, days } = synth.config.archive.objectLock;
    expect(props(archiveBucketId).VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props(archiveBucketId).ObjectLockEnabled).toBe(true);
    expect(props(archiveBucketId).ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: mode, Days: days } },
    });
  });

  it('moves objects to colder storage as configured and aborts incomplete multipart uploads after a day', () => {
    const { infrequentAccessDays, glacierInstantRetrievalDays } = synth.config.archive.transitions;
    const rules = (props(archiveBucketId).LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({
        Status: 'Enabled',
        Transitions: [
          { StorageClass: 'STANDARD_IA', TransitionInDays: infrequentAccessDays },
          { StorageClass: 'GLACIER_IR', TransitionInDays: glacierInstantRetrievalDays },
        ],
      }),
    );
    // superseded versions (re-runs) are kept at least as long as their lock
    const noncurrent = rules.find((r) => r.NoncurrentVersionExpiration);
    expect(noncurrent?.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: synth.config.archive.objectLock.days });
    // nothing expires current versions: the archive keeps every report
    expect(rules.some((r) => r.ExpirationInDays !== undefined)).toBe(false);
  });

  it('logs server access to the separate log bucket', () => {
    expect(props(archiveBucketId).LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogsBucketId },
      LogFilePrefix: 'archive/',
    });
  });

  it('sends object events to EventBridge without a custom resource', () => {
    expect(props(archiveBucketId).NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(resourcesOf(synth.template, 'Custom::S3BucketNotifications')).toHaveLength(0);
  });

  it('is retained, with its key, when the stack is deleted', () => {
    for (const id of [archiveBucketId, accessLogsBucketId, logicalId(synth.stack, synth.stack.archive.key)]) {
      expect(resources[id]?.DeletionPolicy, id).toBe('Retain');
      expect(resources[id]?.UpdateReplacePolicy, id).toBe('Retain');
    }
  });
});

describe('access log bucket', () => {
  it('uses SSE-S3 (S3 cannot deliver access logs to SSE-KMS), is versioned and keeps logs as configured', () => {
    const bucket = props(accessLogsBucketId);
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
      expect.objectContaining({ ExpirationInDays: synth.config.archive.accessLogRetentionDays }),
    );
  });

  it('keeps a deleted or overwritten log version as long as the log retention: a delete marker cannot shorten the trail', () => {
    // s3:DeleteObject is not denied: it only adds a delete marker, and the old version becomes
    // noncurrent. A shorter noncurrent expiry would turn that marker into a deferred version delete.
    const rules = (props(accessLogsBucketId).LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    for (const rule of rules) {
      const noncurrent = rule.NoncurrentVersionExpiration as { NoncurrentDays: number } | undefined;
      if (noncurrent)
        expect(noncurrent.NoncurrentDays).toBeGreaterThanOrEqual(synth.config.archive.accessLogRetentionDays);
    }
  });

  it('lets S3 logging deliver from the archive bucket only to its prefix', () => {
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: accessLogsBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [archiveBucketId, 'Arn'] } } }),
          }),
        ]),
      },
    });
  });
});

describe('archive bucket options', () => {
  it('adds Deep Archive when configured and honours COMPLIANCE mode', () => {
    // Prepare
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Options');
    // Act
    const archive = new ArchiveBucket(stack, 'Archive', {
      objectLockMode: 'COMPLIANCE',
      objectLockDays: 3650,
      infrequentAccessDays: 30,
      glacierInstantRetrievalDays: 120,
      deepArchiveDays: 400,
      accessLogRetentionDays: 400,
    });
    // Assess
    const bucket = Template.fromStack(stack).toJSON().Resources[logicalId(stack, archive.bucket)].Properties as Record<
      string,
      unknown
    >;
    expect(bucket.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3650 } },
    });
    expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
      expect.objectContaining({
        Transitions: [
          { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
          { StorageClass: 'GLACIER_IR', TransitionInDays: 120 },
          { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 400 },
        ],
      }),
    );
  });

  it('leaves out the noncurrent transition when versions expire within 30 days', () => {
    // Prepare
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'ShortLock');
    // Act
    new ArchiveBucket(stack, 'Archive', {
      objectLockMode: 'GOVERNANCE',
      objectLockDays: 7,
      allowWeakRetention: true,
      infrequentAccessDays: 30,
      glacierInstantRetrievalDays: 90,
      accessLogRetentionDays: 30,
    });
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            NoncurrentVersionTransitions: Match.absent(),
          }),
        ]),
      },
    });
  });
});

// -------------------------------------------------------------------------------------------
// Retention and the key

/** The CDK bootstrap's CloudFormation execution role, as the default synthesizer names it. */
const bootstrapExecRole = (qualifier: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/cdk-${qualifier}-cfn-exec-role-\${AWS::AccountId}-\${AWS::Region}`,
});
const BOOTSTRAP_EXEC_ROLE = bootstrapExecRole('hnb659fds');
const BREAK_GLASS = 'arn:aws:iam::123456789012:role/BreakGlass';
const DEPLOYER = 'arn:aws:iam::123456789012:role/Deployer';

const minimalConfig = (archive: unknown) => ({ alerts: { topicName: 'a' }, archive, vendors: {} });

function refusal(raw: unknown, mode: 'deploy' | 'local' = 'local'): string {
  try {
    parseConfig(raw, 'my-config.json', mode);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
}

const strongBucket: ArchiveBucketProps = {
  objectLockMode: 'COMPLIANCE',
  objectLockDays: 2557,
  infrequentAccessDays: 90,
  glacierInstantRetrievalDays: 365,
  accessLogRetentionDays: 365,
};

function archiveIn(stack: Stack, props: Partial<ArchiveBucketProps> = {}) {
  const archive = new ArchiveBucket(stack, 'Archive', { ...strongBucket, ...props });
  const template = Template.fromStack(stack);
  return { archive, template, resources: resourcesById(template) };
}

const newStack = (id: string, synthesizer?: DefaultStackSynthesizer) =>
  new Stack(new App({ context: cdkJsonContext() }), id, { synthesizer });

/** The Deny statements of a policy document that name `action`. */
const deniesOf = (document: unknown, action: string): Statement[] =>
  documentStatements(document).filter((s) => s.Effect === 'Deny' && asArray(s.Action).includes(action));

/** The bucket policy document of the bucket with logical id `bucketId`. */
function bucketPolicyOf(template: Template, bucketId: string): unknown {
  const found = resourcesOf(template, 'AWS::S3::BucketPolicy').filter(
    ([, p]) => render(p.Properties.Bucket) === `<${bucketId}>`,
  );
  expect(found, `bucket policy of ${bucketId}`).toHaveLength(1);
  return found[0]?.[1].Properties.PolicyDocument;
}

const exemptOf = (statement: Statement | undefined) => statement?.Condition?.ArnNotEquals?.['aws:PrincipalArn'];

describe('retention: compliance-grade by default', () => {
  it('defaults to COMPLIANCE for 2,557 days, and the example config deploys exactly that', () => {
    expect(parseConfig(minimalConfig(undefined), 'my-config.json', 'local').archive.objectLock).toEqual({
      mode: 'COMPLIANCE',
      days: 2557,
      allowWeakRetention: false,
    });
    expect(props(archiveBucketId).ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
    });
    expect(Annotations.fromStack(synth.stack).findWarning('*', Match.stringLikeRegexp('allowWeakRetention'))).toEqual(
      [],
    );
  });

  it('refuses GOVERNANCE, a retention under a year or a destroyable archive without the opt-in, naming the field', () => {
    expect(refusal(minimalConfig({ objectLock: { mode: 'GOVERNANCE' } }))).toMatch(
      /archive\.objectLock\.mode: expected COMPLIANCE .*archive\.objectLock\.allowWeakRetention: true.*; received GOVERNANCE/,
    );
    expect(refusal(minimalConfig({ objectLock: { mode: 'COMPLIANCE', days: 364 } }))).toMatch(
      /archive\.objectLock\.days: expected at least 365, .*allowWeakRetention.*; received 364/,
    );
    expect(refusal(minimalConfig({ removalPolicy: 'destroy' }))).toMatch(
      /archive\.removalPolicy: expected retain .*allowWeakRetention.*; received destroy/,
    );
  });

  it('never destroys a COMPLIANCE archive with the stack, opt-in or not', () => {
    const archive = { objectLock: { mode: 'COMPLIANCE', allowWeakRetention: true }, removalPolicy: 'destroy' };
    expect(refusal(minimalConfig(archive))).toMatch(
      /archive\.removalPolicy: expected retain with COMPLIANCE .*; received destroy/,
    );
    expect(() =>
      archiveIn(newStack('Doomed'), { removalPolicy: RemovalPolicy.DESTROY, allowWeakRetention: true }),
    ).toThrow(/DESTROY needs GOVERNANCE/);
  });

  it('accepts them with the opt-in', () => {
    const archive = { objectLock: { mode: 'GOVERNANCE', days: 1, allowWeakRetention: true }, removalPolicy: 'destroy' };
    const config = parseConfig(minimalConfig(archive), 'my-config.json', 'deploy');
    expect(config.archive.objectLock).toEqual({ mode: 'GOVERNANCE', days: 1, allowWeakRetention: true });
    expect(config.archive.removalPolicy).toBe('destroy');
  });

  it('requires a deploy config to name the mode, so a default never flips a deployed archive', () => {
    const unnamed = minimalConfig({ objectLock: { days: 2557 } });
    expect(refusal(unnamed, 'deploy')).toContain('archive.objectLock.mode: expected COMPLIANCE or GOVERNANCE');
    expect(refusal(minimalConfig(undefined), 'deploy')).toContain('archive.objectLock.mode');
    expect(parseConfig(unnamed, 'my-config.json', 'local').archive.objectLock.mode).toBe('COMPLIANCE');
  });

  it('the construct refuses weak retention without the opt-in, and warns at synth with it', () => {
    expect(() => archiveIn(newStack('Refused'), { objectLockMode: 'GOVERNANCE' })).toThrow(/allowWeakRetention/);
    expect(() => archiveIn(newStack('Short'), { objectLockDays: 30 })).toThrow(/allowWeakRetention/);
    const stack = newStack('OptedIn');
    archiveIn(stack, { objectLockMode: 'GOVERNANCE', objectLockDays: 30, allowWeakRetention: true });
    expect(
      Annotations.fromStack(stack).findWarning('/OptedIn/Archive', Match.stringLikeRegexp('GOVERNANCE for 30 days')),
    ).toHaveLength(1);
  });
});

describe('disposition (optional)', () => {
  it('expires current versions once their retention has ended, when configured', () => {
    const stack = newStack('Disposition');
    const { archive, resources: r } = archiveIn(stack, { disposeAfterDays: 2600 });
    const lifecycle = r[logicalId(stack, archive.bucket)]?.Properties.LifecycleConfiguration;
    const rules = (lifecycle as { Rules: unknown[] } | undefined)?.Rules;
    expect(rules).toContainEqual({ Id: 'Disposition', Status: 'Enabled', ExpirationInDays: 2600 });
  });

  it('is refused before the retention ends', () => {
    expect(refusal(minimalConfig({ objectLock: { mode: 'COMPLIANCE', disposeAfterDays: 2000 } }))).toContain(
      'archive.objectLock.disposeAfterDays: expected at least 2557',
    );
    expect(() => archiveIn(newStack('Early'), { disposeAfterDays: 2000 })).toThrow(/disposeAfterDays/);
  });
});

describe('archive key policy', () => {
  const keyPolicy = () => props(logicalId(synth.stack, synth.stack.archive.key)).KeyPolicy;

  it("keeps the account root's kms:* that the stack's grants rely on", () => {
    expect(documentStatements(keyPolicy())).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:*', Principal: { AWS: expect.anything() } }),
    );
  });

  it('denies disabling the key and scheduling its deletion to everyone, with no break-glass configured', () => {
    for (const action of KEY_BREAK_GLASS_ACTIONS) {
      const denies = deniesOf(keyPolicy(), action);
      expect(denies, action).toHaveLength(1);
      expect(denies[0]).toMatchObject({ Principal: { AWS: '*' }, Resource: '*' });
      expect(denies[0]?.Condition, action).toBeUndefined();
    }
  });

  it('denies changing the key policy to all but the deploying role (the CDK bootstrap execution role)', () => {
    const denies = deniesOf(keyPolicy(), 'kms:PutKeyPolicy');
    expect(denies).toHaveLength(1);
    expect(denies[0]).toMatchObject({ Principal: { AWS: '*' }, Resource: '*' });
    expect(exemptOf(denies[0])).toEqual([BOOTSTRAP_EXEC_ROLE]);
  });

  it('never bypasses the KMS lockout safety check', () => {
    for (const [id, key] of resourcesOf(synth.template, 'AWS::KMS::Key')) {
      expect(key.Properties.BypassPolicyLockoutSafetyCheck, id).toBeUndefined();
    }
  });

  it('exempts a configured break-glass principal and deploying role', () => {
    const { archive, resources: r } = archiveIn(newStack('BreakGlass'), {
      breakGlassPrincipalArn: BREAK_GLASS,
      deployRoleArn: DEPLOYER,
    });
    const policy = r[logicalId(archive.key.stack, archive.key)]?.Properties.KeyPolicy;
    for (const action of KEY_BREAK_GLASS_ACTIONS) expect(exemptOf(deniesOf(policy, action)[0])).toEqual([BREAK_GLASS]);
    expect(exemptOf(deniesOf(policy, 'kms:PutKeyPolicy')[0])).toEqual([DEPLOYER, BREAK_GLASS]);
  });

  it("takes the default deploying role from the stack synthesizer's qualifier", () => {
    const stack = newStack('Qualified', new DefaultStackSynthesizer({ qualifier: 'custom42' }));
    const { archive, resources: r } = archiveIn(stack);
    const policy = r[logicalId(stack, archive.key)]?.Properties.KeyPolicy;
    expect(exemptOf(deniesOf(policy, 'kms:PutKeyPolicy')[0])).toEqual([bootstrapExecRole('custom42')]);
  });
});

describe('bucket policy denies', () => {
  it('deny bypassing retention, deleting objects or versions and changing Object Lock or lifecycle on the archive and the access logs, to all but the deploying role', () => {
    // a plain delete's marker would hide a published report from the tables (attacker review)
    expect(BUCKET_GUARDED_ACTIONS).toEqual(expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion']));
    for (const bucketId of [archiveBucketId, accessLogsBucketId]) {
      const document = bucketPolicyOf(synth.template, bucketId);
      for (const action of BUCKET_GUARDED_ACTIONS) {
        const denies = deniesOf(document, action);
        expect(denies, `${bucketId} ${action}`).toHaveLength(1);
        expect(denies[0]?.Principal).toEqual({ AWS: '*' });
        expect(asArray(denies[0]?.Resource).map(render)).toEqual([`<${bucketId}.Arn>`, `<${bucketId}.Arn>/*`]);
        expect(exemptOf(denies[0])).toEqual([BOOTSTRAP_EXEC_ROLE]);
      }
    }
  });

  it('exempt a configured break-glass principal too', () => {
    const stack = newStack('BucketBreakGlass');
    const { archive, template } = archiveIn(stack, { breakGlassPrincipalArn: BREAK_GLASS, deployRoleArn: DEPLOYER });
    for (const bucket of [archive.bucket, archive.accessLogsBucket]) {
      const document = bucketPolicyOf(template, logicalId(stack, bucket));
      for (const action of BUCKET_GUARDED_ACTIONS) {
        expect(exemptOf(deniesOf(document, action)[0]), action).toEqual([DEPLOYER, BREAK_GLASS]);
      }
    }
  });
});

describe('legal hold deny', () => {
  const LEGAL = 'arn:aws:iam::123456789012:role/LegalHold';

  it('denies placing or lifting a legal hold on archived objects to all but the deploying role', () => {
    const denies = deniesOf(bucketPolicyOf(synth.template, archiveBucketId), 's3:PutObjectLegalHold');
    expect(LEGAL_HOLD_ACTIONS).toEqual(['s3:PutObjectLegalHold']);
    expect(denies).toHaveLength(1);
    expect(denies[0]?.Principal).toEqual({ AWS: '*' });
    expect(asArray(denies[0]?.Resource).map(render)).toEqual([`<${archiveBucketId}.Arn>/*`]);
    expect(exemptOf(denies[0])).toEqual([BOOTSTRAP_EXEC_ROLE]);
    // the access-log bucket has no Object Lock, so no legal hold to guard
    expect(deniesOf(bucketPolicyOf(synth.template, accessLogsBucketId), 's3:PutObjectLegalHold')).toEqual([]);
  });

  it('exempts break-glass and the configured legal-hold principals', () => {
    const stack = newStack('LegalHolders');
    const { archive, template } = archiveIn(stack, {
      breakGlassPrincipalArn: BREAK_GLASS,
      deployRoleArn: DEPLOYER,
      legalHoldPrincipalArns: [LEGAL],
    });
    const document = bucketPolicyOf(template, logicalId(stack, archive.bucket));
    expect(exemptOf(deniesOf(document, 's3:PutObjectLegalHold')[0])).toEqual([DEPLOYER, BREAK_GLASS, LEGAL]);
  });

  it('takes archive.legalHoldPrincipalArns (and archive.replication) from the deploy config, refusing what is not a role or user ARN', () => {
    // Prepare
    const raw = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'legal-hold-config-')), 'config.json');
    const replication = {
      destinationBucketArn: 'arn:aws:s3:::archive-replica',
      destinationKmsKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    };
    writeFileSync(
      file,
      JSON.stringify({ ...raw, archive: { ...raw.archive, legalHoldPrincipalArns: [LEGAL], replication } }),
    );
    const wrong = { ...raw, archive: { ...raw.archive, legalHoldPrincipalArns: ['LegalHold'] } };
    // Act
    const withHolders = synthExample(file);
    // Assess
    try {
      const bucketId = logicalId(withHolders.stack, withHolders.stack.archive.bucket);
      const denies = deniesOf(bucketPolicyOf(withHolders.template, bucketId), 's3:PutObjectLegalHold');
      expect(exemptOf(denies[0])).toEqual([BOOTSTRAP_EXEC_ROLE, LEGAL]);
      // and the replica, from the same config
      const bucket = resourcesById(withHolders.template)[bucketId]?.Properties as {
        ReplicationConfiguration?: { Rules: { Destination: { Bucket: unknown } }[] };
      };
      expect(bucket.ReplicationConfiguration?.Rules[0]?.Destination.Bucket).toBe(replication.destinationBucketArn);
    } finally {
      removeOutdir(withHolders.app);
    }
    expect(() => parseConfig(wrong, 'my-config.json', 'deploy')).toThrow(/legalHoldPrincipalArns/);
  });
});

describe('replication (optional)', () => {
  const REPLICA = 'arn:aws:s3:::archive-replica';
  const REPLICA_KEY = 'arn:aws:kms:eu-central-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('is off by default', () => {
    expect(props(archiveBucketId).ReplicationConfiguration).toBeUndefined();
  });

  it('replicates every new version, SSE-KMS included, to the replica under its key, never a delete marker', () => {
    // Act
    const stack = newStack('Replicated');
    const { archive, template } = archiveIn(stack, {
      replication: { destinationBucketArn: REPLICA, destinationKmsKeyArn: REPLICA_KEY },
    });
    // Assess
    const bucket = resourcesById(template)[logicalId(stack, archive.bucket)]?.Properties as {
      ReplicationConfiguration: { Role: unknown; Rules: unknown[] };
    };
    const roleId = logicalId(stack, archive.replicationRole as IConstruct);
    expect(render(bucket?.ReplicationConfiguration.Role)).toBe(`<${roleId}.Arn>`);
    expect(bucket?.ReplicationConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Destination: expect.objectContaining({
          Bucket: REPLICA,
          EncryptionConfiguration: { ReplicaKmsKeyID: REPLICA_KEY },
        }),
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        DeleteMarkerReplication: { Status: 'Disabled' },
      }),
    ]);
    const statements = roleStatements(template, roleId);
    const actions = statements.flatMap((st) => asArray(st.Action));
    expect(actions).toEqual(
      expect.arrayContaining(['s3:GetObjectRetention', 's3:GetObjectLegalHold', 's3:ReplicateObject']),
    );
    expect(actions).not.toContain('s3:ReplicateDelete');
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    const encrypt = statements.find((st) => asArray(st.Action).includes('kms:Encrypt'));
    expect(encrypt?.Resource).toBe(REPLICA_KEY);
    expect(encrypt?.Condition?.StringEquals?.['kms:ViaService']).toBe('s3.eu-central-1.amazonaws.com');
  });

  it('hands the replicas to the destination account when it is another one', () => {
    const stack = newStack('CrossAccount');
    const { archive, template } = archiveIn(stack, {
      replication: {
        destinationBucketArn: REPLICA,
        destinationKmsKeyArn: REPLICA_KEY,
        destinationAccountId: '210987654321',
      },
    });
    const bucket = resourcesById(template)[logicalId(stack, archive.bucket)]?.Properties as {
      ReplicationConfiguration: { Rules: { Destination: unknown }[] };
    };
    expect(bucket.ReplicationConfiguration.Rules[0]?.Destination).toMatchObject({
      Account: '210987654321',
      AccessControlTranslation: { Owner: 'Destination' },
    });
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    // Prepare
    const app = new App({ context: cdkJsonContext(), outdir: mkdtempSync(path.join(tmpdir(), 'replication-nag-')) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'ReplicatedNag');
    new ArchiveBucket(stack, 'Archive', {
      ...strongBucket,
      replication: { destinationBucketArn: REPLICA, destinationKmsKeyArn: REPLICA_KEY },
    });
    // Act: synth fails on any finding, those of this bare test stack included; the report says which
    try {
      app.synth();
    } catch {
      // read below
    }
    // Assess: only the findings on the replication role matter here
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    const onReplication = report.pluginReports
      .flatMap((r) => r.violations)
      .filter((v) => v.violatingConstructs.some((c) => c.constructPath.includes('Replication')))
      .map((v) => v.ruleName);
    expect(onReplication).toEqual([]);
    removeOutdir(app);
  });

  it('refuses a destination that is not a bucket ARN, or a key that is not a key ARN', () => {
    const base = { objectLock: { mode: 'COMPLIANCE' } };
    expect(
      refusal(
        minimalConfig({
          ...base,
          replication: { destinationBucketArn: 'archive-replica', destinationKmsKeyArn: REPLICA_KEY },
        }),
      ),
    ).toMatch(/destinationBucketArn.*expected an S3 bucket ARN/);
    expect(
      refusal(
        minimalConfig({
          ...base,
          replication: { destinationBucketArn: REPLICA, destinationKmsKeyArn: 'alias/replica' },
        }),
      ),
    ).toMatch(/destinationKmsKeyArn.*expected a KMS key ARN/);
  });
});

describe('archive key change alarm', () => {
  it('sends ScheduleKeyDeletion, DisableKey and PutKeyPolicy on the archive key, from CloudTrail, to the alert topic', () => {
    const keyId = logicalId(synth.stack, synth.stack.archive.key);
    const topicId = logicalId(synth.stack, synth.stack.alerts.topic);
    const rules = resourcesOf(synth.template, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes(keyId),
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties;
    expect(rule.EventPattern).toEqual({
      source: ['aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['kms.amazonaws.com'],
        eventName: [...WATCHED_KEY_CALLS],
        resources: { ARN: [{ 'Fn::GetAtt': [keyId, 'Arn'] }] },
      },
    });
    expect([...WATCHED_KEY_CALLS].sort()).toEqual(['DisableKey', 'PutKeyPolicy', 'ScheduleKeyDeletion']);
    const [target] = rule.Targets as { Arn: unknown; DeadLetterConfig: { Arn: unknown } }[];
    expect(target?.Arn).toEqual({ Ref: topicId });
    // an undeliverable notification lands in a dead-letter queue that has its own alarm
    const queueId = render(target?.DeadLetterConfig.Arn).replace(/^<(.*)\.Arn>$/, '$1');
    expect(resources[queueId]?.Type).toBe('AWS::SQS::Queue');
    const alarmed = resourcesOf(synth.template, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties.Dimensions).includes(queueId),
    );
    expect(alarmed).toHaveLength(1);
  });
});

describe('throwaway profile (config/throwaway.json)', () => {
  let throwaway: Synthesized;
  let r: Resources;
  beforeAll(() => {
    throwaway = synthExample(path.join(ROOT, 'config', 'throwaway.json'));
    r = resourcesById(throwaway.template);
  });
  afterAll(() => removeOutdir(throwaway.app));

  it('synthesizes GOVERNANCE for one day, with the opt-in and a synth warning', () => {
    const bucketId = logicalId(throwaway.stack, throwaway.stack.archive.bucket);
    expect(r[bucketId]?.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
    });
    expect(
      Annotations.fromStack(throwaway.stack).findWarning('*', Match.stringLikeRegexp('accepted by allowWeakRetention')),
    ).toHaveLength(1);
  });

  it('lets a stack delete remove buckets and key: emptied buckets, a key scheduled for deletion', () => {
    const { archive } = throwaway.stack;
    const keyId = logicalId(throwaway.stack, archive.key);
    for (const id of [
      logicalId(throwaway.stack, archive.bucket),
      logicalId(throwaway.stack, archive.accessLogsBucket),
      keyId,
    ]) {
      expect(r[id]?.DeletionPolicy, id).toBe('Delete');
    }
    expect(r[keyId]?.Properties.PendingWindowInDays).toBe(7);
    expect(resourcesOf(throwaway.template, 'Custom::S3AutoDeleteObjects')).toHaveLength(2);
    // CloudFormation (the deploying role) may schedule the key's deletion; nobody else
    for (const action of KEY_BREAK_GLASS_ACTIONS) {
      expect(exemptOf(deniesOf(r[keyId]?.Properties.KeyPolicy, action)[0])).toEqual([BOOTSTRAP_EXEC_ROLE]);
    }
    // the emptying function may delete versions; the denies stay for everyone else
    const [emptierRole] = resourcesOf(throwaway.template, 'AWS::IAM::Role').filter(([id]) =>
      id.startsWith('CustomS3AutoDeleteObjectsCustomResourceProviderRole'),
    );
    const document = bucketPolicyOf(throwaway.template, logicalId(throwaway.stack, archive.bucket));
    expect(exemptOf(deniesOf(document, 's3:DeleteObjectVersion')[0])).toEqual([
      BOOTSTRAP_EXEC_ROLE,
      { 'Fn::GetAtt': [emptierRole?.[0], 'Arn'] },
    ]);
  });
});

describe('catalog tables', () => {
  const tableNamed = (name: string) => {
    const found = resourcesOf(synth.template, 'AWS::Glue::Table')
      .map(([, t]) => t.Properties.TableInput as TableInput)
      .filter((t) => t.Name === name);
    expect(found, `table ${name}`).toHaveLength(1);
    return found[0]!;
  };

  it('has one objects table per registered report, whatever the config enables, partitioned by date only', () => {
    expect(definitions.length).toBeGreaterThan(0);
    for (const connector of definitions) {
      const vendor = connector.vendor;
      for (const report of connector.reports) {
        const reportName = report.name;
        const definition = reportTable(vendor, report);
        const table = tableNamed(objectsTableName(definition.name));
        expect(table.Parameters).toMatchObject({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${PROJECTION_START_DATE},NOW`,
        });
        expect(Object.keys(table.Parameters).filter((k) => k.includes('tenant'))).toEqual([]);
        expect(render(table.Parameters['storage.location.template'])).toBe(
          `s3://<${archiveBucketId}>/data/vendor=${vendor}/report=${reportName}/dt=\${dt}/`,
        );
        expect(render(table.StorageDescriptor.Location)).toBe(
          `s3://<${archiveBucketId}>/data/vendor=${vendor}/report=${reportName}/`,
        );
        expect(table.StorageDescriptor.Columns).toEqual(
          definition.columns.map((c) => ({
            Name: c.name,
            Type: c.glueType,
            ...(c.comment ? { Comment: c.comment } : {}),
          })),
        );
        expect(table.PartitionKeys.map((k) => [k.Name, k.Type])).toEqual([['dt', 'string']]);
      }
    }
  });

  it('reads JSON by column name and fails on malformed lines', () => {
    const tables = resourcesOf(synth.template, 'AWS::Glue::Table').filter(
      ([, t]) => (t.Properties.TableInput as { TableType: string }).TableType === 'EXTERNAL_TABLE',
    );
    expect(tables.length).toBeGreaterThan(1);
    for (const [, table] of tables) {
      const descriptor = (table.Properties.TableInput as TableInput).StorageDescriptor;
      expect(descriptor).toMatchObject({
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        SerdeInfo: {
          SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
          Parameters: { 'ignore.malformed.json': 'FALSE' },
        },
      });
    }
  });

  it('has the manifest table over every registered vendor and report, with the tenant a column', () => {
    const vendorIds = definitions.map((d) => d.vendor);
    const reports = [...new Set(definitions.flatMap((d) => d.reports.map((r) => r.name)))].sort();
    const definition = manifestTable(vendorIds, reports);
    const table = tableNamed('report_manifests');
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.vendor.type': 'enum',
      'projection.vendor.values': vendorIds.join(','),
      'projection.report.values': reports.join(','),
      'projection.dt.type': 'date',
      'projection.dt.range': `${PROJECTION_START_DATE},NOW`,
    });
    expect(Object.keys(table.Parameters).filter((k) => k.includes('tenant'))).toEqual([]);
    expect(render(table.Parameters['storage.location.template'])).toBe(
      `s3://<${archiveBucketId}>/manifests/vendor=\${vendor}/report=\${report}/dt=\${dt}/`,
    );
    expect(definition.columns.map((c) => c.name)).toContain('tenant');
    expect(table.StorageDescriptor.Columns.map((c) => [c.Name, c.Type])).toEqual(
      definition.columns.map((c) => [c.name, c.glueType]),
    );
  });

  it('lives in the configured database', () => {
    synth.template.hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: synth.config.catalog.databaseName },
    });
    for (const [, table] of resourcesOf(synth.template, 'AWS::Glue::Table')) {
      expect(render(table.Properties?.DatabaseName)).toBe(`<${logicalId(synth.stack, synth.stack.catalog.database)}>`);
    }
  });
});

describe('athena workgroup', () => {
  it('enforces its configuration: SSE-KMS results in the results bucket, a scan cutoff, automatic engine version', () => {
    const resultsKeyId = logicalId(synth.stack, synth.stack.catalog.resultsKey);
    const resultsBucketId = logicalId(synth.stack, synth.stack.catalog.resultsBucket);
    const [, workgroup] = resourcesOf(synth.template, 'AWS::Athena::WorkGroup')[0]!;
    const configuration = workgroup.Properties.WorkGroupConfiguration as WorkGroupConfiguration;
    expect(workgroup.Properties?.Name).toBe(synth.config.catalog.workgroupName);
    expect(configuration.EnforceWorkGroupConfiguration).toBe(true);
    expect(configuration.BytesScannedCutoffPerQuery).toBeGreaterThanOrEqual(10_000_000);
    expect(configuration.EngineVersion).toEqual({ SelectedEngineVersion: 'AUTO' });
    expect(configuration.ResultConfiguration.EncryptionConfiguration).toEqual({
      EncryptionOption: 'SSE_KMS',
      KmsKey: { 'Fn::GetAtt': [resultsKeyId, 'Arn'] },
    });
    expect(render(configuration.ResultConfiguration.OutputLocation)).toBe(`s3://<${resultsBucketId}>/results/`);
  });

  it('keeps results in a KMS-encrypted bucket that expires them', () => {
    const results = props(logicalId(synth.stack, synth.stack.catalog.resultsBucket));
    expect(JSON.stringify(results.BucketEncryption)).toContain('aws:kms');
    expect((results.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
      expect.objectContaining({ ExpirationInDays: expect.any(Number) }),
    );
  });

  it("saves every enabled connector's queries in the catalog database and this workgroup", () => {
    const workgroupId = logicalId(synth.stack, synth.stack.catalog.workgroup);
    const databaseId = logicalId(synth.stack, synth.stack.catalog.database);
    const expected = [
      ...archiveQueries,
      ...enabledVendors(synth.config).flatMap(([vendor]) => definitionFor(vendor).queries),
    ];
    expect(expected.length).toBeGreaterThan(0);
    for (const query of expected) {
      synth.template.hasResourceProperties('AWS::Athena::NamedQuery', {
        Name: query.name,
        QueryString: query.sql,
        Database: { Ref: databaseId },
        WorkGroup: { Ref: workgroupId },
      });
    }
    expect(resourcesOf(synth.template, 'AWS::Athena::NamedQuery')).toHaveLength(expected.length);
  });
});
