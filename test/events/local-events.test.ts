/**
 * Every event the local pipeline emits (`.local/events.jsonl`, scripts/local/events-log.ts) is
 * valid against its schema in events/schemas/, checked with a real Draft 4 validator (Ajv), and
 * the validator refuses an event that breaks the schema. The runs: the CSP simulator with one
 * tenant's credentials refused (Report Archived and Report Failed), then a day not over yet
 * (Report Skipped, the vendor's window not passed).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/local/start.ts';
import { runCommand } from '../support/cli.ts';
import { type EventValidator, eventValidator } from './validator.ts';

type Envelope = Record<string, unknown> & { 'detail-type': string; detail: Record<string, unknown> };

const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

let dir: string;
let events: Envelope[];
let validator: EventValidator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'events-'));
  const workspace = ['--workspace', join(dir, 'ws')];
  // Prepare: chen's credentials are refused; a fresh workspace's CSP tenants are due from yesterday
  const failing = await runCommand(startCommand, [
    ...['--vendor', 'csp', '--inject-failure', 'csp/chen', '--date', daysFromNow(-1), ...workspace],
  ]);
  expect(failing.code, failing.stdout + failing.stderr).toBe(1);
  // two days ahead: no race with midnight UTC between the test and the runner
  const skipping = await runCommand(startCommand, ['--vendor', 'csp', '--date', daysFromNow(2), ...workspace]);
  expect(skipping.code, skipping.stdout + skipping.stderr).toBe(0);
  events = (await readFile(join(dir, 'ws', 'events.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Envelope);
  validator = eventValidator();
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deep copy of the first event of a type, changed by `edit`. */
function changed(detailType: string, edit: (event: Envelope) => void): Envelope {
  const event = events.find((e) => e['detail-type'] === detailType);
  if (!event) throw new Error(`the local runs emitted no ${detailType}`);
  const copy = structuredClone(event);
  edit(copy);
  return copy;
}

describe('the events of a local run', () => {
  it('include every type that has a schema', () => {
    const types = new Set(events.map((e) => e['detail-type']));
    expect([...types].sort()).toEqual(validator.files.map((f) => f.detailType).sort());
  });

  it('are each valid against the schema of its detail-type', () => {
    const invalid = events.flatMap((event) => {
      const { valid, errors } = validator.check(event);
      return valid ? [] : [{ detailType: event['detail-type'], detail: event.detail, errors }];
    });
    expect(invalid).toEqual([]);
    expect(events.length).toBe(6);
  });

  it('carry the source the schemas name', () => {
    for (const event of events) {
      const file = validator.files.find((f) => f.detailType === event['detail-type']);
      expect(event.source).toBe(file?.content['x-amazon-events-source']);
    }
  });
});

describe('the validator', () => {
  it.each([
    [
      'Report Failed',
      'without its error',
      (e: Envelope) => delete e.detail.error,
      /required.*"missingProperty":"error"/,
    ],
    ['Report Skipped', 'without its reason', (e: Envelope) => delete e.detail.reason, /"missingProperty":"reason"/],
    [
      'Report Archived',
      'without its manifest key',
      (e: Envelope) => delete (e.detail.keys as Record<string, unknown>).manifest,
      /\/detail\/keys .*"missingProperty":"manifest"/,
    ],
    [
      'Report Archived',
      'with a field the schema does not name',
      (e: Envelope) => Object.assign(e.detail, { extra: 1 }),
      /additional properties.*"additionalProperty":"extra"/,
    ],
    [
      'Report Archived',
      'with a row count as a string',
      (e: Envelope) => Object.assign(e.detail, { rowCount: '30' }),
      /\/detail\/rowCount must be integer/,
    ],
    ['Report Failed', 'with a tenant but no date', (e: Envelope) => delete e.detail.date, /"missingProperty":"date"/],
    [
      'Report Skipped',
      'with a time that is not a date-time',
      (e: Envelope) => (e.time = 'yesterday'),
      /\/time must match format "date-time"/,
    ],
    [
      'Report Archived',
      'of a detail-type under another name',
      (e: Envelope) => (e['detail-type'] = 'Report Done'),
      /no schema/,
    ],
  ])('refuses a %s event %s', (detailType, _what, edit, error) => {
    // Prepare: a real event, broken one way
    const event = changed(detailType, edit);
    // Act
    const result = validator.check(event);
    // Assess
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(error);
  });

  it('accepts a Report Failed of a run that could not be planned (no tenant, report or date)', () => {
    const event = changed('Report Failed', (e) => {
      const { vendor, runId } = e.detail;
      e.detail = { vendor, runId, error: 'States.TaskFailed', cause: 'the plan step failed' };
    });
    expect(validator.check(event)).toEqual({ valid: true, errors: [] });
  });
});
