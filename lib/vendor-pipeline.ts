/**
 * One vendor's report pipeline: four functions, the state machine that drives them and the
 * schedule that starts it.
 *
 * 1. `plan-run` lists which tenant × report × date items a run covers; it may only list the
 *    vendor's manifests.
 * 2. `start-job` and `check-job` talk to the vendor; they may read that vendor's tenant secrets
 *    and nothing else.
 * 3. `archive-report` streams the report into the archive (one vCPU, 15 minutes, 10 GB of /tmp);
 *    it may read the same secrets and write only under the vendor's three archive prefixes.
 * 4. The state machine runs the shared definition from `state-machines/report-pipeline.ts` (the
 *    one the local runner executes), with the function ARNs and the event bus substituted in. A
 *    string definition gives CDK nothing to infer grants from, so every grant here is explicit.
 * 5. An EventBridge Scheduler schedule starts it with the scheduled time as input; deliveries
 *    that fail after retries land in an encrypted dead-letter queue.
 */
import { ArnFormat, Duration, Size, Stack, TimeZone } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { z } from 'zod';
import type { ArchiveLimits } from '../lambdas/core/archive/limits.ts';
import { DATA_PREFIX, MANIFESTS_PREFIX, ORIGINALS_PREFIX } from '../lambdas/core/layout.ts';
import { PollSchema } from '../lambdas/core/settings.ts';
import { handlerEnvironment } from '../lambdas/handlers/env.ts';
import {
  executionTimeoutSeconds,
  type PipelineFunction,
  reportPipelineDefinition,
} from '../state-machines/report-pipeline.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { ReportFunction } from './report-function.ts';

/** What the pipeline reads from a vendor's (already validated) config section. */
export const PipelineSectionSchema = z
  .object({
    schedule: z.string().min(1),
    scheduleTimezone: z.string().min(1),
    poll: PollSchema,
    reports: z.array(z.string().min(1)).min(1),
    tenants: z.array(z.looseObject({ id: z.string().min(1), secretName: z.string().min(1).optional() })).min(1),
  })
  .loose();

export type PipelineSection = z.infer<typeof PipelineSectionSchema>;

export interface VendorPipelineProps {
  /** the connector's vendor id (config key, S3 partition value) */
  readonly vendor: string;
  /**
   * The vendor's parsed config section. It is embedded in the state machine definition, so it
   * must hold no secret: tenants name their Secrets Manager secret (`secretName`) only.
   */
  readonly section: PipelineSection;
  readonly archiveBucket: s3.IBucket;
  /** the key that encrypts the archive */
  readonly archiveKey: kms.IKey;
  readonly limits: ArchiveLimits;
  /** `source` of the Report Archived / Report Failed events */
  readonly eventSource: string;
  /** recorded in every manifest */
  readonly softwareVersion: string;
  /**
   * Where the Report Archived / Report Failed events go.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Retention of the functions' and the state machine's log groups.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

export class VendorPipeline extends Construct {
  public readonly vendor: string;
  public readonly planRun: ReportFunction;
  public readonly startJob: ReportFunction;
  public readonly checkJob: ReportFunction;
  public readonly archiveReport: ReportFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineLogGroup: logs.LogGroup;
  public readonly schedule: scheduler.Schedule;
  /** schedule deliveries that failed after their retries */
  public readonly scheduleDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: VendorPipelineProps) {
    super(scope, id);
    const { vendor, section } = props;
    this.vendor = vendor;
    assertNoInlineCredentials(vendor, section);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;

    // Each timeout stays below its Task's TimeoutSeconds in the definition, so a function that
    // runs out of time fails as a Lambda error the Task can retry or catch.
    const environment = handlerEnvironment({
      vendor,
      bucket: props.archiveBucket.bucketName,
      kmsKeyArn: props.archiveKey.keyArn,
      limits: props.limits,
      softwareVersion: props.softwareVersion,
    });

    this.planRun = new ReportFunction(this, 'PlanRun', {
      handler: 'plan-run',
      description: `${vendor}: plans a run (which tenants, reports and dates are still to archive)`,
      environment,
      memorySize: 256,
      timeout: Duration.minutes(1),
      logRetention,
    });
    this.startJob = new ReportFunction(this, 'StartJob', {
      handler: 'start-job',
      description: `${vendor}: starts a report job`,
      environment,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logRetention,
    });
    this.checkJob = new ReportFunction(this, 'CheckJob', {
      handler: 'check-job',
      description: `${vendor}: checks whether a report job is ready`,
      environment,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logRetention,
    });
    this.archiveReport = new ReportFunction(this, 'ArchiveReport', {
      handler: 'archive-report',
      description: `${vendor}: streams a report into the archive`,
      environment,
      // one full vCPU: the archive step is CPU-bound (inflate, hash, sign), not memory-bound
      memorySize: 1769,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(10),
      logRetention,
    });

    this.grantManifestListing(this.planRun, props.archiveBucket);
    const secretArns = tenantSecretArns(Stack.of(this), section);
    for (const fn of [this.startJob, this.checkJob, this.archiveReport]) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadTenantSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: secretArns,
        }),
      );
    }
    this.grantArchiveWrites(this.archiveReport, props.archiveBucket, props.archiveKey);

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogGroup', { retention: logRetention });
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const byState: Record<PipelineFunction, ReportFunction> = {
      PlanRun: this.planRun,
      StartJob: this.startJob,
      CheckJob: this.checkJob,
      ArchiveReport: this.archiveReport,
    };
    const definition = reportPipelineDefinition({
      vendor,
      section,
      eventSource: props.eventSource,
      eventBusName: placeholder(EVENT_BUS_VARIABLE),
      functionArns: {
        PlanRun: placeholder(arnVariable('PlanRun')),
        StartJob: placeholder(arnVariable('StartJob')),
        CheckJob: placeholder(arnVariable('CheckJob')),
        ArchiveReport: placeholder(arnVariable('ArchiveReport')),
      },
    });
    // CDK applies `timeout` only to definitions it builds itself; a string definition must carry
    // its own TimeoutSeconds, so the definition that runs locally has the same bound.
    const timeoutSeconds = executionTimeoutSeconds(section);
    if (definition.TimeoutSeconds !== timeoutSeconds) {
      throw new Error(
        `the ${vendor} pipeline definition must set TimeoutSeconds to executionTimeoutSeconds() (${timeoutSeconds}); received ${JSON.stringify(definition.TimeoutSeconds)}`,
      );
    }
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `Archives ${vendor} identity reports`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: {
        ...Object.fromEntries(
          Object.entries(byState).map(([state, fn]) => [
            arnVariable(state as PipelineFunction),
            fn.function.functionArn,
          ]),
        ),
        [EVENT_BUS_VARIABLE]: eventBus.eventBusName,
      },
      timeout: Duration.seconds(timeoutSeconds),
      tracingEnabled: true,
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // grantInvoke covers the function and its versions/aliases (`<arn>:*`)
    for (const fn of Object.values(byState)) {
      fn.function.grantInvoke(this.stateMachine);
      acknowledge(
        this.stateMachine.role,
        wildcardResourceFinding(this, `${fn.function.functionArn}:*`),
        `lambda:InvokeFunction on the versions and aliases of exactly one function (${fn.node.id} of ${vendor}); the definition invokes its unqualified ARN`,
      );
    }
    eventBus.grantPutEventsTo(this.stateMachine);
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'logging to CloudWatch Logs (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) support no resource-level permissions; test/infra checks that only these actions get "*"',
    );

    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const deadLetterReason =
      'this queue is the dead-letter queue of the EventBridge Scheduler target (a schedule delivery that failed after its retries), which cdk-nag cannot see; a message in it raises an alarm';
    acknowledge(this.scheduleDeadLetterQueue, 'AwsSolutions-SQS3', deadLetterReason);
    acknowledge(this.scheduleDeadLetterQueue, 'Serverless-SQSRedrivePolicy', deadLetterReason);
    // A role per schedule (the target's default is one role shared by every schedule of the stack),
    // assumable by EventBridge Scheduler for this account only.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Starts the ${vendor} report pipeline on its schedule`,
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Starts the ${vendor} report pipeline`,
      schedule: scheduler.ScheduleExpression.expression(section.schedule, TimeZone.of(section.scheduleTimezone)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        // the run treats the scheduled time as "now", so a run can be replayed for any date
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 5,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.scheduleDeadLetterQueue,
        role: scheduleRole,
      }),
    });
  }

  /** The four functions, in pipeline order. */
  public get functions(): readonly ReportFunction[] {
    return [this.planRun, this.startJob, this.checkJob, this.archiveReport];
  }

  /** Object keys the archive step writes, one pattern per archive prefix. */
  public static archiveKeyPatterns(vendor: string): string[] {
    return [DATA_PREFIX, ORIGINALS_PREFIX, MANIFESTS_PREFIX].map((prefix) => `${prefix}/vendor=${vendor}/*`);
  }

  private grantManifestListing(fn: ReportFunction, bucket: s3.IBucket): void {
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListVendorManifests',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${MANIFESTS_PREFIX}/vendor=${this.vendor}/*`] } },
      }),
    );
  }

  private grantArchiveWrites(fn: ReportFunction, bucket: s3.IBucket, key: kms.IKey): void {
    const patterns = VendorPipeline.archiveKeyPatterns(this.vendor);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteVendorArchive',
        // No delete: nothing completed is ever removed, and under Object Lock a delete would only
        // add a marker that hides the archived version.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: patterns.map((pattern) => bucket.arnForObjects(pattern)),
      }),
    );
    for (const pattern of patterns) {
      acknowledge(
        fn.role,
        wildcardResourceFinding(this, bucket.arnForObjects(pattern)),
        `object keys below the vendor's prefix are only known at run time (report, date, tenant, file name); scoped to ${pattern} with object actions only (put, abort a multipart upload)`,
      );
    }
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptVendorArchive',
        // SSE-KMS: S3 asks KMS for a data key on PutObject and, to complete a multipart upload,
        // decrypts it again to read the parts. S3 never calls kms:Encrypt for SSE-KMS.
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}

// Definition substitutions: Step Functions replaces `${Name}` when the state machine is created.
const EVENT_BUS_VARIABLE = 'EventBusName';

function arnVariable(state: PipelineFunction): string {
  return `${state}FunctionArn`;
}

function placeholder(variable: string): string {
  return `\${${variable}}`;
}

/** A tenant's secret ARN: the ARN as given, or the name with Secrets Manager's random suffix. */
export function tenantSecretArns(stack: Stack, section: PipelineSection): string[] {
  return section.tenants.map((tenant) => {
    const name = tenant.secretName;
    if (name === undefined) {
      throw new Error(
        `tenant ${tenant.id}: expected secretName (a Secrets Manager secret); deployed functions read credentials from Secrets Manager only`,
      );
    }
    if (name.startsWith('arn:')) return name;
    return stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${name}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  });
}

/** The section ends up in the state machine definition: refuse anything that looks like a credential. */
function assertNoInlineCredentials(vendor: string, section: PipelineSection): void {
  section.tenants.forEach((tenant, index) => {
    for (const field of ['credentials', 'credentialsEnv'] as const) {
      if (tenant[field] !== undefined) {
        throw new Error(
          `vendors.${vendor}.tenants[${index}].${field}: expected no inline credentials in a deployed configuration (the section is embedded in the state machine definition); use secretName`,
        );
      }
    }
  });
}
