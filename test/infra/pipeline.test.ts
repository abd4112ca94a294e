/**
 * The vendor pipelines: function defaults, the state machine (the shared definition, logs,
 * tracing, timeout), the schedule, and least-privilege grants.
 */
import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_FUNCTION_SIZING,
  FunctionSizingSchema,
  TenantBaseSchema,
  vendorSectionSchema,
} from '../../lambdas/core/settings.ts';
import { HandlerEnvironmentSchema } from '../../lambdas/handlers/env.ts';
import { enabledVendors } from '../../lib/config.ts';
import { ARCHIVE_BUCKET_OUTPUT, DATABASE_OUTPUT, stateMachineOutputKey, WORKGROUP_OUTPUT } from '../../lib/outputs.ts';
import { MAX_TENANT_SECRETS } from '../../lib/pipeline/pipeline-functions.ts';
import type { ReportFunction } from '../../lib/report-function.ts';
import { type PipelineSection, PipelineSectionSchema, VendorPipeline } from '../../lib/vendor-pipeline.ts';
import * as backfill from '../../scripts/backfill/stack.ts';
import { executionTimeoutSeconds, reportPipelineDefinition } from '../../state-machines/report-pipeline.ts';
import {
  asArray,
  logicalId,
  type Resources,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  roleStatements,
  type Statement,
  type Synthesized,
  statementsFor,
  synthExample,
  testApp,
} from './support.ts';

let synth: Synthesized;
let resources: Resources;

beforeAll(() => {
  synth = synthExample();
  resources = resourcesById(synth.template);
});

afterAll(() => removeOutdir(synth.app));

const props = (id: string) => resources[id]?.Properties ?? {};
const pipelines = () => synth.stack.pipelines;
const sectionOf = (vendor: string) => {
  const found = enabledVendors(synth.config).find(([v]) => v === vendor);
  if (!found) throw new Error(`vendor ${vendor} is not enabled in the test config`);
  return PipelineSectionSchema.parse(found[1]);
};
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => asArray(s.Action));
const renderedResources = (statements: Statement[]) =>
  statements.flatMap((s) => asArray(s.Resource as unknown[])).map(render);

describe('pipelines', () => {
  it('exist once per enabled vendor', () => {
    expect(pipelines().map((p) => p.vendor)).toEqual(enabledVendors(synth.config).map(([v]) => v));
    expect(resourcesOf(synth.template, 'AWS::StepFunctions::StateMachine')).toHaveLength(pipelines().length);
    // one schedule per pipeline, the daily manifest digest's and the hourly freshness check's
    expect(resourcesOf(synth.template, 'AWS::Scheduler::Schedule')).toHaveLength(pipelines().length + 2);
  });
});

describe('functions', () => {
  it('run Node.js 22 on arm64 with JSON logs to their own log group, active tracing and explicit sizing', () => {
    for (const pipeline of pipelines()) {
      for (const fn of pipeline.functions) {
        const p = props(logicalId(synth.stack, fn.function));
        expect(p.Runtime).toBe('nodejs22.x');
        expect(p.Architectures).toEqual(['arm64']);
        expect(p.TracingConfig).toEqual({ Mode: 'Active' });
        expect(p.LoggingConfig).toMatchObject({
          LogFormat: 'JSON',
          LogGroup: { Ref: logicalId(synth.stack, fn.logGroup) },
        });
        expect(p.MemorySize).toEqual(expect.any(Number));
        expect(p.Timeout).toEqual(expect.any(Number));
        expect(props(logicalId(synth.stack, fn.logGroup)).RetentionInDays).toEqual(expect.any(Number));
      }
    }
  });

  it('size the archive step for one vCPU, 15 minutes and 10 GB of /tmp', () => {
    for (const pipeline of pipelines()) {
      expect(props(logicalId(synth.stack, pipeline.archiveReport.function))).toMatchObject({
        MemorySize: 1769,
        Timeout: 900,
        EphemeralStorage: { Size: 10240 },
      });
    }
  });

  it("get the environment the handlers' schema accepts", () => {
    for (const pipeline of pipelines()) {
      for (const fn of pipeline.functions) {
        const variables = (props(logicalId(synth.stack, fn.function)).Environment as { Variables: object }).Variables;
        const environment = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, render(v)]));
        const parsed = HandlerEnvironmentSchema.safeParse(environment);
        expect(parsed.error?.issues ?? []).toEqual([]);
        expect(parsed.data?.VENDOR).toBe(pipeline.vendor);
        expect(environment.ARCHIVE_BUCKET).toBe(`<${logicalId(synth.stack, synth.stack.archive.bucket)}>`);
        expect(parsed.data?.MAX_DOWNLOAD_BYTES).toBe(synth.config.archive.maxDownloadBytes);
        // source maps, and the young generation the benchmark measured
        expect(environment.NODE_OPTIONS?.split(' ')).toEqual(['--enable-source-maps', '--max-semi-space-size=4']);
      }
    }
  });

  it('have roles of their own without managed policies', () => {
    const roles = new Set<string>();
    for (const pipeline of pipelines()) {
      for (const fn of pipeline.functions) {
        const roleId = logicalId(synth.stack, fn.role);
        roles.add(roleId);
        expect(props(roleId).ManagedPolicyArns).toBeUndefined();
      }
    }
    expect(roles.size).toBe(pipelines().length * 5);
  });
});

describe('state machines', () => {
  it('run the shared definition, with the function ARNs and event bus substituted', () => {
    for (const pipeline of pipelines()) {
      const p = props(logicalId(synth.stack, pipeline.stateMachine));
      const variable = (name: string) => `\${${name}}`;
      const expected = reportPipelineDefinition({
        vendor: pipeline.vendor,
        section: sectionOf(pipeline.vendor),
        eventSource: synth.config.events.source,
        eventBusName: variable('EventBusName'),
        functionArns: {
          PlanRun: variable('PlanRunFunctionArn'),
          StartJob: variable('StartJobFunctionArn'),
          CheckJob: variable('CheckJobFunctionArn'),
          ArchiveReport: variable('ArchiveReportFunctionArn'),
          RecordOutcome: variable('RecordOutcomeFunctionArn'),
        },
      });
      expect(JSON.parse(p.DefinitionString as string)).toEqual(expected);
      expect(p.DefinitionSubstitutions).toEqual({
        PlanRunFunctionArn: { 'Fn::GetAtt': [logicalId(synth.stack, pipeline.planRun.function), 'Arn'] },
        StartJobFunctionArn: { 'Fn::GetAtt': [logicalId(synth.stack, pipeline.startJob.function), 'Arn'] },
        CheckJobFunctionArn: { 'Fn::GetAtt': [logicalId(synth.stack, pipeline.checkJob.function), 'Arn'] },
        ArchiveReportFunctionArn: { 'Fn::GetAtt': [logicalId(synth.stack, pipeline.archiveReport.function), 'Arn'] },
        RecordOutcomeFunctionArn: { 'Fn::GetAtt': [logicalId(synth.stack, pipeline.recordOutcome.function), 'Arn'] },
        EventBusName: 'default',
      });
    }
  });

  it('are STANDARD, traced, bounded by the timeout and log ALL events with execution data to their own group', () => {
    for (const pipeline of pipelines()) {
      const p = props(logicalId(synth.stack, pipeline.stateMachine));
      const logGroupId = logicalId(synth.stack, pipeline.stateMachineLogGroup);
      expect(p.StateMachineType).toBe('STANDARD');
      expect(p.TracingConfiguration).toEqual({ Enabled: true });
      expect(JSON.parse(p.DefinitionString as string).TimeoutSeconds).toBe(
        executionTimeoutSeconds(sectionOf(pipeline.vendor)),
      );
      expect(p.LoggingConfiguration).toEqual({
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      });
      expect(props(logGroupId).RetentionInDays).toEqual(expect.any(Number));
      const functionLogGroups = pipeline.functions.map((fn) => logicalId(synth.stack, fn.logGroup));
      expect(functionLogGroups).not.toContain(logGroupId);
    }
  });

  it("give each function a timeout shorter than its Task's, so a timeout surfaces as the function's error", () => {
    const tasks = (states: Record<string, Record<string, unknown>>): Record<string, unknown>[] =>
      Object.values(states).flatMap((state) => [
        ...(state.Type === 'Task' ? [state] : []),
        ...(state.ItemProcessor ? tasks((state.ItemProcessor as { States: typeof states }).States) : []),
      ]);
    for (const pipeline of pipelines()) {
      const p = props(logicalId(synth.stack, pipeline.stateMachine));
      const substitutions = p.DefinitionSubstitutions as Record<string, unknown>;
      const lambdaTasks = tasks(JSON.parse(p.DefinitionString as string).States).filter(
        (t) => t.Resource === 'arn:aws:states:::lambda:invoke',
      );
      expect(lambdaTasks.length).toBeGreaterThanOrEqual(5);
      for (const task of lambdaTasks) {
        const variable = String((task.Parameters as { FunctionName: string }).FunctionName).replace(
          /^\$\{(.*)\}$/,
          '$1',
        );
        const functionId = render(substitutions[variable]).replace(/^<(.*)\.Arn>$/, '$1');
        expect(task.TimeoutSeconds, variable).toEqual(expect.any(Number));
        expect(props(functionId).Timeout as number, variable).toBeLessThan(task.TimeoutSeconds as number);
      }
    }
  });

  it('may invoke exactly their five functions and put events on the default bus', () => {
    for (const pipeline of pipelines()) {
      const statements = roleStatements(synth.template, logicalId(synth.stack, pipeline.stateMachine.role));
      const invoke = statements.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
      const functionIds = pipeline.functions.map((fn) => logicalId(synth.stack, fn.function));
      expect(new Set(renderedResources(invoke))).toEqual(
        new Set(functionIds.flatMap((id) => [`<${id}.Arn>`, `<${id}.Arn>:*`])),
      );
      const putEvents = statementsFor(statements, 'events');
      expect(actionsOf(putEvents)).toEqual(['events:PutEvents']);
      expect(renderedResources(putEvents)).toEqual([
        'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default',
      ]);
    }
  });

  it('use "*" only for log delivery and X-Ray, which have no resource-level permissions', () => {
    const allowed =
      /^(logs:(Create|Get|Update|Delete)LogDelivery|logs:ListLogDeliveries|logs:PutResourcePolicy|logs:DescribeResourcePolicies|logs:DescribeLogGroups|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets))$/;
    for (const pipeline of pipelines()) {
      const statements = roleStatements(synth.template, logicalId(synth.stack, pipeline.stateMachine.role));
      const star = statements.filter((s) => asArray(s.Resource as unknown[]).includes('*'));
      expect(actionsOf(star).filter((a) => !allowed.test(a))).toEqual([]);
    }
  });
});

describe('schedules', () => {
  it('start the state machine with the scheduled time, at the configured time, with no flexible window', () => {
    for (const pipeline of pipelines()) {
      const section = sectionOf(pipeline.vendor);
      const p = props(logicalId(synth.stack, pipeline.schedule));
      expect(p.ScheduleExpression).toBe(section.schedule);
      expect(p.ScheduleExpressionTimezone).toBe(section.scheduleTimezone);
      expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      const target = p.Target as Record<string, unknown>;
      expect(target.Arn).toEqual({ Ref: logicalId(synth.stack, pipeline.stateMachine) });
      expect(JSON.parse(target.Input as string)).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
      expect(target.RetryPolicy).toEqual({
        MaximumRetryAttempts: expect.any(Number),
        MaximumEventAgeInSeconds: expect.any(Number),
      });
    }
  });

  it('send failed deliveries to an encrypted, TLS-only dead-letter queue', () => {
    for (const pipeline of pipelines()) {
      const queueId = logicalId(synth.stack, pipeline.scheduleDeadLetterQueue);
      const target = props(logicalId(synth.stack, pipeline.schedule)).Target as Record<string, unknown>;
      expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
      expect(props(queueId).SqsManagedSseEnabled ?? props(queueId).KmsMasterKeyId).toBeTruthy();
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it("have a role of their own that may start that vendor's state machine and no other", () => {
    const roles = new Set<string>();
    for (const pipeline of pipelines()) {
      const target = props(logicalId(synth.stack, pipeline.schedule)).Target as { RoleArn: unknown };
      const roleId = render(target.RoleArn).replace(/^<(.*)\.Arn>$/, '$1');
      roles.add(roleId);
      const statements = roleStatements(synth.template, roleId);
      const start = statements.filter((s) => asArray(s.Action).includes('states:StartExecution'));
      expect(renderedResources(start)).toEqual([`<${logicalId(synth.stack, pipeline.stateMachine)}>`]);
      const send = statementsFor(statements, 'sqs');
      expect(renderedResources(send)).toEqual([`<${logicalId(synth.stack, pipeline.scheduleDeadLetterQueue)}.Arn>`]);
      expect(JSON.stringify(props(roleId).AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    }
    expect(roles.size).toBe(pipelines().length);
  });
});

describe('least privilege', () => {
  const otherVendorsSecrets = (vendor: string) =>
    enabledVendors(synth.config)
      .filter(([v]) => v !== vendor)
      .flatMap(([, s]) => PipelineSectionSchema.parse(s).tenants.map((t) => t.secretName ?? ''));

  it('lets the archive step write, never delete, objects only under its vendor prefixes and the publication log, never s3:* or "*"', () => {
    const bucketArn = `<${logicalId(synth.stack, synth.stack.archive.bucket)}.Arn>`;
    for (const pipeline of pipelines()) {
      const statements = roleStatements(synth.template, logicalId(synth.stack, pipeline.archiveReport.role));
      const s3Statements = statementsFor(statements, 's3');
      expect(actionsOf(s3Statements).filter((a) => a.includes('*'))).toEqual([]);
      const writes = s3Statements.filter(
        (s) => !asArray(s.Action).some((a) => a === 's3:GetObject' || a === 's3:ListBucket'),
      );
      expect(new Set(actionsOf(writes))).toEqual(new Set(['s3:PutObject', 's3:AbortMultipartUpload']));
      expect(new Set(renderedResources(writes))).toEqual(
        new Set([
          ...['data', 'originals', 'manifests'].map((prefix) => `${bucketArn}/${prefix}/vendor=${pipeline.vendor}/*`),
          `${bucketArn}/publications/*`,
        ]),
      );
      // reads: the manifest only (its ETag conditions the manifest write), listed so a missing one is 404
      const reads = statementsFor(statements, 's3').filter((s) => asArray(s.Action).includes('s3:GetObject'));
      expect(actionsOf(reads)).toEqual(['s3:GetObject']);
      expect(renderedResources(reads)).toEqual([`${bucketArn}/manifests/vendor=${pipeline.vendor}/*`]);
      const listing = s3Statements.filter((s) => asArray(s.Action).includes('s3:ListBucket'));
      expect(actionsOf(listing)).toEqual(['s3:ListBucket']);
      expect(listing.map((s) => s.Condition?.StringLike?.['s3:prefix'])).toEqual([
        [`manifests/vendor=${pipeline.vendor}/*`],
      ]);
    }
  });

  it('lets the archive step use the archive key only through S3', () => {
    const keyArn = `<${logicalId(synth.stack, synth.stack.archive.key)}.Arn>`;
    for (const pipeline of pipelines()) {
      const statements = roleStatements(synth.template, logicalId(synth.stack, pipeline.archiveReport.role));
      const kmsStatements = statementsFor(statements, 'kms');
      expect(renderedResources(kmsStatements)).toEqual([keyArn]);
      expect(actionsOf(kmsStatements)).toEqual(expect.arrayContaining(['kms:GenerateDataKey']));
      expect(actionsOf(kmsStatements).filter((a) => a.includes('*'))).toEqual([]);
      for (const statement of kmsStatements) {
        expect(render(statement.Condition?.StringEquals?.['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
      }
    }
  });

  it('lets the plan step list its manifests and outcomes, keep its claims and expectations, record lost dates, and read no secret', () => {
    const bucketArn = `<${logicalId(synth.stack, synth.stack.archive.bucket)}.Arn>`;
    const keyArn = `<${logicalId(synth.stack, synth.stack.archive.key)}.Arn>`;
    for (const pipeline of pipelines()) {
      const vendor = pipeline.vendor;
      const statements = roleStatements(synth.template, logicalId(synth.stack, pipeline.planRun.role));
      expect(statementsFor(statements, 'secretsmanager')).toEqual([]);
      const s3Statements = statementsFor(statements, 's3');
      const listing = s3Statements.filter((s) => actionsOf([s]).includes('s3:ListBucket'));
      expect(new Set(actionsOf(listing))).toEqual(new Set(['s3:ListBucket']));
      expect(listing.map((s) => s.Condition)).toEqual([
        { StringLike: { 's3:prefix': [`manifests/vendor=${vendor}/*`] } },
        { StringLike: { 's3:prefix': [`outcomes/vendor=${vendor}/*`] } },
        { StringEquals: { 's3:prefix': [`expectations/${vendor}.jsonl`] } },
      ]);
      const grants = s3Statements
        .filter((s) => !listing.includes(s))
        .map((s) => `${[actionsOf([s])].flat().sort().join('+')} ${renderedResources([s]).join(',')}`);
      expect(grants.sort()).toEqual(
        [
          `s3:GetObject+s3:PutObject ${bucketArn}/runs/vendor=${vendor}/*`,
          `s3:PutObject ${bucketArn}/outcomes/vendor=${vendor}/*/lost.json`,
          `s3:GetObject+s3:PutObject ${bucketArn}/expectations/${vendor}.jsonl`,
        ].sort(),
      );
      // claims, expectations and records are encrypted with the archive key, through S3 only
      const kmsStatements = statementsFor(statements, 'kms');
      expect(new Set(renderedResources(kmsStatements))).toEqual(new Set([keyArn]));
      expect(new Set(actionsOf(kmsStatements))).toEqual(new Set(['kms:GenerateDataKey', 'kms:Decrypt']));
      for (const statement of kmsStatements) {
        expect(render(statement.Condition?.StringEquals?.['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
      }
    }
  });

  it("lets start, check and archive read their vendor's tenant secrets and no other", () => {
    for (const pipeline of pipelines()) {
      const section = sectionOf(pipeline.vendor);
      const expected = section.tenants.map(
        (t) => `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${t.secretName}-??????`,
      );
      for (const fn of [pipeline.startJob, pipeline.checkJob, pipeline.archiveReport]) {
        const secrets = statementsFor(
          roleStatements(synth.template, logicalId(synth.stack, fn.role)),
          'secretsmanager',
        );
        expect(actionsOf(secrets)).toEqual(['secretsmanager:GetSecretValue']);
        const granted = renderedResources(secrets);
        expect(granted).toEqual(expected);
        for (const other of otherVendorsSecrets(pipeline.vendor)) {
          expect(granted.some((arn) => arn.includes(`:secret:${other}-`))).toBe(false);
        }
      }
    }
  });

  it('lets the record step create objects under its vendor outcomes prefix only, encrypted through S3, and read nothing', () => {
    const bucketArn = `<${logicalId(synth.stack, synth.stack.archive.bucket)}.Arn>`;
    const keyArn = `<${logicalId(synth.stack, synth.stack.archive.key)}.Arn>`;
    for (const pipeline of pipelines()) {
      const statements = roleStatements(synth.template, logicalId(synth.stack, pipeline.recordOutcome.role));
      const s3Statements = statementsFor(statements, 's3');
      expect(actionsOf(s3Statements)).toEqual(['s3:PutObject']);
      expect(renderedResources(s3Statements)).toEqual([`${bucketArn}/outcomes/vendor=${pipeline.vendor}/*`]);
      const kmsStatements = statementsFor(statements, 'kms');
      expect(actionsOf(kmsStatements)).toEqual(['kms:GenerateDataKey']);
      expect(renderedResources(kmsStatements)).toEqual([keyArn]);
      for (const statement of kmsStatements) {
        expect(render(statement.Condition?.StringEquals?.['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
      }
      expect(statementsFor(statements, 'secretsmanager')).toEqual([]);
    }
  });

  it('gives start and check no access to the archive', () => {
    for (const pipeline of pipelines()) {
      for (const fn of [pipeline.startJob, pipeline.checkJob]) {
        const statements = roleStatements(synth.template, logicalId(synth.stack, fn.role));
        expect(statementsFor(statements, 's3')).toEqual([]);
        expect(statementsFor(statements, 'kms')).toEqual([]);
      }
    }
  });

  it('uses "*" in function roles only for X-Ray, which has no resource-level permissions', () => {
    for (const pipeline of pipelines()) {
      for (const fn of pipeline.functions) {
        const statements = roleStatements(synth.template, logicalId(synth.stack, fn.role));
        const star = statements.filter((s) => asArray(s.Resource as unknown[]).includes('*'));
        expect(new Set(actionsOf(star))).toEqual(new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
      }
    }
  });
});

/** A pipeline of its own, in its own stack, for the guard and sizing tests. */
const guardApps: App[] = [];
afterAll(() => {
  for (const app of guardApps) removeOutdir(app);
});
const guardSection = (tenant: Record<string, unknown>, fields: Record<string, unknown> = {}): PipelineSection =>
  PipelineSectionSchema.parse({
    schedule: 'cron(30 1 * * ? *)',
    scheduleTimezone: 'UTC',
    poll: { intervalSeconds: 1, maxAttempts: 1, deadlineMinutes: 1 },
    reports: ['raw_statistics'],
    tenants: [{ id: 'a', since: '2026-01-01', ...tenant }],
    ...fields,
  });
const buildGuard = (pipelineSection: PipelineSection) => {
  const app = testApp();
  guardApps.push(app);
  const stack = new Stack(app, 'Guard');
  const pipeline = new VendorPipeline(stack, 'Pipeline', {
    vendor: 'openathens',
    section: pipelineSection,
    archiveBucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'archive'),
    archiveKey: kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/example'),
    limits: { maxDownloadBytes: 1, maxExtractedBytes: 1, maxCompressionRatio: 1, maxEntries: 1 },
    eventSource: 'test',
    softwareVersion: '0.0.0-test',
  });
  return { stack, pipeline };
};

describe('vendor pipeline guards', () => {
  it('refuses inline credentials, which would end up in the state machine definition', () => {
    expect(() => buildGuard(guardSection({ credentials: { apiKey: 'x' } }))).toThrow(
      /vendors\.openathens\.tenants\[0\]\.credentials: expected no inline credentials/,
    );
  });

  it('refuses a tenant without a secret', () => {
    expect(() => buildGuard(guardSection({}))).toThrow(/tenant a: expected secretName/);
  });

  it('refuses more tenant secrets than an IAM policy holds, naming the per-vendor secret', () => {
    // Prepare
    const tenants = Array.from({ length: MAX_TENANT_SECRETS + 1 }, (_, i) => ({
      id: `t${i}`,
      since: '2026-01-01',
      secretName: `identity-report-archive/openathens/t${i}`,
    }));
    // Act and assess
    expect(() => buildGuard(guardSection({ secretName: 'a' }, { tenants }))).toThrow(
      /51 tenants each with their own secret.*vendors\.<vendor>\.secretName/,
    );
    expect(() => buildGuard(guardSection({ secretName: 'a' }, { tenants: tenants.slice(1) }))).not.toThrow();
  });

  it('grants a secret given as an ARN exactly as given', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:oa-AbCdEf';
    // Act
    const { stack, pipeline } = buildGuard(guardSection({ secretName: arn }));
    // Assess
    const template = Template.fromStack(stack);
    const secrets = statementsFor(roleStatements(template, logicalId(stack, pipeline.startJob.role)), 'secretsmanager');
    expect(renderedResources(secrets)).toEqual([arn]);
  });

  it("grants only the vendor section's one secret when it names one for every tenant", () => {
    // Prepare
    const section = PipelineSectionSchema.parse({
      ...guardSection({ secretName: 'unused' }),
      secretName: 'ira/openathens',
      tenants: [
        { id: 'a', since: '2026-01-01' },
        { id: 'b', since: '2026-01-01' },
      ],
    });
    // Act
    const { stack, pipeline } = buildGuard(section);
    // Assess
    const template = Template.fromStack(stack);
    for (const fn of [pipeline.startJob, pipeline.checkJob, pipeline.archiveReport]) {
      const secrets = statementsFor(roleStatements(template, logicalId(stack, fn.role)), 'secretsmanager');
      expect(actionsOf(secrets)).toEqual(['secretsmanager:GetSecretValue']);
      expect(renderedResources(secrets)).toEqual([
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:ira/openathens-??????',
      ]);
    }
  });
});

describe('function sizing', () => {
  const sizeOf = (stack: Stack, fn: ReportFunction) =>
    resourcesById(Template.fromStack(stack))[logicalId(stack, fn.function)]?.Properties ?? {};

  it("comes from the section's functions block", () => {
    // Prepare
    const functions = {
      plan: { memoryMb: 512 },
      poll: { memoryMb: 384 },
      archive: { memoryMb: 3008, timeoutMinutes: 10, ephemeralStorageMb: 2048 },
    };
    // Act
    const { stack, pipeline } = buildGuard(guardSection({ secretName: 'oa' }, { functions }));
    // Assess
    expect(sizeOf(stack, pipeline.planRun)).toMatchObject({ MemorySize: 512, Timeout: 60 });
    for (const fn of [pipeline.startJob, pipeline.checkJob]) {
      expect(sizeOf(stack, fn)).toMatchObject({ MemorySize: 384, Timeout: 120 });
    }
    expect(sizeOf(stack, pipeline.archiveReport)).toMatchObject({
      MemorySize: 3008,
      Timeout: 600,
      EphemeralStorage: { Size: 2048 },
    });
  });

  it("defaults to one vCPU, 15 minutes and 10 GB for the archive step, or to the vendor's own defaults", () => {
    // Prepare
    const vendorDefaults = {
      ...DEFAULT_FUNCTION_SIZING,
      archive: { ...DEFAULT_FUNCTION_SIZING.archive, memoryMb: 3008 },
    };
    const schema = vendorSectionSchema({
      tenant: TenantBaseSchema,
      reports: ['users'] as const,
      defaults: {
        schedule: 'rate(1 day)',
        poll: { intervalSeconds: 1, maxAttempts: 1, deadlineMinutes: 1 },
        functions: vendorDefaults,
      },
    });
    const tenants = [{ id: 'a', since: '2026-01-01', secretName: 'a' }];
    // Act
    const unsized = schema.parse({ baseUrl: 'https://vendor.example', tenants });
    const partly = schema.parse({
      baseUrl: 'https://vendor.example',
      tenants,
      functions: { archive: { timeoutMinutes: 5 } },
    });
    // Assess
    expect(FunctionSizingSchema.parse(undefined)).toEqual({
      plan: { memoryMb: 256 },
      poll: { memoryMb: 256 },
      archive: { memoryMb: 1769, timeoutMinutes: 15, ephemeralStorageMb: 10_240 },
    });
    expect(unsized.functions).toEqual(vendorDefaults);
    expect(partly.functions.archive).toEqual({ memoryMb: 3008, timeoutMinutes: 5, ephemeralStorageMb: 10_240 });
  });

  it("refuses an archive timeout over Lambda's 15 minutes, which would also reach its Task's 960 s", () => {
    // Act
    const result = FunctionSizingSchema.safeParse({ archive: { timeoutMinutes: 16 } });
    // Assess
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['archive.timeoutMinutes']);
  });
});

describe('outputs', () => {
  it("name the archive bucket, each vendor's state machine, the workgroup and the database", () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(render(outputs[ARCHIVE_BUCKET_OUTPUT]?.Value)).toBe(
      `<${logicalId(synth.stack, synth.stack.archive.bucket)}>`,
    );
    expect(render(outputs[WORKGROUP_OUTPUT]?.Value)).toBe(`<${logicalId(synth.stack, synth.stack.catalog.workgroup)}>`);
    expect(render(outputs[DATABASE_OUTPUT]?.Value)).toBe(`<${logicalId(synth.stack, synth.stack.catalog.database)}>`);
    for (const pipeline of pipelines()) {
      expect(outputs[stateMachineOutputKey(pipeline.vendor)]?.Value, pipeline.vendor).toEqual({
        Ref: logicalId(synth.stack, pipeline.stateMachine),
      });
    }
  });

  it('are the keys the backfill CLI looks up', () => {
    expect(ARCHIVE_BUCKET_OUTPUT).toBe(backfill.ARCHIVE_BUCKET_OUTPUT);
    for (const pipeline of pipelines()) {
      expect(stateMachineOutputKey(pipeline.vendor)).toBe(backfill.stateMachineOutputKey(pipeline.vendor));
    }
  });
});
