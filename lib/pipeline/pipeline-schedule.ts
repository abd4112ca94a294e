/**
 * The schedule that starts one vendor's pipeline.
 *
 * 1. An EventBridge Scheduler schedule (the vendor's expression and time zone, no flexible
 *    window) starts the state machine with the scheduled time as input, so a run can be
 *    replayed for any date.
 * 2. Its own role, assumable by EventBridge Scheduler for this account only.
 * 3. Deliveries that fail after retries land in an encrypted, TLS-only dead-letter queue; its
 *    alarm is `Alerts.watchDeadLetterQueue`'s.
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface PipelineScheduleProps {
  /** the connector's vendor id */
  readonly vendor: string;
  /** the state machine each run starts */
  readonly stateMachine: sfn.IStateMachine;
  /** EventBridge Scheduler expression, e.g. `cron(30 1 * * ? *)` */
  readonly expression: string;
  /** IANA time zone the expression is read in, e.g. `UTC` */
  readonly timeZone: string;
}

export class PipelineSchedule extends Construct {
  public readonly schedule: scheduler.Schedule;
  public readonly role: iam.Role;
  /** schedule deliveries that failed after their retries */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PipelineScheduleProps) {
    super(scope, id);
    const { vendor } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const deadLetterReason =
      'this queue is the dead-letter queue of the EventBridge Scheduler target (a schedule delivery that failed after its retries), which cdk-nag cannot see; a message in it raises an alarm';
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', deadLetterReason);
    acknowledge(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', deadLetterReason);

    // A role per schedule (the target's default is one role shared by every schedule of the stack).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Starts the ${vendor} report pipeline on its schedule`,
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Starts the ${vendor} report pipeline`,
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        // the run treats the scheduled time as "now", so a run can be replayed for any date
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 5,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.deadLetterQueue,
        role: this.role,
      }),
    });
  }
}
