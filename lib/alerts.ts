/**
 * Alarms and notifications for every workflow, all to one SNS topic, each ending with the
 * runbook that says what to do (`runbooks.ts`, docs/runbooks/).
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
 * 8. The pipeline's events (`watchReports`): each `Report Failed` of an item, a `VendorAuthError`
 *    one as its own "credentials rejected" notification, and optionally each `Report Skipped`.
 * Every rule's target has a dead-letter queue, and a message there raises an alarm.
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
import { REPORT_FAILED, REPORT_SKIPPED } from '../state-machines/report-pipeline.ts';
import { acknowledge } from './nag.ts';
import { pascalCase } from './naming.ts';
import { alarmDescription, DEFAULT_RUNBOOK_BASE_URL, type RunbookPage, runbookLine } from './runbooks.ts';

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
  /**
   * Where the runbook pages are: each alarm and notification links `<runbookBaseUrl><page>.md`.
   * @default 'docs/runbooks/' (this repository's folder)
   */
  readonly runbookBaseUrl?: string;
}

/** One alarm: what it watches, what it means, its runbook, and when it fires. */
export interface AlarmSpec {
  readonly metric: cloudwatch.IMetric;
  /** what the alarm means, in a sentence or two; the runbook line is added after it */
  readonly meaning: string;
  readonly runbook: RunbookPage;
  /** @default 1 */
  readonly threshold?: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /** @default NOT_BREACHING (no data: nothing happened) */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

/** The pipeline's events the alert topic hears about. */
export interface ReportNotificationsProps {
  /** `source` of the pipeline's events (config `events.source`) */
  readonly eventSource: string;
  /**
   * Send every `Report Skipped` to the topic too (config `alerts.notifySkipped`).
   * @default false
   */
  readonly notifySkipped?: boolean;
  /**
   * The bus the pipelines put their events on.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
}

export class Alerts extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly runbookBaseUrl: string;
  private readonly period: Duration;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.period = props.period ?? Duration.minutes(5);
    this.runbookBaseUrl = props.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL;

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
    this.alarm(`${label}ExecutionsFailed`, {
      metric: stateMachine.metricFailed(sum),
      meaning: `${label}: an execution failed: a report failed (its Report Failed notification names it), its outcome could not be recorded, or the run could not be planned.`,
      runbook: 'execution-failed',
    });
    this.alarm(`${label}ExecutionsTimedOut`, {
      metric: stateMachine.metricTimedOut(sum),
      meaning: `${label}: an execution ran past the state machine's timeout; the reports it had not finished were not archived.`,
      runbook: 'execution-timed-out',
    });
    this.alarm(`${label}ExecutionThrottled`, {
      metric: stateMachine.metricThrottled(sum),
      meaning: `${label}: Step Functions throttled state transitions; runs slow down and may time out.`,
      runbook: 'execution-throttled',
    });
    this.alarm(`${label}ExecutionsAborted`, {
      metric: stateMachine.metricAborted(sum),
      meaning: `${label}: an execution was stopped before it ended; the reports it had not finished were not archived.`,
      runbook: 'execution-aborted',
    });
  }

  /**
   * Errors and throttles of a function.
   * @param errorsRunbook the page for its errors: a pipeline step's, the digest writer's or the freshness check's
   */
  public watchFunction(
    label: string,
    fn: lambda.IFunction,
    errorsRunbook: 'function-errors' | 'digest-errors' | 'freshness-check-errors' = 'function-errors',
  ): void {
    const sum = { period: this.period, statistic: cloudwatch.Stats.SUM };
    const meanings = {
      'function-errors': `${label}: the function raised errors; the state machine retries or catches them, and a report that still failed has its own Report Failed notification.`,
      'digest-errors': `${label}: the function that writes the daily signed digest of the published manifests failed; until a run succeeds, new publications are not in a signed digest.`,
      'freshness-check-errors': `${label}: the hourly freshness check failed; the vendors it could not read (its log names them) published no freshness metrics, so their freshness alarms fire as missing data.`,
    };
    this.alarm(`${label}Errors`, {
      metric: fn.metricErrors(sum),
      meaning: meanings[errorsRunbook],
      runbook: errorsRunbook,
    });
    this.alarm(`${label}Throttles`, {
      metric: fn.metricThrottles(sum),
      meaning: `${label}: Lambda refused invocations of the function for lack of concurrency; callers retry, but runs slow down and may fail.`,
      runbook: 'function-throttles',
    });
  }

  /** The custom metrics a vendor's pipeline publishes. */
  public watchVendor(vendor: string): void {
    const label = pascalCase(vendor);
    this.alarm(`${label}DatesAtRisk`, {
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: DATES_AT_RISK,
        dimensionsMap: { Vendor: vendor },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.days(1),
      }),
      meaning: `${vendor}: dates the vendor will soon stop serving are not archived yet; a date not archived before it ages out of the vendor's history is lost for good.`,
      runbook: 'dates-at-risk',
    });
  }

  /**
   * Messages in a dead-letter queue.
   * @param runbook a schedule's queue (a run never started) or a notification rule's (an alert never delivered)
   */
  public watchDeadLetterQueue(
    label: string,
    queue: sqs.IQueue,
    runbook: 'schedule-dead-letters' | 'notification-dead-letters' = 'schedule-dead-letters',
  ): void {
    this.alarm(`${label}DeadLetters`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: this.period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      meaning:
        runbook === 'schedule-dead-letters'
          ? `${label}: the schedule could not start the state machine after its retries, so a scheduled run did not happen; its message waits in the dead-letter queue.`
          : `${label}: EventBridge could not deliver a notification to the alert topic after its retries; the undelivered event waits in the dead-letter queue.`,
      runbook,
    });
  }

  /**
   * A deletion scheduled, a disable or a policy change of `key`, from CloudTrail's management
   * events: the moment it happens, not a metric period later.
   */
  public watchKey(label: string, key: kms.IKey): events.Rule {
    const deadLetterQueue = this.notificationDeadLetterQueue(
      `${label}Changed`,
      'this queue is the dead-letter queue of the key-change rule target (a notification EventBridge could not deliver to the alert topic after its retries); a message in it raises an alarm',
    );
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
        this.topicTarget(
          deadLetterQueue,
          `${label}: ${eventName} on ${key.keyArn} by ${caller}\n${runbookLine(this.runbookBaseUrl, 'key-changed')}`,
        ),
      ],
    });
  }

  /**
   * The pipeline's item events, to the topic: `Report Failed` (vendor, tenant, report, date,
   * error, cause), the same with `error: VendorAuthError` as its own "credentials rejected"
   * notification instead (never both), and `Report Skipped` (with its reason) when asked.
   *
   * A message holds only fields of the event's detail, which carries no secret: the cause is the
   * message the failing step raised, already redacted where it was raised. A `Report Failed` of a
   * run that could not be planned names no tenant; it is left to the ExecutionsFailed alarm.
   */
  public watchReports(props: ReportNotificationsProps): events.Rule[] {
    const deadLetterQueue = this.notificationDeadLetterQueue(
      'ReportNotifications',
      'this queue is the dead-letter queue of the report notification rules (Report Failed, credentials rejected, Report Skipped) whose target is the alert topic; a message in it raises an alarm',
    );
    const rule = (
      id: string,
      description: string,
      detailType: string,
      detail: Record<string, unknown>,
      message: string,
    ) =>
      new events.Rule(this, id, {
        description,
        eventBus: props.eventBus,
        eventPattern: { source: [props.eventSource], detailType: [detailType], detail },
        targets: [this.topicTarget(deadLetterQueue, message)],
      });
    const item = reportFields();
    const rules = [
      rule(
        'ReportFailed',
        'Report Failed of an item, except rejected credentials, to the alert topic',
        REPORT_FAILED,
        { tenant: events.Match.exists(), error: events.Match.anythingBut(VENDOR_AUTH_ERROR) },
        `Report Failed: ${item.vendor}/${item.tenant} ${item.report} for ${item.date}\nError: ${item.error}\nCause: ${item.cause}\nExecution: ${item.runId}\n${runbookLine(this.runbookBaseUrl, 'report-failed')}`,
      ),
      rule(
        'CredentialsRejected',
        'Report Failed with VendorAuthError (credentials rejected) to the alert topic',
        REPORT_FAILED,
        { tenant: events.Match.exists(), error: [VENDOR_AUTH_ERROR] },
        `Credentials rejected for ${item.vendor}/${item.tenant}: the vendor refused the tenant's credentials or their permissions (401/403) for ${item.report} on ${item.date}; rotate or fix the tenant's secret.\nCause: ${item.cause}\nExecution: ${item.runId}\n${runbookLine(this.runbookBaseUrl, 'credentials-rejected')}`,
      ),
    ];
    if (props.notifySkipped) {
      rules.push(
        rule(
          'ReportSkipped',
          'Report Skipped to the alert topic (alerts.notifySkipped)',
          REPORT_SKIPPED,
          { tenant: events.Match.exists() },
          `Report Skipped: ${item.vendor}/${item.tenant} ${item.report} for ${item.date}\nReason: ${item.reason}\nExecution: ${item.runId}\n${runbookLine(this.runbookBaseUrl, 'report-skipped')}`,
        ),
      );
    }
    return rules;
  }

  /** A dead-letter queue for a notification rule's target, with its alarm. */
  private notificationDeadLetterQueue(label: string, reason: string): sqs.Queue {
    const queue = new sqs.Queue(this, `${label}DeadLetterQueue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(queue, 'AwsSolutions-SQS3', reason);
    acknowledge(queue, 'Serverless-SQSRedrivePolicy', reason);
    this.watchDeadLetterQueue(label, queue, 'notification-dead-letters');
    return queue;
  }

  /** The alert topic as a rule target: `message` as the text, undeliverable events to `deadLetterQueue`. */
  private topicTarget(deadLetterQueue: sqs.IQueue, message: string): targets.SnsTopic {
    return new targets.SnsTopic(this.topic, {
      message: events.RuleTargetInput.fromText(message),
      deadLetterQueue,
      retryAttempts: 10,
    });
  }

  /** An alarm to the topic, described by what it means and its runbook. */
  private alarm(id: string, spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: spec.metric,
      alarmDescription: alarmDescription(id, spec.meaning, this.runbookBaseUrl, spec.runbook),
      threshold: spec.threshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: spec.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
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
    const hours = thresholdMinutes / 60;
    const silent = 'or the freshness check published nothing for the vendor';
    this.alarm(`${label}MinutesSinceLastArchived`, {
      metric: metric(MINUTES_SINCE_LAST_ARCHIVED),
      meaning: `${vendor}: nothing archived for more than ${hours} hours (the schedule's cadence plus the grace), ${silent}.`,
      runbook: 'freshness-minutes-since-archived',
      threshold: thresholdMinutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarm(`${label}StaleTenants`, {
      metric: metric(STALE_TENANTS),
      meaning: `${vendor}: at least one tenant has no report archived within ${hours} hours (the schedule's cadence plus the grace), ${silent}.`,
      runbook: 'freshness-stale-tenants',
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}

/** The error name of rejected credentials (lambdas/core/errors.ts `VendorAuthError`). */
const VENDOR_AUTH_ERROR = 'VendorAuthError';

/** The fields of a Report Failed / Report Skipped detail, as input transformer placeholders. */
function reportFields() {
  const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);
  return {
    vendor: field('vendor'),
    tenant: field('tenant'),
    report: field('report'),
    date: field('date'),
    error: field('error'),
    cause: field('cause'),
    reason: field('reason'),
    runId: field('runId'),
  };
}
