/**
 * The report notification rules against the events the pipeline really emits: the OpenAthens
 * definition run locally against its simulator (one organisation that works, one whose account
 * expired, one whose report job fails), each event matched against the synthesized rules'
 * patterns and turned into the message their input transformers would send.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAthensSectionSchema } from '../../lambdas/connectors/openathens/settings.ts';
import { connectorFor } from '../../lambdas/connectors/registry.ts';
import { Alerts } from '../../lib/alerts.ts';
import { type LocalEvent, runLocalPipeline } from '../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import {
  localVendorSection,
  type OpenAthensSimulator,
  type SimulatedOrganisation,
  startOpenAthensSimulator,
} from '../../simulators/openathens/server.ts';
import { testAppConfig } from '../support/app-config.ts';
import { removeOutdir, resourcesOf, testApp } from './support.ts';

const NOW = new Date('2026-11-22T01:30:00Z');
const YESTERDAY = '2026-11-21';

const org = (tenantId: string, overrides: Partial<SimulatedOrganisation> = {}): SimulatedOrganisation => ({
  tenantId,
  apiName: `${tenantId}.example.org`,
  apiKey: `oa-key-${tenantId}-0123456789abcdef`,
  organisationId: String(100_000 + tenantId.length * 7919),
  attributes: [],
  rows: 5,
  task: { runningPolls: 0 },
  ...overrides,
});
const ORGANISATIONS = [
  org('uni'),
  org('expired', { keyProblem: 'accountExpired' }),
  org('odd-status', { task: { runningPolls: 1, finalStatus: 'ERROR' } }),
];

type Matcher = string | { exists?: boolean; 'anything-but'?: string[] };
interface Rule {
  id: string;
  pattern: { source: string[]; 'detail-type': string[]; detail: Record<string, Matcher[]> };
  paths: Record<string, string>;
  template: string;
}

/** EventBridge matching for what the rules use: values, `exists: true`, `anything-but`. */
function matches(rule: Rule, event: LocalEvent): boolean {
  if (!rule.pattern.source.includes(event.source) || !rule.pattern['detail-type'].includes(event.detailType)) {
    return false;
  }
  return Object.entries(rule.pattern.detail).every(([field, matchers]) => {
    const value = event.detail[field];
    return matchers.some((m) => {
      if (typeof m === 'string') return value === m;
      if (m.exists) return value !== undefined;
      return typeof value === 'string' && !(m['anything-but'] ?? []).includes(value);
    });
  });
}

/** The text the input transformer sends: each `<name>` replaced by its `$.detail.<field>`. */
function message(rule: Rule, event: LocalEvent): string {
  const text = JSON.parse(rule.template) as string;
  return text.replace(/<([^<>\s]+)>/g, (_, name: string) => {
    const field = (rule.paths[name] ?? '').replace(/^\$\.detail\./, '');
    const value = event.detail[field];
    if (value === undefined) throw new Error(`${rule.id}: <${name}> (${rule.paths[name]}) is not in the event`);
    return String(value);
  });
}

let dir: string;
let s3: LocalS3;
let sim: OpenAthensSimulator;
let events: LocalEvent[];
let rules: Rule[];

beforeAll(async () => {
  // the rules, synthesized
  const app = testApp();
  const stack = new Stack(app, 'Notifications');
  new Alerts(stack, 'Alerts', { topicName: 't' }).watchReports({
    eventSource: 'identity-report-archive',
    notifySkipped: true,
  });
  rules = resourcesOf(Template.fromStack(stack), 'AWS::Events::Rule').map(([id, r]) => {
    const [target] = r.Properties.Targets as {
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
    }[];
    return {
      id,
      pattern: r.Properties.EventPattern as Rule['pattern'],
      paths: target?.InputTransformer.InputPathsMap ?? {},
      template: target?.InputTransformer.InputTemplate ?? '""',
    };
  });
  removeOutdir(app);
  // the events, from a local run of the deployed definition
  dir = await mkdtemp(join(tmpdir(), 'alerts-events-'));
  await mkdir(join(dir, 'tmp'));
  s3 = await startLocalS3(join(dir, 's3'));
  sim = await startOpenAthensSimulator({ now: () => NOW, organisations: ORGANISATIONS });
  const section = localVendorSection(sim);
  section.tenants = section.tenants.map((tenant) => ({ ...tenant, since: YESTERDAY }));
  const config = testAppConfig({
    openathens: OpenAthensSectionSchema.parse({
      ...section,
      poll: { intervalSeconds: 1, maxAttempts: 3, deadlineMinutes: 5 },
    }),
  });
  const [result] = await runLocalPipeline({
    config,
    scheduledTime: NOW,
    now: () => NOW,
    s3,
    tmpDir: join(dir, 'tmp'),
    fastWaitsMs: 1,
    connectors: [connectorFor('openathens')],
    date: YESTERDAY,
  });
  events = result?.events ?? [];
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ruleNamed = (prefix: string) => rules.find((r) => r.id.startsWith(`Alerts${prefix}`)) as Rule;
const eventOf = (tenant: string) => events.find((e) => e.detail.tenant === tenant) as LocalEvent;
const matching = (event: LocalEvent) =>
  rules.filter((r) => matches(r, event)).map((r) => r.id.replace(/^Alerts|[0-9A-F]{8}$/g, ''));

describe('report notifications, from the events a run emits', () => {
  it('send a failure that is not about credentials once, as Report Failed with its error and cause', () => {
    const failed = eventOf('odd-status');
    expect(failed.detailType).toBe('Report Failed');
    expect(matching(failed)).toEqual(['ReportFailed']);
    const text = message(ruleNamed('ReportFailed'), failed);
    expect(text).toMatch(
      /^Report Failed: openathens\/odd-status raw_statistics for 2026-11-21\nError: JobFailed\nCause: .*ERROR/,
    );
    expect(text).toMatch(/\nRunbook: docs\/runbooks\/report-failed\.md$/);
  });

  it('send rejected credentials once, as their own notification naming the tenant and the rotation runbook', () => {
    const rejected = eventOf('expired');
    expect(rejected.detail.error).toBe('VendorAuthError');
    expect(matching(rejected)).toEqual(['CredentialsRejected']);
    const text = message(ruleNamed('CredentialsRejected'), rejected);
    expect(text).toMatch(/^Credentials rejected for openathens\/expired: /);
    expect(text).toContain('401 accountExpired');
    expect(text).toMatch(/\nRunbook: docs\/runbooks\/credentials-rejected\.md$/);
  });

  it('send nothing for an archived report', () => {
    const archived = eventOf('uni');
    expect(archived.detailType).toBe('Report Archived');
    expect(matching(archived)).toEqual([]);
  });

  it('never carry a credential', () => {
    const texts = events.flatMap((event) => rules.filter((r) => matches(r, event)).map((r) => message(r, event)));
    expect(texts).toHaveLength(2);
    for (const organisation of ORGANISATIONS) {
      for (const text of texts) expect(text).not.toContain(organisation.apiKey);
    }
  });
});
