/**
 * The auditor policy, read from the synthesized template: exactly the actions an Athena query
 * needs on each resource, no wildcard action, nothing that writes to the archive; no deny of the
 * buckets or keys stands in its way; the optional role carries it for the configured principals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDITOR_POLICY_OUTPUT, AUDITOR_ROLE_OUTPUT } from '../../lib/outputs.ts';
import {
  asArray,
  documentStatements,
  logicalId,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  type Statement,
  type Synthesized,
  synthExample,
  synthWithCatalog,
} from './support.ts';

const AUDITORS = ['arn:aws:iam::123456789012:role/Auditors', 'arn:aws:iam::210987654321:user/external-auditor'];

let plain: Synthesized;
let withRole: Synthesized;

beforeAll(() => {
  plain = synthExample();
  withRole = synthWithCatalog({ auditorPrincipalArns: AUDITORS });
});

afterAll(() => {
  removeOutdir(plain?.app);
  removeOutdir(withRole?.app);
});

function policyStatements(synth: Synthesized): Statement[] {
  const id = logicalId(synth.stack, synth.stack.auditorAccess.policy);
  const policy = resourcesById(synth.template)[id];
  expect(policy?.Type).toBe('AWS::IAM::ManagedPolicy');
  return documentStatements(policy?.Properties.PolicyDocument);
}

/** Rendered resource → sorted actions allowed on it, over every statement. */
function actionsByResource(statements: readonly Statement[]): Record<string, string[]> {
  const byResource: Record<string, Set<string>> = {};
  for (const statement of statements) {
    expect(statement.Effect).toBe('Allow');
    for (const resource of asArray(statement.Resource as unknown)) {
      const key = render(resource);
      byResource[key] = new Set([...(byResource[key] ?? []), ...asArray(statement.Action)]);
    }
  }
  return Object.fromEntries(Object.entries(byResource).map(([resource, set]) => [resource, [...set].sort()]));
}

describe('auditor policy', () => {
  it('allows exactly the query calls, catalog reads, archive reads and results writes, per resource', () => {
    // Prepare
    const id = (construct: Parameters<typeof logicalId>[1]) => logicalId(plain.stack, construct);
    const { archive, catalog } = plain.stack;
    const glue = 'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>';
    const glueGets = [
      'glue:GetDatabase',
      'glue:GetDatabases',
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:GetTable',
      'glue:GetTables',
    ];

    // Act
    const granted = actionsByResource(policyStatements(plain));

    // Assess
    expect(granted).toEqual({
      [`arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/<${id(catalog.workgroup)}>`]: [
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:GetWorkGroup',
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
      ],
      [`${glue}:catalog`]: glueGets,
      [`${glue}:database/<${id(catalog.database)}>`]: glueGets,
      [`${glue}:table/<${id(catalog.database)}>/*`]: glueGets,
      [`<${id(archive.bucket)}.Arn>`]: ['s3:GetBucketLocation', 's3:ListBucket'],
      [`<${id(archive.bucket)}.Arn>/*`]: ['s3:GetObject'],
      [`<${id(archive.key)}.Arn>`]: ['kms:Decrypt'],
      [`<${id(catalog.resultsBucket)}.Arn>`]: ['s3:GetBucketLocation', 's3:ListBucket'],
      [`<${id(catalog.resultsBucket)}.Arn>/*`]: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      [`<${id(catalog.resultsKey)}.Arn>`]: ['kms:Decrypt', 'kms:GenerateDataKey'],
    });
  });

  it('names every action in full: no wildcard, no NotAction, no NotResource', () => {
    for (const statement of policyStatements(plain)) {
      for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
      expect(Object.keys(statement)).not.toContain('NotAction');
      expect(Object.keys(statement)).not.toContain('NotResource');
    }
  });

  it('uses both keys only through S3', () => {
    const kms = policyStatements(plain).filter((s) => asArray(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(2);
    for (const statement of kms) {
      expect(render(statement.Condition?.StringEquals?.['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
    }
  });

  it('is a stack output', () => {
    const outputs = plain.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs[AUDITOR_POLICY_OUTPUT]?.Value).toEqual({
      Ref: logicalId(plain.stack, plain.stack.auditorAccess.policy),
    });
  });
});

/** Whether an action pattern of a policy (`s3:*`, `kms:Decrypt`) matches an action. */
function matches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return regex.test(action);
}

/** A deny of plain HTTP or old TLS only (Athena and the SDKs use TLS 1.2 or later). */
function onlyTransport(deny: Statement): boolean {
  const keys = Object.values(deny.Condition ?? {}).flatMap((operator) => Object.keys(operator));
  return keys.length > 0 && keys.every((key) => key === 'aws:SecureTransport' || key === 's3:TlsVersion');
}

describe('resource policies', () => {
  it('deny the auditor nothing it needs, except plain HTTP and TLS before 1.2', () => {
    // Prepare
    const resources = resourcesById(plain.template);
    const { archive, catalog } = plain.stack;
    const auditorActions = policyStatements(plain).flatMap((s) => asArray(s.Action));
    const bucketPolicies = resourcesOf(plain.template, 'AWS::S3::BucketPolicy').filter(([, policy]) =>
      [archive.bucket, catalog.resultsBucket].some(
        (bucket) => render(policy.Properties.Bucket) === `<${logicalId(plain.stack, bucket)}>`,
      ),
    );
    const keyPolicies = [archive.key, catalog.resultsKey].map(
      (key) => resources[logicalId(plain.stack, key)]?.Properties.KeyPolicy,
    );
    const denies = [...bucketPolicies.map(([, p]) => p.Properties.PolicyDocument), ...keyPolicies]
      .flatMap(documentStatements)
      .filter((s) => s.Effect === 'Deny');

    // Act
    const inTheWay = denies.filter(
      (deny) =>
        asArray(deny.Action).some((pattern) => auditorActions.some((action) => matches(pattern, action))) &&
        !onlyTransport(deny),
    );

    // Assess
    expect(bucketPolicies).toHaveLength(2);
    expect(denies.length).toBeGreaterThan(0);
    expect(inTheWay).toEqual([]);
  });
});

describe('auditor role', () => {
  it('is only made when the config names auditors', () => {
    expect(plain.stack.auditorAccess.role).toBeUndefined();
    expect(Object.keys(plain.template.toJSON().Outputs)).not.toContain(AUDITOR_ROLE_OUTPUT);
  });

  it('may be assumed by exactly the configured principals, and carries the policy alone', () => {
    // Prepare
    const role = withRole.stack.auditorAccess.role;
    expect(role).toBeDefined();
    const roleId = logicalId(withRole.stack, role!);
    const properties = resourcesById(withRole.template)[roleId]?.Properties ?? {};

    // Act
    const trust = documentStatements(properties.AssumeRolePolicyDocument);

    // Assess
    expect(trust).toHaveLength(1);
    expect(trust[0]?.Action).toBe('sts:AssumeRole');
    const principal = trust[0]?.Principal as { AWS: string | string[] } | undefined;
    expect(asArray(principal?.AWS).sort()).toEqual([...AUDITORS].sort());
    expect(properties.ManagedPolicyArns).toEqual([
      { Ref: logicalId(withRole.stack, withRole.stack.auditorAccess.policy) },
    ]);
    expect(properties.Policies).toBeUndefined();
    const outputs = withRole.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs[AUDITOR_ROLE_OUTPUT]?.Value).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  it('refuses an auditor that is not an IAM role or user ARN, naming the field', () => {
    expect(() => synthWithCatalog({ auditorPrincipalArns: ['auditors'] })).toThrow(
      /catalog\.auditorPrincipalArns\[0\]: expected an IAM role or user ARN/,
    );
  });
});
