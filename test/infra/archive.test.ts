/**
 * The archive bucket and the catalog: encryption, public access, TLS, versioning, Object Lock,
 * lifecycle, access logs, EventBridge, and the Glue / Athena side built from the connectors.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { manifestTable, PROJECTION_START_DATE, reportTable } from '../../lambdas/core/tables.ts';
import { ArchiveBucket } from '../../lib/archive-bucket.ts';
import { enabledVendors } from '../../lib/config.ts';
import {
  cdkJsonContext,
  documentStatements,
  logicalId,
  type Resources,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
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

describe('catalog tables', () => {
  const tableNamed = (name: string) => {
    const found = resourcesOf(synth.template, 'AWS::Glue::Table')
      .map(([, t]) => t.Properties.TableInput as TableInput)
      .filter((t) => t.Name === name);
    expect(found, `table ${name}`).toHaveLength(1);
    return found[0]!;
  };

  it('has one table per enabled vendor report, with projected partitions and its location template', () => {
    const vendors = enabledVendors(synth.config);
    expect(vendors.length).toBeGreaterThan(0);
    for (const [vendor, section] of vendors) {
      const tenants = section.tenants.map((t) => t.id);
      for (const reportName of section.reports as string[]) {
        const report = definitionFor(vendor).reports.find((r) => r.name === reportName);
        expect(report, `${vendor}/${reportName}`).toBeDefined();
        const definition = reportTable(vendor, report!, tenants);
        const table = tableNamed(definition.name);
        expect(table.Parameters).toMatchObject({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${PROJECTION_START_DATE},NOW`,
          'projection.tenant.type': 'enum',
          'projection.tenant.values': tenants.join(','),
        });
        expect(render(table.Parameters['storage.location.template'])).toBe(
          `s3://<${archiveBucketId}>/data/vendor=${vendor}/report=${reportName}/dt=\${dt}/tenant=\${tenant}/`,
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
        expect(table.PartitionKeys.map((k) => [k.Name, k.Type])).toEqual([
          ['dt', 'string'],
          ['tenant', 'string'],
        ]);
      }
    }
  });

  it('reads JSON by column name and fails on malformed lines', () => {
    const tables = resourcesOf(synth.template, 'AWS::Glue::Table');
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

  it('has the manifest table over every vendor, report and tenant', () => {
    const vendors = enabledVendors(synth.config);
    const vendorIds = vendors.map(([v]) => v).sort();
    const reports = [...new Set(vendors.flatMap(([, s]) => s.reports as string[]))].sort();
    const tenants = [...new Set(vendors.flatMap(([, s]) => s.tenants.map((t) => t.id)))].sort();
    const definition = manifestTable(vendorIds, reports, tenants);
    const table = tableNamed('report_manifests');
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.vendor.type': 'enum',
      'projection.vendor.values': vendorIds.join(','),
      'projection.report.values': reports.join(','),
      'projection.tenant.values': tenants.join(','),
      'projection.dt.type': 'date',
      'projection.dt.range': `${PROJECTION_START_DATE},NOW`,
    });
    expect(render(table.Parameters['storage.location.template'])).toBe(
      `s3://<${archiveBucketId}>/manifests/vendor=\${vendor}/report=\${report}/dt=\${dt}/tenant=\${tenant}/`,
    );
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
    const expected = enabledVendors(synth.config).flatMap(([vendor]) =>
      definitionFor(vendor).queries.map((q) => ({ vendor, ...q })),
    );
    expect(expected.length).toBeGreaterThan(0);
    for (const query of expected) {
      synth.template.hasResourceProperties('AWS::Athena::NamedQuery', {
        Name: `${query.vendor}-${query.name}`,
        QueryString: query.sql,
        Database: { Ref: databaseId },
        WorkGroup: { Ref: workgroupId },
      });
    }
    expect(resourcesOf(synth.template, 'AWS::Athena::NamedQuery')).toHaveLength(expected.length);
  });
});
