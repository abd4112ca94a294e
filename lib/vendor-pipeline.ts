/**
 * One vendor's report pipeline, composed of one construct per concern.
 *
 * 1. `Functions` (`pipeline/pipeline-functions.ts`): plan, start, check, archive and record,
 *    sized from the section's `functions` block, each with only the grants its step needs.
 * 2. `StateMachine` (`pipeline/pipeline-state-machine.ts`): the shared definition that drives
 *    them, with its log group and role.
 * 3. `Schedule` (`pipeline/pipeline-schedule.ts`): starts the state machine on the vendor's
 *    schedule, with its role and dead-letter queue.
 * 4. `addAlarms` wires all of it to the alert topic.
 */
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { z } from 'zod';
import { FunctionSizingSchema, PollSchema } from '../lambdas/core/settings.ts';
import type { Alerts } from './alerts.ts';
import { pascalCase } from './naming.ts';
import { PipelineFunctions, type PipelineFunctionsProps } from './pipeline/pipeline-functions.ts';
import { PipelineSchedule } from './pipeline/pipeline-schedule.ts';
import { PipelineStateMachine } from './pipeline/pipeline-state-machine.ts';
import type { ReportFunction } from './report-function.ts';

/** What the pipeline reads from a vendor's (already validated) config section. */
export const PipelineSectionSchema = z
  .object({
    schedule: z.string().min(1),
    scheduleTimezone: z.string().min(1),
    poll: PollSchema,
    reports: z.array(z.string().min(1)).min(1),
    functions: FunctionSizingSchema,
    /** one secret holding every tenant's credentials, keyed by tenant id, instead of one per tenant */
    secretName: z.string().min(1).optional(),
    tenants: z.array(z.looseObject({ id: z.string().min(1), secretName: z.string().min(1).optional() })).min(1),
  })
  .loose();

export type PipelineSection = z.infer<typeof PipelineSectionSchema>;

export interface VendorPipelineProps {
  /** the connector's vendor id (config key, S3 partition value) */
  readonly vendor: string;
  /**
   * The vendor's parsed config section. It is embedded in the state machine definition, so it
   * must hold no secret: tenants name their Secrets Manager secret (`secretName`) only, or the
   * section names one for all of them.
   */
  readonly section: PipelineSection;
  readonly archiveBucket: s3.IBucket;
  /** the key that encrypts the archive */
  readonly archiveKey: kms.IKey;
  /** the archive limits the handler environment carries, from the `archive` config section */
  readonly limits: PipelineFunctionsProps['limits'];
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
  public readonly recordOutcome: ReportFunction;
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

    const functions = new PipelineFunctions(this, 'Functions', {
      vendor,
      tenants: section.tenants,
      vendorSecretName: section.secretName,
      archiveBucket: props.archiveBucket,
      archiveKey: props.archiveKey,
      limits: props.limits,
      softwareVersion: props.softwareVersion,
      sizing: section.functions,
      logRetention,
    });
    this.planRun = functions.planRun;
    this.startJob = functions.startJob;
    this.checkJob = functions.checkJob;
    this.archiveReport = functions.archiveReport;
    this.recordOutcome = functions.recordOutcome;

    const workflow = new PipelineStateMachine(this, 'StateMachine', {
      vendor,
      section,
      functions: functions.byState,
      eventSource: props.eventSource,
      eventBus: props.eventBus,
      logRetention,
    });
    this.stateMachine = workflow.stateMachine;
    this.stateMachineLogGroup = workflow.logGroup;

    const trigger = new PipelineSchedule(this, 'Schedule', {
      vendor,
      stateMachine: this.stateMachine,
      expression: section.schedule,
      timeZone: section.scheduleTimezone,
    });
    this.schedule = trigger.schedule;
    this.scheduleDeadLetterQueue = trigger.deadLetterQueue;
  }

  /** The functions, in pipeline order. */
  public get functions(): readonly ReportFunction[] {
    return [this.planRun, this.startJob, this.checkJob, this.archiveReport, this.recordOutcome];
  }

  /** Alarms on the state machine, each function, the vendor's metrics and the schedule's dead letters. */
  public addAlarms(alerts: Alerts): void {
    const label = pascalCase(this.vendor);
    alerts.watchStateMachine(`${label}StateMachine`, this.stateMachine);
    for (const fn of this.functions) alerts.watchFunction(`${label}${fn.node.id}`, fn.function);
    alerts.watchVendor(this.vendor);
    alerts.watchDeadLetterQueue(`${label}Schedule`, this.scheduleDeadLetterQueue);
  }
}

/** The section ends up in the state machine definition: refuse anything that looks like a credential. */
function assertNoInlineCredentials(vendor: string, section: PipelineSection): void {
  section.tenants.forEach((tenant, index) => {
    for (const field of ['credentials', 'credentialsEnv'] as const) {
      if (tenant[field] !== undefined) {
        throw new Error(
          `vendors.${vendor}.tenants[${index}].${field}: expected no inline credentials in a deployed configuration (the section is embedded in the state machine definition); use secretName (the tenant's, or the vendor section's)`,
        );
      }
    }
  });
}
