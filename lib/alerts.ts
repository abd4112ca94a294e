/**
 * Alarms for every workflow, all wired to one SNS topic.
 *
 * 1. The topic (name from config) is encrypted with its own customer-managed key, because
 *    CloudWatch can publish to an encrypted topic only when the key policy lets it use the key
 *    (the AWS-managed SNS key does not). Publishing requires TLS.
 * 2. Per state machine: executions failed, timed out, throttled or aborted.
 * 3. Per function: errors and throttles.
 * 4. Per vendor: `DatesAtRisk` (dates about to age out of the vendor's history, published by the
 *    plan step). A failed report fails its run, so ExecutionsFailed covers it.
 * 5. Per schedule: a message in its dead-letter queue, i.e. a run that was never started.
 * 6. Per protected KMS key: an EventBridge rule on the CloudTrail records of ScheduleKeyDeletion,
 *    DisableKey and PutKeyPolicy for that key publishes to the topic at once. It needs a
 *    CloudTrail trail that records management events (EventBridge gets no API calls without one).
 * 7. Per vendor: freshness (`watchFreshness`), the only alarms that treat missing data as breaching.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS } from '../lambdas/ops/freshness-metrics.ts';
import { DATES_AT_RISK, METRICS_NAMESPACE } from '../lambdas/pipeline/metrics.ts';
import { acknowledge } from './nag.ts';
import { pascalCase } from './naming.ts';

/** The KMS API calls on a protected key that alert at once. */
export const WATCHED_KEY_CALLS = ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'] as const;

export interface AlertsProps {
  /** name of the SNS topic that receives every alarm */
  readonly topicName: string;
  /**
   * Addresses subscribed to the topic (each must confirm the subscription).
   * @default - no subscriptions
   */
  readonly emails?: readonly string[];
  /**
   * Period over which the failure counts (executions, errors, throttles) are summed.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

export class Alerts extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly period: Duration;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.period = props.period ?? Duration.minutes(5);

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the identity report archive alert topic',
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      displayName: 'Identity report archive alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(email));
      acknowledge(
        subscription,
        'Serverless-SNSRedrivePolicy',
        'an email subscription of the alert topic: SNS retries email deliveries itself, and a dead-letter queue here could only be watched by an alarm that publishes to this same topic',
      );
    }
  }

  /** Failed, timed-out, throttled and aborted executions of a state machine. */
  public watchStateMachine(label: string, stateMachine: sfn.IStateMachine): void {
    const sum = { period: this.period, statistic: cloudwatch.Stats.SUM };
    this.alarm(`${label}ExecutionsFailed`, stateMachine.metricFailed(sum), `${label}: an execution failed`);
    this.alarm(`${label}ExecutionsTimedOut`, stateMachine.metricTimedOut(sum), `${label}: an execution timed out`);
    this.alarm(
      `${label}ExecutionThrottled`,
      stateMachine.metricThrottled(sum),
      `${label}: state transitions were throttled`,
    );
    this.alarm(`${label}ExecutionsAborted`, stateMachine.metricAborted(sum), `${label}: an execution was aborted`);
  }

  /** Errors and throttles of a function. */
  public watchFunction(label: string, fn: lambda.IFunction): void {
    const sum = { period: this.period, statistic: cloudwatch.Stats.SUM };
    this.alarm(`${label}Errors`, fn.metricErrors(sum), `${label}: the function raised errors`);
    this.alarm(`${label}Throttles`, fn.metricThrottles(sum), `${label}: the function was throttled`);
  }

  /** The custom metrics a vendor's pipeline publishes. */
  public watchVendor(vendor: string): void {
    const label = pascalCase(vendor);
    this.alarm(
      `${label}DatesAtRisk`,
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: DATES_AT_RISK,
        dimensionsMap: { Vendor: vendor },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.days(1),
      }),
      `${vendor}: dates the vendor will soon stop serving are not archived yet`,
    );
  }

  /** Messages in a dead-letter queue. */
  public watchDeadLetterQueue(label: string, queue: sqs.IQueue): void {
    this.alarm(
      `${label}DeadLetters`,
      queue.metricApproximateNumberOfMessagesVisible({ period: this.period, statistic: cloudwatch.Stats.MAXIMUM }),
      `${label}: messages are waiting in the dead-letter queue`,
    );
  }

  /**
   * A deletion scheduled, a disable or a policy change of `key`, from CloudTrail's management
   * events: the moment it happens, not a metric period later.
   */
  public watchKey(label: string, key: kms.IKey): events.Rule {
    const deadLetterQueue = new sqs.Queue(this, `${label}ChangedDeadLetterQueue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const deadLetterReason =
      'this queue is the dead-letter queue of the key-change rule target (a notification EventBridge could not deliver to the alert topic after its retries); a message in it raises an alarm';
    acknowledge(deadLetterQueue, 'AwsSolutions-SQS3', deadLetterReason);
    acknowledge(deadLetterQueue, 'Serverless-SQSRedrivePolicy', deadLetterReason);
    this.watchDeadLetterQueue(`${label}Changed`, deadLetterQueue);
    const eventName = events.EventField.fromPath('$.detail.eventName');
    const caller = events.EventField.fromPath('$.detail.userIdentity.arn');
    return new events.Rule(this, `${label}Changed`, {
      description: `${label}: the key was scheduled for deletion, disabled or its policy changed`,
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: [...WATCHED_KEY_CALLS],
          resources: { ARN: [key.keyArn] },
        },
      },
      targets: [
        // the target also lets events.amazonaws.com use the topic's key, as CloudWatch may above
        new targets.SnsTopic(this.topic, {
          message: events.RuleTargetInput.fromText(`${label}: ${eventName} on ${key.keyArn} by ${caller}`),
          deadLetterQueue,
          retryAttempts: 10,
        }),
      ],
    });
  }

  /** At least one in one period: alarm. No data (nothing happened): not an alarm. */
  private alarm(id: string, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: description,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * A vendor's freshness (lambdas/ops/freshness-check.ts, hourly): time since it last archived
   * anything past `thresholdMinutes` (its cadence plus the grace), or a stale tenant. Both treat
   * missing data as breaching: a check that stops running, or that cannot read the vendor's
   * records, is itself an alarm.
   */
  public watchFreshness(vendor: string, thresholdMinutes: number): void {
    const label = pascalCase(vendor);
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { Vendor: vendor },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      });
    const freshnessAlarm = (
      id: string,
      props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods' | 'treatMissingData'>,
    ) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        ...props,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
    };
    freshnessAlarm(`${label}MinutesSinceLastArchived`, {
      metric: metric(MINUTES_SINCE_LAST_ARCHIVED),
      threshold: thresholdMinutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `${vendor}: nothing archived for more than ${thresholdMinutes / 60} hours (the schedule's cadence plus the grace), or the freshness check published nothing for the vendor`,
    });
    freshnessAlarm(`${label}StaleTenants`, {
      metric: metric(STALE_TENANTS),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `${vendor}: at least one tenant has no report archived within ${thresholdMinutes / 60} hours (the schedule's cadence plus the grace), or the freshness check published nothing for the vendor`,
    });
  }
}
