/**
 * Every alarm and every notification of the stack says what it means and ends with its runbook,
 * `Runbook: <alerts.runbookBaseUrl><page>.md`, and every page it names exists in docs/runbooks/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alerts } from '../../lib/alerts.ts';
import { parseConfig } from '../../lib/config.ts';
import { ALARM_DESCRIPTION_MAX_CHARS, RUNBOOK_PAGES } from '../../lib/runbooks.ts';
import {
  EXAMPLE_CONFIG,
  ROOT,
  removeOutdir,
  render,
  resourcesOf,
  type Synthesized,
  synthExample,
  testApp,
} from './support.ts';

const RUNBOOKS = path.join(ROOT, 'docs', 'runbooks');
const OWN_BASE = 'https://github.com/example/identity-report-archive/blob/main/docs/runbooks/';

let synth: Synthesized;
let own: Synthesized;
let configDir: string;

beforeAll(() => {
  synth = synthExample();
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alerts-runbooks-'));
  const raw = JSON.parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8'));
  const configPath = path.join(configDir, 'own-runbooks.json');
  fs.writeFileSync(
    configPath,
    JSON.stringify({ ...raw, alerts: { ...raw.alerts, runbookBaseUrl: OWN_BASE, notifySkipped: true } }),
  );
  own = synthExample(configPath);
});

afterAll(() => {
  removeOutdir(synth?.app);
  removeOutdir(own?.app);
  fs.rmSync(configDir, { recursive: true, force: true });
});

const alarmDescriptions = (s: Synthesized) =>
  resourcesOf(s.template, 'AWS::CloudWatch::Alarm').map(
    ([id, a]) => [id, String(a.Properties.AlarmDescription)] as const,
  );

/** The text each rule sends to its target (its input template is a JSON string, maybe joined with an ARN). */
const notificationTexts = (s: Synthesized) =>
  resourcesOf(s.template, 'AWS::Events::Rule').flatMap(([id, rule]) =>
    (rule.Properties.Targets as { InputTransformer?: { InputTemplate: unknown } }[]).map(
      (t) => [id, JSON.parse(render(t.InputTransformer?.InputTemplate)) as string] as const,
    ),
  );

/** The page a text's last line names under `base`, or undefined. */
function pageOf(text: string, base: string): string | undefined {
  const escaped = base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`Runbook: ${escaped}([a-z0-9-]+)\\.md$`).exec(text)?.[1];
}

describe('runbook pages', () => {
  it('exist for every page the alerts can name, and the index links each of them', () => {
    const index = fs.readFileSync(path.join(RUNBOOKS, 'README.md'), 'utf8');
    for (const page of RUNBOOK_PAGES) {
      expect(fs.existsSync(path.join(RUNBOOKS, `${page}.md`)), page).toBe(true);
      expect(index, page).toContain(`(${page}.md)`);
    }
  });
});

describe('alarm descriptions', () => {
  it('say what the alarm means, then name an existing runbook page, within CloudWatch’s limit', () => {
    const described = alarmDescriptions(synth);
    expect(described.length).toBeGreaterThan(0);
    for (const [id, description] of described) {
      const page = pageOf(description, 'docs/runbooks/');
      expect(page, `${id}: ${description}`).toBeDefined();
      expect(fs.existsSync(path.join(RUNBOOKS, `${page}.md`)), `${id} names ${page}.md`).toBe(true);
      const meaning = description.slice(0, description.indexOf(' Runbook: '));
      expect(meaning.length, id).toBeGreaterThan(40);
      expect(description.length, id).toBeLessThanOrEqual(ALARM_DESCRIPTION_MAX_CHARS);
    }
  });

  it('link the configured alerts.runbookBaseUrl instead of the repository folder', () => {
    for (const [id, description] of alarmDescriptions(own)) {
      expect(pageOf(description, OWN_BASE), `${id}: ${description}`).toBeDefined();
    }
  });

  it('are refused at synth when a long base would push one past 1,024 characters', () => {
    // Prepare
    const app = testApp();
    const stack = new Stack(app, 'LongBase');
    const alerts = new Alerts(stack, 'Alerts', {
      topicName: 't',
      runbookBaseUrl: `https://example.org/${'x'.repeat(900)}/`,
    });
    // Act
    const watching = () => alerts.watchVendor('openathens');
    // Assess
    expect(watching).toThrow(
      /alarm OpenathensDatesAtRisk: its description is \d+ characters, CloudWatch accepts at most 1024/,
    );
    removeOutdir(app);
  });
});

describe('notifications', () => {
  it('end with an existing runbook page, in the repository folder or the configured base', () => {
    for (const [s, base] of [
      [synth, 'docs/runbooks/'],
      [own, OWN_BASE],
    ] as const) {
      const texts = notificationTexts(s);
      expect(texts.length).toBeGreaterThan(0);
      for (const [id, text] of texts) {
        const page = pageOf(text, base);
        expect(page, `${id}: ${text}`).toBeDefined();
        expect(fs.existsSync(path.join(RUNBOOKS, `${page}.md`)), `${id} names ${page}.md`).toBe(true);
      }
    }
  });
});

describe('config', () => {
  const alertsWith = (extra: Record<string, unknown>) =>
    parseConfig({ alerts: { topicName: 'a', ...extra }, vendors: {} }, 'test.json', 'local').alerts;

  it('defaults to this repository’s docs/runbooks/ and to no skip notifications', () => {
    expect(alertsWith({})).toMatchObject({ runbookBaseUrl: 'docs/runbooks/', notifySkipped: false });
  });

  it('refuses a runbook base that does not end in "/"', () => {
    expect(() => alertsWith({ runbookBaseUrl: 'https://example.org/runbooks' })).toThrow(
      /alerts\.runbookBaseUrl: expected a URL or path ending in "\/"/,
    );
  });
});
