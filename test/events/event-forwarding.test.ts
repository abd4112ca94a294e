/**
 * lib/event-forwarding.ts in the stack: with `events.targetBusArn`, a rule on the default bus
 * sends every event of the stack's source to that bus, through a role that may put events on that
 * bus only, with a dead-letter queue whose alarm publishes to the alert topic; cdk-nag finds
 * nothing. Without the key, nothing is forwarded. A bad ARN is refused at the config.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alerts } from '../../lib/alerts.ts';
import { ConfigValidationError, parseConfig } from '../../lib/config.ts';
import { EventForwarding } from '../../lib/event-forwarding.ts';
import {
  asArray,
  type Built,
  buildExample,
  EXAMPLE_CONFIG,
  logicalId,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  roleStatements,
} from '../infra/support.ts';

const TARGET = 'arn:aws:events:eu-west-1:222222222222:event-bus/identity-events';
const SOURCE = 'acme.identity-reports';

interface ValidationReport {
  readonly pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

let dir: string;
let built: Built;
let template: Template;
let report: ValidationReport;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forwarding-'));
  const example = JSON.parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8'));
  const config = path.join(dir, 'forwarding.json');
  fs.writeFileSync(config, JSON.stringify({ ...example, events: { source: SOURCE, targetBusArn: TARGET } }));
  built = buildExample(config);
  Validations.of(built.app).addPlugins(new AwsSolutionsChecks(built.app), new ServerlessChecks(built.app));
  template = Template.fromStack(built.stack);
  report = JSON.parse(fs.readFileSync(path.join(built.app.outdir, 'validation-report.json'), 'utf8'));
});

afterAll(() => {
  removeOutdir(built?.app);
  fs.rmSync(dir, { recursive: true, force: true });
});

function forwardingRule() {
  const rules = resourcesOf(template, 'AWS::Events::Rule').filter(([, r]) =>
    asArray(r.Properties.Targets as { Arn: unknown }[]).some((t) => render(t.Arn) === TARGET),
  );
  expect(rules).toHaveLength(1);
  return rules[0]?.[1].Properties as {
    EventBusName?: unknown;
    EventPattern: unknown;
    Targets: { Arn: unknown; RoleArn: unknown; DeadLetterConfig?: { Arn: unknown } }[];
  };
}

describe('events.targetBusArn', () => {
  it('forwards every event of the stack`s source, from the bus the pipelines put them on, unchanged', () => {
    const rule = forwardingRule();
    expect(rule.EventPattern).toEqual({ source: [SOURCE] });
    // no EventBusName: the default bus, as the state machines' putEvents
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0]).not.toHaveProperty('Input');
    expect(rule.Targets[0]).not.toHaveProperty('InputTransformer');
  });

  it('through a role of its own that may put events on the target bus and nothing else', () => {
    const roleId = render(forwardingRule().Targets[0]?.RoleArn).replace(/^<(.+)\.Arn>$/, '$1');
    const role = resourcesById(template)[roleId]?.Properties as { AssumeRolePolicyDocument: unknown };
    expect(role.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const statements = roleStatements(template, roleId);
    expect(statements.map((s) => [s.Effect, asArray(s.Action), render(s.Resource)])).toEqual([
      ['Allow', ['events:PutEvents'], TARGET],
    ]);
  });

  it('sends what it could not deliver to a dead-letter queue whose alarm publishes to the alert topic', () => {
    const queueArn = render(forwardingRule().Targets[0]?.DeadLetterConfig?.Arn);
    const queueId = queueArn.replace(/^<(.+)\.Arn>$/, '$1');
    expect(resourcesById(template)[queueId]?.Type).toBe('AWS::SQS::Queue');
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      asArray(a.Properties.Dimensions as { Value: unknown }[]).some(
        (d) => render(d.Value) === `<${queueId}.QueueName>`,
      ),
    );
    expect(alarms).toHaveLength(1);
    const alarm = alarms[0]?.[1].Properties;
    expect(alarm?.MetricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(asArray(alarm?.AlarmActions as unknown[]).map(render)).toEqual([
      `<${logicalId(built.stack, built.stack.alerts.topic)}>`,
    ]);
  });

  it('leaves cdk-nag nothing to report', () => {
    const findings = report.pluginReports.flatMap((r) =>
      r.violations.map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath)}`),
    );
    expect(findings).toEqual([]);
  });

  it('forwards nothing when not set', () => {
    const example = buildExample();
    try {
      expect(example.config.events.targetBusArn).toBeUndefined();
      expect(example.stack.node.tryFindChild('EventForwarding')).toBeUndefined();
    } finally {
      removeOutdir(example.app);
    }
  });

  it('is refused when it is not an event bus ARN', () => {
    const example = JSON.parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8'));
    const raw = { ...example, events: { targetBusArn: 'arn:aws:sqs:eu-west-1:222222222222:identity-events' } };
    expect(() => parseConfig(raw, 'forwarding.json', 'deploy')).toThrow(ConfigValidationError);
    expect(() => parseConfig(raw, 'forwarding.json', 'deploy')).toThrow(
      /events\.targetBusArn: expected an event bus ARN/,
    );
  });

  it("is refused when it is the stack's own default bus, where the events are put (a loop)", () => {
    const build = (target: string) => {
      const app = new App();
      const stack = new Stack(app, 'Own', { env: { account: '111111111111', region: 'eu-west-1' } });
      const alerts = new Alerts(stack, 'Alerts', { topicName: 'alerts' });
      return () => new EventForwarding(stack, 'EventForwarding', { source: SOURCE, targetBusArn: target, alerts });
    };
    expect(build('arn:aws:events:eu-west-1:111111111111:event-bus/default')).toThrow(/own default bus.*loop/);
    expect(build('arn:aws:events:eu-central-1:111111111111:event-bus/default')).not.toThrow();
    expect(build('arn:aws:events:eu-west-1:111111111111:event-bus/identity-events')).not.toThrow();
  });
});
