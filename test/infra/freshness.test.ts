/**
 * The freshness check in the synthesized stack (lib/freshness.ts): one function run hourly by a
 * schedule, reading only `outcomes/` and `expectations/`, and per enabled vendor two alarms that
 * treat missing data as breaching. Then the point of it all: a vendor whose schedule is disabled
 * crosses the thresholds of those very alarms (read from the template) within cadence + grace.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFreshness } from '../../lambdas/ops/freshness-check.ts';
import { FreshnessEnvironmentSchema } from '../../lambdas/ops/freshness-environment.ts';
import { MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS } from '../../lambdas/ops/freshness-metrics.ts';
import { METRICS_NAMESPACE } from '../../lambdas/pipeline/metrics.ts';
import { enabledVendors } from '../../lib/config.ts';
import { Freshness } from '../../lib/freshness.ts';
import { expectation, type OpsArchive, outcome, startOpsArchive } from '../ops/outcome-fixtures.ts';
import {
  asArray,
  logicalId,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  roleStatements,
  type Synthesized,
  synthExample,
  testApp,
} from './support.ts';

let synth: Synthesized;
let freshness: Freshness;
beforeAll(() => {
  synth = synthExample();
  const found = synth.stack.node.findChild('Freshness');
  if (!(found instanceof Freshness)) throw new Error('the stack has no Freshness construct');
  freshness = found;
});
afterAll(() => removeOutdir(synth?.app));

interface AlarmProperties {
  MetricName: string;
  Namespace: string;
  Dimensions: { Name: string; Value: unknown }[];
  Statistic: string;
  Period: number;
  EvaluationPeriods: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
}

/** The one alarm on `metric` of `vendor`. */
function alarmOn(metric: string, vendor: string): AlarmProperties {
  const found = resourcesOf(synth.template, 'AWS::CloudWatch::Alarm')
    .map(([, a]) => a.Properties as unknown as AlarmProperties)
    .filter((a) => a.MetricName === metric && a.Dimensions.some((d) => d.Name === 'Vendor' && d.Value === vendor));
  expect(found, `${metric} alarms of ${vendor}`).toHaveLength(1);
  return found[0] as AlarmProperties;
}

/** Whether a data point (or none) puts the alarm in ALARM, as CloudWatch compares it. */
function breaches(alarm: AlarmProperties, value: number | undefined): boolean {
  if (value === undefined) return alarm.TreatMissingData === 'breaching';
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanThreshold':
      return value > alarm.Threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.Threshold;
    default:
      throw new Error(`unexpected ComparisonOperator ${alarm.ComparisonOperator}`);
  }
}

const functionProps = () =>
  resourcesById(synth.template)[logicalId(synth.stack, freshness.checker.function)]?.Properties ?? {};

/** The function's environment as the template sets it, parsed by the handler's schema. */
const deployedEnvironment = () =>
  FreshnessEnvironmentSchema.parse(
    Object.fromEntries(
      Object.entries((functionProps().Environment as { Variables: Record<string, unknown> }).Variables).map(
        ([k, v]) => [k, render(v)],
      ),
    ),
  );

describe('the freshness check function', () => {
  it('runs Node.js 22 on arm64, traced, with JSON logs, and gets every enabled vendor with its cadence and the grace', () => {
    const p = functionProps();
    expect(p).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    const parsed = deployedEnvironment();
    expect(parsed.ARCHIVE_BUCKET).toBe(`<${logicalId(synth.stack, synth.stack.archive.bucket)}>`);
    expect(parsed.FRESHNESS_VENDORS).toEqual(
      enabledVendors(synth.config).map(([vendor]) => ({ vendor, cadenceHours: 24 })),
    );
    expect(parsed.FRESHNESS_GRACE_HOURS).toBe(6);
  });

  it('is started every hour, at minute 20 (one data point in each hour of the alarms), by a schedule with no flexible window', () => {
    const functionId = logicalId(synth.stack, freshness.checker.function);
    const schedules = resourcesOf(synth.template, 'AWS::Scheduler::Schedule').filter(([, s]) =>
      render((s.Properties.Target as { Arn: unknown }).Arn).includes(functionId),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: 'cron(20 * * * ? *)',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
  });

  it('may list and read outcomes/ and expectations/ only, decrypt through S3 only, and write nothing', () => {
    const statements = roleStatements(synth.template, logicalId(synth.stack, freshness.checker.role));
    const bucketId = logicalId(synth.stack, synth.stack.archive.bucket);
    const byAction = (action: string) => statements.filter((s) => asArray(s.Action).includes(action));
    expect(
      statements
        .flatMap((s) => asArray(s.Action))
        .filter((a) => /^(s3|kms):/.test(a))
        .sort(),
    ).toEqual(['kms:Decrypt', 's3:GetObject', 's3:ListBucket']);
    const [list] = byAction('s3:ListBucket');
    expect(asArray(list?.Resource).map(render)).toEqual([`<${bucketId}.Arn>`]);
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['outcomes/*', 'expectations/*'] } });
    expect(
      byAction('s3:GetObject')
        .flatMap((s) => asArray(s.Resource).map(render))
        .sort(),
    ).toEqual([`<${bucketId}.Arn>/expectations/*`, `<${bucketId}.Arn>/outcomes/*`]);
    const [decrypt] = byAction('kms:Decrypt');
    expect(asArray(decrypt?.Resource).map(render)).toEqual([
      `<${logicalId(synth.stack, synth.stack.archive.key)}.Arn>`,
    ]);
    expect(decrypt?.Condition?.StringEquals).toHaveProperty('kms:ViaService');
  });
});

describe('the freshness alarms', () => {
  it('watch every enabled vendor hourly, notify the topic, and treat missing data as breaching', () => {
    const topicId = logicalId(synth.stack, synth.stack.alerts.topic);
    for (const [vendor] of enabledVendors(synth.config)) {
      const minutes = alarmOn(MINUTES_SINCE_LAST_ARCHIVED, vendor);
      const stale = alarmOn(STALE_TENANTS, vendor);
      for (const alarm of [minutes, stale]) {
        expect(alarm).toMatchObject({
          Namespace: METRICS_NAMESPACE,
          Statistic: 'Maximum',
          Period: 3600,
          EvaluationPeriods: 1,
          TreatMissingData: 'breaching',
          AlarmActions: [{ Ref: topicId }],
        });
      }
      // a daily schedule (24 h) plus the default grace (6 h)
      expect(minutes).toMatchObject({ Threshold: 30 * 60, ComparisonOperator: 'GreaterThanThreshold' });
      expect(stale).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
  });

  it('have the check’s own errors alarm say what its failure means, with its own runbook page', () => {
    const errors = resourcesOf(synth.template, 'AWS::CloudWatch::Alarm').find(([id]) =>
      id.startsWith('AlertsFreshnessCheckErrors'),
    );
    const description = String(errors?.[1].Properties.AlarmDescription);
    expect(description).toContain('the hourly freshness check failed');
    expect(description).not.toContain('state machine');
    expect(description).toMatch(/Runbook: docs\/runbooks\/freshness-check-errors\.md$/);
  });
});

describe('a disabled schedule', () => {
  let archive: OpsArchive;
  beforeAll(async () => {
    archive = await startOpsArchive();
    await archive.expect('openathens', [expectation({ tenant: 'a' }), expectation({ tenant: 'b' })]);
    // archived every day at 01:35 for the day before, until the run of 6 December: then the schedule was disabled
    for (const date of ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05']) {
      const recordedAt = new Date(Date.parse(`${date}T01:35:00Z`) + 86_400_000).toISOString();
      await archive.record(
        outcome({ tenant: 'a', report_date: date, recorded_at: recordedAt }),
        outcome({ tenant: 'b', report_date: date, recorded_at: recordedAt }),
      );
    }
  });
  afterAll(async () => {
    await archive?.close();
  });

  /** The data points the check publishes for openathens at `now` (the deployed vendors and grace). */
  async function publishedAt(now: string): Promise<Record<string, number | undefined>> {
    const lines: string[] = [];
    const environment = deployedEnvironment();
    await checkFreshness({
      s3: archive.s3.client,
      bucket: archive.s3.bucket,
      vendors: environment.FRESHNESS_VENDORS.filter((v) => v.vendor === 'openathens'),
      graceHours: environment.FRESHNESS_GRACE_HOURS,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: (line) => lines.push(line),
      now: () => new Date(now),
    });
    const point = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((p) => p.Vendor === 'openathens');
    const value = (name: string) => (typeof point?.[name] === 'number' ? point[name] : undefined);
    return { [MINUTES_SINCE_LAST_ARCHIVED]: value(MINUTES_SINCE_LAST_ARCHIVED), [STALE_TENANTS]: value(STALE_TENANTS) };
  }

  it('raises neither alarm at the last hourly check within cadence + grace of the last archive', async () => {
    // last archived 2026-12-06T01:35Z; cadence + grace ends 2026-12-07T07:35Z
    const points = await publishedAt('2026-12-07T07:00:00Z');
    expect(breaches(alarmOn(MINUTES_SINCE_LAST_ARCHIVED, 'openathens'), points[MINUTES_SINCE_LAST_ARCHIVED])).toBe(
      false,
    );
    expect(breaches(alarmOn(STALE_TENANTS, 'openathens'), points[STALE_TENANTS])).toBe(false);
  });

  it('raises both at the first hourly check past cadence + grace', async () => {
    const points = await publishedAt('2026-12-07T08:00:00Z');
    expect(breaches(alarmOn(MINUTES_SINCE_LAST_ARCHIVED, 'openathens'), points[MINUTES_SINCE_LAST_ARCHIVED])).toBe(
      true,
    );
    expect(breaches(alarmOn(STALE_TENANTS, 'openathens'), points[STALE_TENANTS])).toBe(true);
    expect(points[STALE_TENANTS]).toBe(2);
  });

  it('raises both for a vendor that never archived anything in the window', async () => {
    const points = await publishedAt('2026-12-20T08:00:00Z');
    expect(breaches(alarmOn(MINUTES_SINCE_LAST_ARCHIVED, 'openathens'), points[MINUTES_SINCE_LAST_ARCHIVED])).toBe(
      true,
    );
    expect(breaches(alarmOn(STALE_TENANTS, 'openathens'), points[STALE_TENANTS])).toBe(true);
  });

  it('raises both when the check itself publishes nothing', () => {
    expect(breaches(alarmOn(MINUTES_SINCE_LAST_ARCHIVED, 'openathens'), undefined)).toBe(true);
    expect(breaches(alarmOn(STALE_TENANTS, 'openathens'), undefined)).toBe(true);
  });
});

describe('a schedule whose cadence cannot be told', () => {
  it('fails synth naming the vendor setting', () => {
    const app = testApp();
    const stack = new Stack(app, 'Test');
    try {
      expect(
        () =>
          new Freshness(stack, 'Freshness', {
            archiveBucket: new s3.Bucket(stack, 'Bucket'),
            archiveKey: new kms.Key(stack, 'Key'),
            vendors: [{ vendor: 'rsa', schedule: 'cron(0 2 L * ? *)', timeZone: 'UTC' }],
            graceHours: 6,
          }),
      ).toThrow(/^vendors\.rsa\.schedule: cannot tell how often "cron\(0 2 L \* \? \*\)" fires/);
    } finally {
      removeOutdir(app);
    }
  });
});
