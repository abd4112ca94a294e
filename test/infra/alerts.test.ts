/**
 * The alert topic and the alarms wired to it: per state machine, per function, per vendor metric
 * and per schedule dead-letter queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS } from '../../lambdas/ops/freshness-metrics.ts';
import { DATES_AT_RISK, METRICS_NAMESPACE } from '../../lambdas/pipeline/metrics.ts';
import {
  documentStatements,
  logicalId,
  type Resources,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  type Synthesized,
  synthExample,
} from './support.ts';

let synth: Synthesized;
let resources: Resources;
let topicId: string;

beforeAll(() => {
  synth = synthExample();
  resources = resourcesById(synth.template);
  topicId = logicalId(synth.stack, synth.stack.alerts.topic);
});

afterAll(() => removeOutdir(synth.app));

type AlarmProperties = {
  MetricName: string;
  Namespace: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic: string;
  Period: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
};

const alarms = () =>
  resourcesOf(synth.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as unknown as AlarmProperties);

/** The alarms on `metricName` whose dimension `name` renders as `value`. */
const alarmsOn = (metricName: string, name: string, value: string) =>
  alarms().filter(
    (a) => a.MetricName === metricName && a.Dimensions?.some((d) => d.Name === name && render(d.Value) === value),
  );

describe('alert topic', () => {
  it('has the configured name, a rotating customer-managed key that CloudWatch may use, and a TLS-only policy', () => {
    const topic = resources[topicId]?.Properties ?? {};
    expect(topic.TopicName).toBe(synth.config.alerts.topicName);
    const keyId = logicalId(synth.stack, synth.stack.alerts.key);
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const key = resources[keyId]?.Properties ?? {};
    expect(key.EnableKeyRotation).toBe(true);
    expect(documentStatements(key.KeyPolicy)).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    const policy = resourcesOf(synth.template, 'AWS::SNS::TopicPolicy').find(([, p]) =>
      (p.Properties.Topics as unknown[]).some((t) => render(t) === `<${topicId}>`),
    );
    expect(documentStatements(policy?.[1].Properties.PolicyDocument)).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('has one email subscription per configured address', () => {
    const subscriptions = resourcesOf(synth.template, 'AWS::SNS::Subscription').map(([, s]) => s.Properties);
    expect(subscriptions.map((s) => s.Endpoint).sort()).toEqual([...synth.config.alerts.emails].sort());
    for (const s of subscriptions) expect(s).toMatchObject({ Protocol: 'email', TopicArn: { Ref: topicId } });
  });
});

describe('alarms', () => {
  it('all notify the alert topic when at least one event happens, and stay quiet without data', () => {
    expect(alarms().length).toBeGreaterThan(0);
    // but the freshness alarms, for which no data is the alarm (test/infra/freshness.test.ts)
    const freshness = new Set([MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS]);
    for (const alarm of alarms().filter((a) => !freshness.has(a.MetricName))) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('watch every state machine for failed, timed-out, throttled and aborted executions', () => {
    for (const pipeline of synth.stack.pipelines) {
      const arn = `<${logicalId(synth.stack, pipeline.stateMachine)}>`;
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled', 'ExecutionsAborted']) {
        const found = alarmsOn(metric, 'StateMachineArn', arn);
        expect(found, `${pipeline.vendor} ${metric}`).toHaveLength(1);
        expect(found[0]).toMatchObject({ Namespace: 'AWS/States', Statistic: 'Sum' });
      }
    }
  });

  it('watch every function for errors and throttles', () => {
    for (const pipeline of synth.stack.pipelines) {
      for (const fn of pipeline.functions) {
        const name = `<${logicalId(synth.stack, fn.function)}>`;
        for (const metric of ['Errors', 'Throttles']) {
          const found = alarmsOn(metric, 'FunctionName', name);
          expect(found, `${fn.node.path} ${metric}`).toHaveLength(1);
          expect(found[0]).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum' });
        }
      }
    }
  });

  it('watch the dates at risk of every vendor: the daily maximum', () => {
    for (const pipeline of synth.stack.pipelines) {
      const found = alarmsOn(DATES_AT_RISK, 'Vendor', pipeline.vendor);
      expect(found, pipeline.vendor).toHaveLength(1);
      expect(found[0]).toMatchObject({ Namespace: METRICS_NAMESPACE, Statistic: 'Maximum', Period: 86_400 });
    }
  });

  it('watch every schedule dead-letter queue', () => {
    for (const pipeline of synth.stack.pipelines) {
      const queue = `<${logicalId(synth.stack, pipeline.scheduleDeadLetterQueue)}.QueueName>`;
      expect(alarmsOn('ApproximateNumberOfMessagesVisible', 'QueueName', queue), pipeline.vendor).toHaveLength(1);
    }
  });
});
