/**
 * The deployment's dashboard: per vendor, a graph of each metric the issue names (reports
 * archived / failed / skipped per day, rows archived, dates at risk, freshness, Lambda errors and
 * durations, executions), the per-tenant freshness table over a log group, and its URL output.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS } from '../../lambdas/ops/freshness-metrics.ts';
import { DATES_AT_RISK, METRICS_NAMESPACE, REPORTS_RECORDED, ROWS_ARCHIVED } from '../../lambdas/pipeline/metrics.ts';
import { ArchiveDashboard } from '../../lib/dashboard.ts';
import { DASHBOARD_URL_OUTPUT } from '../../lib/outputs.ts';
import { logicalId, removeOutdir, render, resourcesOf, type Synthesized, synthExample, testApp } from './support.ts';

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; query?: string; view?: string };
}

/** A graphed metric: namespace, name and dimensions (a widget's `[ns, name, k, v, …, options]`). */
interface Graphed {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  stat?: string;
}

let synth: Synthesized;
let widgets: Widget[];

const bodyOf = (template: Template): Widget[] => {
  const dashboards = resourcesOf(template, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  return (JSON.parse(render(dashboards[0]?.[1].Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
};

const graphed = (list: Widget[]): Graphed[] =>
  list.flatMap((w) =>
    (w.properties.metrics ?? []).map((row) => {
      const options = typeof row.at(-1) === 'object' ? (row.at(-1) as { stat?: string }) : {};
      const [namespace, name, ...rest] = row.filter((cell) => typeof cell === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i] as string] = rest[i + 1] as string;
      return { namespace: namespace as string, name: name as string, dimensions, stat: options.stat };
    }),
  );

/** The graphed metrics named `name` in `namespace` whose dimensions include `dimensions`. */
const find = (namespace: string, name: string, dimensions: Record<string, string>) =>
  graphed(widgets).filter(
    (m) =>
      m.namespace === namespace &&
      m.name === name &&
      Object.entries(dimensions).every(([key, value]) => m.dimensions[key] === value),
  );

beforeAll(() => {
  synth = synthExample();
  widgets = bodyOf(synth.template);
});

afterAll(() => removeOutdir(synth?.app));

describe('dashboard', () => {
  it('graphs each vendor’s reports archived, failed and skipped per day', () => {
    for (const { vendor } of synth.stack.pipelines) {
      for (const outcome of ['archived', 'failed', 'skipped']) {
        const found = find(METRICS_NAMESPACE, REPORTS_RECORDED, { Vendor: vendor, Outcome: outcome });
        expect(found, `${vendor} ${outcome}`).toHaveLength(1);
        expect(found[0]?.stat).toBe('Sum');
      }
    }
  });

  it('graphs each vendor’s rows archived, dates at risk and freshness', () => {
    for (const { vendor } of synth.stack.pipelines) {
      for (const metric of [ROWS_ARCHIVED, DATES_AT_RISK, MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS]) {
        expect(find(METRICS_NAMESPACE, metric, { Vendor: vendor }), `${vendor} ${metric}`).toHaveLength(1);
      }
    }
  });

  it('graphs the errors and duration of every function of every vendor', () => {
    for (const pipeline of synth.stack.pipelines) {
      for (const fn of pipeline.functions) {
        const name = `<${logicalId(synth.stack, fn.function)}>`;
        for (const metric of ['Errors', 'Duration']) {
          expect(find('AWS/Lambda', metric, { FunctionName: name }), `${fn.node.path} ${metric}`).toHaveLength(1);
        }
      }
    }
  });

  it('graphs the executions started, succeeded and failed of every state machine', () => {
    for (const pipeline of synth.stack.pipelines) {
      const arn = `<${logicalId(synth.stack, pipeline.stateMachine)}>`;
      for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed']) {
        expect(find('AWS/States', metric, { StateMachineArn: arn }), `${pipeline.vendor} ${metric}`).toHaveLength(1);
      }
    }
  });

  it('is named after the stack, and its console address is the DashboardUrl output', () => {
    const dashboardId = logicalId(synth.stack, synth.stack.dashboard.dashboard);
    const dashboard = resourcesOf(synth.template, 'AWS::CloudWatch::Dashboard')[0]?.[1];
    expect(dashboard?.Properties.DashboardName).toBe(synth.config.stackName);
    const output = (synth.template.toJSON().Outputs as Record<string, { Value: unknown }>)[DASHBOARD_URL_OUTPUT];
    expect(render(output?.Value)).toBe(
      `https://<AWS::Region>.console.aws.amazon.com/cloudwatch/home?region=<AWS::Region>#dashboards/dashboard/<${dashboardId}>`,
    );
  });
});

describe('freshness table', () => {
  it('is a Logs Insights table of the latest report freshness line per tenant and report, over the given log group', () => {
    // Prepare
    const app = testApp();
    const stack = new Stack(app, 'Freshness');
    const logGroup = new logs.LogGroup(stack, 'FreshnessCheckLogs');
    const dashboard = new ArchiveDashboard(stack, 'Dashboard', { pipelines: [] });
    // Act
    dashboard.addFreshnessTable(logGroup);
    // Assess
    const table = bodyOf(Template.fromStack(stack)).find((w) => w.type === 'log');
    expect(table?.properties.view).toBe('table');
    const query = table?.properties.query ?? '';
    expect(query).toContain(`SOURCE '<${logicalId(stack, logGroup)}>'`);
    expect(query).toContain('filter message = "report freshness"');
    expect(query).toMatch(/stats .*latest\(stale\).* by vendor, tenant, report/);
    removeOutdir(app);
  });
});
