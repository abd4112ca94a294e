/**
 * The pipeline's events to the alert topic: Report Failed, rejected credentials on their own (and
 * not twice), Report Skipped only when `alerts.notifySkipped`; each with a dead-letter queue that
 * has an alarm, and a message made only of fields the event's detail carries.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VendorAuthError } from '../../lambdas/core/errors.ts';
import { Alerts } from '../../lib/alerts.ts';
import { REPORT_FAILED, REPORT_SKIPPED } from '../../state-machines/report-pipeline.ts';
import {
  logicalId,
  type Resource,
  type Resources,
  removeOutdir,
  render,
  resourcesById,
  resourcesOf,
  type Synthesized,
  synthExample,
  testApp,
} from './support.ts';

/** The fields of a Report Failed / Report Skipped detail (design: vendor, tenant, report, date, runId, error, cause / reason). */
const DETAIL_FIELDS = ['vendor', 'tenant', 'report', 'date', 'runId', 'error', 'cause', 'reason'];

interface Target {
  Arn: unknown;
  DeadLetterConfig: { Arn: unknown };
  InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
}

let synth: Synthesized;
let resources: Resources;
let topicId: string;

beforeAll(() => {
  synth = synthExample();
  resources = resourcesById(synth.template);
  topicId = logicalId(synth.stack, synth.stack.alerts.topic);
});

afterAll(() => removeOutdir(synth?.app));

/** The rules on the pipeline's events, by detail type. */
const reportRules = (template: Template) =>
  resourcesOf(template, 'AWS::Events::Rule').filter(([, r]) =>
    ((r.Properties.EventPattern as { source?: string[] }).source ?? []).includes(synth.config.events.source),
  );
const pattern = (rule: Resource) =>
  rule.Properties.EventPattern as { 'detail-type': string[]; detail: Record<string, unknown> };
const target = (rule: Resource) => (rule.Properties.Targets as Target[])[0] as Target;

describe('report notifications', () => {
  it('send an item’s Report Failed, except rejected credentials', () => {
    const rule = reportRules(synth.template).find(([, r]) =>
      JSON.stringify(pattern(r).detail.error).includes('anything-but'),
    )?.[1];
    expect(rule?.Properties.EventPattern).toEqual({
      source: [synth.config.events.source],
      'detail-type': [REPORT_FAILED],
      detail: { tenant: [{ exists: true }], error: [{ 'anything-but': [new VendorAuthError('x').name] }] },
    });
    const text = target(rule!).InputTransformer.InputTemplate;
    for (const field of ['vendor', 'tenant', 'report', 'date', 'error', 'cause'])
      expect(text).toContain(`<detail-${field}>`);
  });

  it('send rejected credentials as their own notification naming the vendor and tenant', () => {
    const rule = reportRules(synth.template).find(
      ([, r]) => JSON.stringify(pattern(r).detail.error) === JSON.stringify([new VendorAuthError('x').name]),
    )?.[1];
    expect(rule?.Properties.EventPattern).toEqual({
      source: [synth.config.events.source],
      'detail-type': [REPORT_FAILED],
      detail: { tenant: [{ exists: true }], error: ['VendorAuthError'] },
    });
    expect(JSON.parse(target(rule!).InputTransformer.InputTemplate)).toMatch(
      /^Credentials rejected for <detail-vendor>\/<detail-tenant>: /,
    );
  });

  it('send no Report Skipped unless alerts.notifySkipped', () => {
    const detailTypes = reportRules(synth.template).flatMap(([, r]) => pattern(r)['detail-type']);
    expect(synth.config.alerts.notifySkipped).toBe(false);
    expect(detailTypes.sort()).toEqual([REPORT_FAILED, REPORT_FAILED]);
  });

  it('send Report Skipped with its reason when alerts.notifySkipped', () => {
    // Prepare
    const app = testApp();
    const stack = new Stack(app, 'Skips');
    const alerts = new Alerts(stack, 'Alerts', { topicName: 't' });
    // Act
    alerts.watchReports({ eventSource: synth.config.events.source, notifySkipped: true });
    // Assess
    const rule = reportRules(Template.fromStack(stack)).find(
      ([, r]) => pattern(r)['detail-type'][0] === REPORT_SKIPPED,
    )?.[1];
    expect(pattern(rule!).detail).toEqual({ tenant: [{ exists: true }] });
    const text = target(rule!).InputTransformer.InputTemplate;
    for (const field of ['vendor', 'tenant', 'report', 'date', 'reason']) expect(text).toContain(`<detail-${field}>`);
    removeOutdir(app);
  });

  it('publish to the alert topic, with a dead-letter queue that has an alarm', () => {
    for (const [id, rule] of reportRules(synth.template)) {
      const { Arn, DeadLetterConfig } = target(rule);
      expect(Arn, id).toEqual({ Ref: topicId });
      const queueId = render(DeadLetterConfig.Arn).replace(/^<(.*)\.Arn>$/, '$1');
      expect(resources[queueId]?.Type, id).toBe('AWS::SQS::Queue');
      const alarmed = resourcesOf(synth.template, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
        JSON.stringify(a.Properties.Dimensions).includes(queueId),
      );
      expect(alarmed, id).toHaveLength(1);
      expect(alarmed[0]?.[1].Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('never carry a secret: every message reads only fields of the event’s detail', () => {
    for (const [id, rule] of reportRules(synth.template)) {
      const { InputPathsMap, InputTemplate } = target(rule).InputTransformer;
      for (const [name, jsonPath] of Object.entries(InputPathsMap)) {
        expect(
          DETAIL_FIELDS.map((f) => `$.detail.${f}`),
          `${id} ${name}`,
        ).toContain(jsonPath);
      }
      // no placeholder the paths map does not define (aws.events.event.json would be the whole event)
      const placeholders = [...InputTemplate.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]);
      for (const placeholder of placeholders) expect(Object.keys(InputPathsMap), id).toContain(placeholder);
    }
  });
});
