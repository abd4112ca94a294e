/**
 * The freshness check (lambdas/ops/freshness-check.ts): one function for the stack, run hourly,
 * that publishes each enabled vendor's `MinutesSinceLastArchived` and `StaleTenants` from the
 * outcome records, and the alarms that fire when either is late or missing.
 *
 * 1. Each vendor's cadence is the longest gap between two firings of its schedule
 *    (`scheduleCadenceHours`); cadence plus the configured grace is the age past which the vendor,
 *    or one of its tenants, is late.
 * 2. The function may list and read `outcomes/` and `expectations/` only, and decrypt with the
 *    archive key through S3; it writes nothing.
 * 3. An EventBridge Scheduler schedule runs it every hour. Its alarms (`addAlarms`) treat missing
 *    data as breaching, so a check that stops running raises them too.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { EXPECTATIONS_PREFIX, OUTCOMES_PREFIX } from '../lambdas/core/layout.ts';
import { thresholdMinutes } from '../lambdas/ops/freshness.ts';
import { type FreshnessVendor, freshnessEnvironment } from '../lambdas/ops/freshness-environment.ts';
import { scheduleCadenceHours } from '../lambdas/ops/schedule-cadence.ts';
import type { Alerts } from './alerts.ts';
import { acknowledge, wildcardResourceFinding } from './nag.ts';
import { ReportFunction } from './report-function.ts';

export interface FreshnessVendorSchedule {
  readonly vendor: string;
  /** the vendor's EventBridge Scheduler expression */
  readonly schedule: string;
  /** the IANA time zone the expression is read in */
  readonly timeZone: string;
}

export interface FreshnessProps {
  readonly archiveBucket: s3.IBucket;
  readonly archiveKey: kms.IKey;
  /** the enabled vendors and their schedules */
  readonly vendors: readonly FreshnessVendorSchedule[];
  /** hours a scheduled run may be late (`alerts.freshnessGraceHours`) */
  readonly graceHours: number;
  /**
   * When the check runs (EventBridge Scheduler).
   * @default 'cron(20 * * * ? *)': at minute 20, so each one-hour alarm period holds one data
   * point even when a start is late; a rate starts at deploy time, which may be on the hour,
   * where a few seconds' delay leaves one period empty and the alarms (missing data breaches) fire
   */
  readonly schedule?: string;
}

export class Freshness extends Construct {
  public readonly checker: ReportFunction;
  public readonly schedule: scheduler.Schedule;
  /** each vendor with its cadence, as the function reads them */
  public readonly vendors: readonly FreshnessVendor[];
  public readonly graceHours: number;

  constructor(scope: Construct, id: string, props: FreshnessProps) {
    super(scope, id);
    this.graceHours = props.graceHours;
    this.vendors = props.vendors.map(({ vendor, schedule, timeZone }) => ({
      vendor,
      cadenceHours: cadenceOf(vendor, schedule, timeZone),
    }));
    this.checker = new ReportFunction(this, 'Checker', {
      handler: 'freshness-check',
      description: 'Publishes each vendor’s freshness metrics from the recorded outcomes',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: freshnessEnvironment({
        bucket: props.archiveBucket.bucketName,
        vendors: this.vendors,
        graceHours: props.graceHours,
      }),
    });
    this.grant(props);

    // Its own role, assumable by EventBridge Scheduler for this account only.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Starts the hourly freshness check',
    });
    acknowledge(
      scheduleRole,
      wildcardResourceFinding(this, `${this.checker.function.functionArn}:*`),
      'the LambdaInvoke target grants lambda:InvokeFunction on the function and its versions (`:*`); this function publishes no versions or aliases, so it is this one function',
    );
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Runs the hourly freshness check of every vendor',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? 'cron(20 * * * ? *)'),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.checker.function, { retryAttempts: 2, role: scheduleRole }),
    });
  }

  /** The function's errors and throttles, and each vendor's two freshness alarms. */
  public addAlarms(alerts: Alerts): void {
    alerts.watchFunction('FreshnessCheck', this.checker.function, 'freshness-check-errors');
    for (const { vendor, cadenceHours } of this.vendors) {
      alerts.watchFreshness(vendor, thresholdMinutes({ cadenceHours, graceHours: this.graceHours }));
    }
  }

  private grant(props: FreshnessProps): void {
    const role = this.checker.role;
    const bucket = props.archiveBucket;
    const prefixes = [`${OUTCOMES_PREFIX}/`, `${EXPECTATIONS_PREFIX}/`];
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    for (const prefix of prefixes) {
      acknowledge(
        role,
        wildcardResourceFinding(this, bucket.arnForObjects(`${prefix}*`)),
        `outcome record keys carry the vendor, day, report, tenant and run, and expectation keys the vendor, all known only at run time; read-only and scoped to ${prefix}`,
      );
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        // SSE-KMS: S3 asks KMS to decrypt the object's data key on each read
        actions: ['kms:Decrypt'],
        resources: [props.archiveKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}

/** The vendor's cadence; a schedule whose cadence cannot be told fails synth naming the setting. */
function cadenceOf(vendor: string, schedule: string, timeZone: string): number {
  try {
    return scheduleCadenceHours(schedule, timeZone);
  } catch (error) {
    throw new Error(`vendors.${vendor}.schedule: ${(error as Error).message} (the freshness alarms need it)`);
  }
}
