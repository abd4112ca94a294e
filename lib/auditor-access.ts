/**
 * What an auditor needs to query the archive with Athena, and nothing else.
 *
 * 1. A customer-managed policy: run, read and stop queries in the one workgroup (and read its
 *    settings); the Glue catalog's Get calls on the catalog, the database and its tables and
 *    views; list and read the archive, decrypting with its key; list, read and write the query
 *    results bucket, with decrypt and data keys of the results key. No other action, and no
 *    write, delete or legal hold on the archive.
 * 2. Optionally, a role that the configured principals may assume, carrying that policy. Without
 *    it, attach the policy to the auditors' own role or group (its ARN is a stack output).
 *
 * KMS is granted through S3 only (`kms:ViaService`): Athena reads the archive and writes results
 * through S3 with the caller's credentials, and S3 asks KMS for the decrypt and the data key.
 * Neither bucket policy nor the key policy restricts reads to named principals (they deny only
 * deletes, retention and policy changes, and plain HTTP), so the policy is enough on its own.
 */
import { Stack } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag.ts';

/** The Athena calls one query needs: start it, wait for it, page its results, cancel it. */
export const AUDITOR_ATHENA_ACTIONS = [
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:GetWorkGroup',
  'athena:StartQueryExecution',
  'athena:StopQueryExecution',
] as const;

/** Athena plans a query from the catalog: the database, its tables and views, their partitions. */
export const AUDITOR_GLUE_ACTIONS = [
  'glue:GetDatabase',
  'glue:GetDatabases',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:GetTable',
  'glue:GetTables',
] as const;

export interface AuditorAccessProps {
  /** the workgroup queries run in (its result location and encryption are enforced) */
  readonly workgroup: athena.CfnWorkGroup;
  /** the Glue database of the report tables and views */
  readonly database: glue.IDatabase;
  /** the archive the tables read */
  readonly archiveBucket: s3.IBucket;
  /** the key that encrypts the archive */
  readonly archiveKey: kms.IKey;
  /** the workgroup's result location */
  readonly resultsBucket: s3.IBucket;
  /** the key that encrypts the query results */
  readonly resultsKey: kms.IKey;
  /**
   * Principals (role or user ARNs) that may assume an auditor role carrying the policy.
   * @default - no role: attach the policy to the auditors' own identities
   */
  readonly principalArns?: readonly string[];
}

export class AuditorAccess extends Construct {
  /** the policy to attach to an auditor's role, user or group */
  public readonly policy: iam.ManagedPolicy;
  /** the role the configured principals assume, when there are any */
  public readonly role?: iam.Role;

  constructor(scope: Construct, id: string, props: AuditorAccessProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Query the identity report archive with Athena: its workgroup, catalog, archive (read) and results',
      statements: auditorStatements(this, props),
    });
    this.acknowledgeWildcards(props);
    if (props.principalArns && props.principalArns.length > 0) {
      this.role = new iam.Role(this, 'Role', {
        description: 'Auditors: query the identity report archive with Athena (read only)',
        assumedBy: new iam.CompositePrincipal(...props.principalArns.map((arn) => new iam.ArnPrincipal(arn))),
        managedPolicies: [this.policy],
      });
    }
  }

  /** Object keys and table names are not known in advance; each wildcard stays inside one bucket or database. */
  private acknowledgeWildcards(props: AuditorAccessProps): void {
    const reasons: [string, string][] = [
      [
        props.archiveBucket.arnForObjects('*'),
        'an auditor reads any archived report, original, manifest or outcome record, whose keys hold dates and tenants; s3:GetObject only, no write, delete or legal hold',
      ],
      [
        props.resultsBucket.arnForObjects('*'),
        "Athena writes each query's results under a key of its own (the query id) in the results bucket, which holds nothing but query results",
      ],
      [
        tablesArn(this, props.database),
        "every table and view of the archive's one Glue database (connectors add them with reports); Glue Get calls only",
      ],
    ];
    for (const [resource, reason] of reasons) {
      acknowledge(this.policy, wildcardResourceFinding(this, resource), reason);
    }
  }
}

function tablesArn(scope: Construct, database: glue.IDatabase): string {
  return Stack.of(scope).formatArn({ service: 'glue', resource: 'table', resourceName: `${database.databaseName}/*` });
}

/** SSE-KMS through S3 only. */
function viaS3(scope: Construct): Record<string, Record<string, string>> {
  return { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } };
}

function auditorStatements(scope: Construct, props: AuditorAccessProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const workgroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workgroup.ref });
  const { archiveBucket, resultsBucket } = props;
  return [
    new iam.PolicyStatement({
      sid: 'QueryInWorkgroup',
      actions: [...AUDITOR_ATHENA_ACTIONS],
      resources: [workgroupArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadCatalog',
      actions: [...AUDITOR_GLUE_ACTIONS],
      resources: [props.database.catalog.catalogArn, props.database.databaseArn, tablesArn(scope, props.database)],
    }),
    new iam.PolicyStatement({
      sid: 'ListArchive',
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resources: [archiveBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadArchive',
      actions: ['s3:GetObject'],
      resources: [archiveBucket.arnForObjects('*')],
    }),
    new iam.PolicyStatement({
      sid: 'DecryptArchive',
      actions: ['kms:Decrypt'],
      resources: [props.archiveKey.keyArn],
      conditions: viaS3(scope),
    }),
    new iam.PolicyStatement({
      sid: 'ListResults',
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resources: [resultsBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'WriteResults',
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      resources: [resultsBucket.arnForObjects('*')],
    }),
    new iam.PolicyStatement({
      sid: 'EncryptResults',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [props.resultsKey.keyArn],
      conditions: viaS3(scope),
    }),
  ];
}
