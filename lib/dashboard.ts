/**
 * The deployment's CloudWatch dashboard: one per stack, one row of graphs per vendor, and a
 * per-tenant freshness table.
 *
 * Per vendor: reports archived, failed and skipped per day (`ReportsRecorded` by Outcome), rows
 * archived per day, dates at risk, freshness (`MinutesSinceLastArchived`, `StaleTenants`), each
 * function's errors and duration, and the state machine's executions started, succeeded and
 * failed. The table (`addFreshnessTable`) is a Logs Insights query over the FreshnessCheck
 * function's `report freshness` lines, so a thousand tenants cost no custom metric.
 *
 * Plain CDK rather than cdk-monitoring-constructs: most widgets read this project's own EMF
 * metrics, which that library would take as hand-written custom metrics anyway, and the rest are
 * a few standard Lambda and Step Functions graphs; one more dependency (and its peer range on
 * aws-cdk-lib) would not save code here.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FRESHNESS_LOG_MESSAGE, MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS } from '../lambdas/ops/freshness-metrics.ts';
import {
  BYTES_ARCHIVED,
  DATES_AT_RISK,
  METRICS_NAMESPACE,
  REPORTS_RECORDED,
  ROWS_ARCHIVED,
} from '../lambdas/pipeline/metrics.ts';

/** The outcomes RecordOutcome publishes (`lost` is recorded by the plan step, not counted here). */
const RECORDED_OUTCOMES = ['archived', 'failed', 'skipped'] as const;

/** What the dashboard reads of a vendor's pipeline (a `VendorPipeline` is one). */
export interface DashboardPipeline {
  readonly vendor: string;
  readonly stateMachine: sfn.IStateMachine;
  /** the pipeline's functions; each is shown by its construct id (PlanRun, StartJob, …) */
  readonly functions: readonly (Construct & { readonly function: lambda.IFunction })[];
}

export interface ArchiveDashboardProps {
  readonly pipelines: readonly DashboardPipeline[];
  /**
   * The dashboard's name, as people find it in the console.
   * @default - the stack's name
   */
  readonly dashboardName?: string;
}

const DAY = Duration.days(1);
const HOUR = Duration.hours(1);

export class ArchiveDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ArchiveDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? Stack.of(this).stackName,
      defaultInterval: Duration.days(14),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# Identity report archive\nPer vendor: what was archived, failed and skipped each day, freshness, dates at risk, the functions and the executions. Each alarm description links its runbook page.',
        width: 24,
        height: 2,
      }),
    );
    for (const pipeline of props.pipelines) this.dashboard.addWidgets(...vendorRow(pipeline));
  }

  /** The console address of the dashboard. */
  public get url(): string {
    return `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }

  /**
   * Freshness per tenant and report: the latest `report freshness` line of each, stale first.
   * @param logGroup the FreshnessCheck function's log group
   */
  public addFreshnessTable(logGroup: logs.ILogGroup): void {
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Freshness per tenant (latest check)',
        logGroupNames: [logGroup.logGroupName],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        queryLines: [
          'fields vendor, tenant, report, hoursSinceArchived, stale, lastOutcome, lastError',
          `filter message = "${FRESHNESS_LOG_MESSAGE}"`,
          'stats latest(hoursSinceArchived) as hours_since_archived, latest(stale) as is_stale, latest(lastOutcome) as last_outcome, latest(lastError) as last_error by vendor, tenant, report',
          'sort is_stale desc, hours_since_archived desc',
        ],
        width: 24,
        height: 8,
      }),
    );
  }
}

/** One vendor's widgets: a title, then its outcomes, freshness, functions and executions. */
function vendorRow(pipeline: DashboardPipeline): cloudwatch.IWidget[] {
  const { vendor } = pipeline;
  const custom = (metricName: string, statistic: string, period: Duration, extra: Record<string, string> = {}) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { Vendor: vendor, ...extra },
      statistic,
      period,
    });
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 6) =>
    new cloudwatch.GraphWidget({ title: `${vendor}: ${title}`, left, right, width, height: 6 });
  const sum = { statistic: cloudwatch.Stats.SUM, period: DAY };
  const fns = pipeline.functions;
  return [
    new cloudwatch.TextWidget({ markdown: `## ${vendor}`, width: 24, height: 1 }),
    graph(
      'reports per day',
      RECORDED_OUTCOMES.map((outcome) =>
        custom(REPORTS_RECORDED, cloudwatch.Stats.SUM, DAY, { Outcome: outcome }).with({ label: outcome }),
      ),
    ),
    graph(
      'rows and bytes archived per day',
      [custom(ROWS_ARCHIVED, cloudwatch.Stats.SUM, DAY).with({ label: 'rows' })],
      [custom(BYTES_ARCHIVED, cloudwatch.Stats.SUM, DAY).with({ label: "vendor's bytes" })],
    ),
    graph('dates at risk', [custom(DATES_AT_RISK, cloudwatch.Stats.MAXIMUM, DAY).with({ label: 'dates at risk' })]),
    graph(
      'freshness',
      [custom(MINUTES_SINCE_LAST_ARCHIVED, cloudwatch.Stats.MAXIMUM, HOUR).with({ label: 'minutes since archived' })],
      [custom(STALE_TENANTS, cloudwatch.Stats.MAXIMUM, HOUR).with({ label: 'stale tenants' })],
    ),
    graph(
      'function errors',
      fns.map((fn) => fn.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: HOUR, label: fn.node.id })),
      [],
      8,
    ),
    graph(
      'function duration (max)',
      fns.map((fn) =>
        fn.function.metricDuration({ statistic: cloudwatch.Stats.MAXIMUM, period: HOUR, label: fn.node.id }),
      ),
      [],
      8,
    ),
    graph(
      'executions per day',
      [
        pipeline.stateMachine.metricStarted({ ...sum, label: 'started' }),
        pipeline.stateMachine.metricSucceeded({ ...sum, label: 'succeeded' }),
        pipeline.stateMachine.metricFailed({ ...sum, label: 'failed' }),
        pipeline.stateMachine.metricTimedOut({ ...sum, label: 'timed out' }),
      ],
      [],
      8,
    ),
  ];
}
