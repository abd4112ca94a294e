/**
 * The plan step records, once, each date of its look-back that aged out of the vendor's history
 * without a manifest (`lost`, with the reason), within the tenant's since..until; never a date it
 * plans, never one still served, and never for a vendor whose history is undocumented (CSP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lostOutcomeKey } from '../../lambdas/core/layout.ts';
import { OutcomeRecordSchema } from '../../lambdas/pipeline/outcome-record.ts';
import { localS3Client } from '../../scripts/local/s3-client.ts';
import { type PlanArchive, startPlanArchive } from './plan-archive.ts';

const SCHEDULED = '2026-11-22T01:30:00Z';

let archive: PlanArchive;
beforeAll(async () => {
  archive = await startPlanArchive();
});
afterAll(async () => {
  await archive?.close();
});

/** The report dates of the lost records under `vendor`, as `tenant report date`. */
async function lostRecords(vendor: string) {
  const keys = (await archive.keys(`outcomes/vendor=${vendor}/`)).filter((key) => key.endsWith('/lost.json'));
  return Promise.all(keys.map(async (key) => OutcomeRecordSchema.parse(JSON.parse(await archive.read(key)))));
}

/** A client of the same archive that counts the lost records it is asked to write. */
function countingClient() {
  const client = localS3Client(archive.s3.endpoint);
  const written: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const { Key, Body } = args.input as { Key?: string; Body?: unknown };
      if (Key?.endsWith('/lost.json') && Body !== undefined) written.push(Key);
      return next(args);
    },
    { step: 'initialize', name: 'countLostWrites' },
  );
  return { client, written };
}

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let day = Date.parse(`${from}T00:00:00Z`); day <= Date.parse(`${to}T00:00:00Z`); day += 86_400_000) {
    out.push(new Date(day).toISOString().slice(0, 10));
  }
  return out;
}

describe('OpenAthens (30 days of history)', () => {
  const section = {
    tenants: [{ id: 'org', since: '2026-10-01', apiName: 'org.example' }],
    reports: ['raw_statistics'],
  };

  it('records each unarchived day from since that left the window, with the reason', async () => {
    // Prepare: 21 October left the window at the start of 21 November and has settled a day (an
    // execution of the 21st could still have archived it); 22 October left it only today; 10
    // October was archived
    await archive.archive('openathens', 'raw_statistics', 'org', '2026-10-10');

    // Act
    const plan = await archive.plan('openathens', section, { scheduledTime: SCHEDULED }, { runId: 'run-1' });

    // Assess
    const records = await lostRecords('openathens');
    const expected = days('2026-10-01', '2026-10-21').filter((date) => date !== '2026-10-10');
    expect(records.map((r) => r.report_date).sort()).toEqual(expected);
    expect(plan.lost).toBe(expected.length);
    expect(records.find((r) => r.report_date === '2026-10-21')).toEqual({
      schema_version: 1,
      vendor: 'openathens',
      tenant: 'org',
      report: 'raw_statistics',
      report_date: '2026-10-21',
      outcome: 'lost',
      error: null,
      reason: 'OpenAthens serves 30 days; 2026-10-21 aged out on 2026-11-21 without a manifest',
      run_id: 'run-1',
      recorded_at: '2026-11-22T01:30:00.000Z',
      manifest_key: null,
      row_count: null,
    });
    // the window (23 October on) is still served: planned, not lost; 22 October is still settling
    expect(plan.items.map((item) => item.date)).toContain('2026-10-23');
    expect(records.map((r) => r.report_date).filter((date) => date >= '2026-10-22')).toEqual([]);
  });

  const key21 = lostOutcomeKey({ vendor: 'openathens', report: 'raw_statistics', tenant: 'org', date: '2026-10-21' });

  it('finds them recorded on a second plan: writes none again, and leaves the first records as they are', async () => {
    // Prepare
    const before = await archive.read(key21);
    const { client, written } = countingClient();

    // Act: a later plan, another run
    const plan = await archive.plan(
      'openathens',
      section,
      { scheduledTime: SCHEDULED, force: true },
      { runId: 'run-2', now: new Date('2026-11-22T05:00:00Z'), deps: { s3: client } },
    );

    // Assess
    const records = await lostRecords('openathens');
    expect(plan.lost).toBe(records.length);
    expect(written).toEqual([]);
    expect(new Set(records.map((r) => r.run_id))).toEqual(new Set(['run-1']));
    expect(await archive.read(key21)).toBe(before);
  });

  it('writes only the record that is not there', async () => {
    // Prepare: a record gone (an archive copied without it, say)
    await archive.remove(key21);
    const { client, written } = countingClient();

    // Act
    await archive.plan(
      'openathens',
      section,
      { scheduledTime: SCHEDULED, force: true },
      { runId: 'run-3', deps: { s3: client } },
    );

    // Assess
    expect(written).toEqual([key21]);
    expect(JSON.parse(await archive.read(key21)).run_id).toBe('run-3');
  });
});

describe('a snapshot vendor (RSA: only today)', () => {
  const section = { tenants: [{ id: 'acme', since: '2026-11-18' }], reports: ['users', 'hardware_tokens'] };

  it('records every unarchived past day from since, per report, but not the day it plans', async () => {
    // Prepare
    await archive.archive('rsa', 'users', 'acme', '2026-11-19');

    // Act
    const plan = await archive.plan('rsa', section, { scheduledTime: SCHEDULED });

    // Assess
    const records = await lostRecords('rsa');
    expect(records.map((r) => `${r.report} ${r.report_date}`).sort()).toEqual([
      'hardware_tokens 2026-11-18',
      'hardware_tokens 2026-11-19',
      'hardware_tokens 2026-11-20',
      'users 2026-11-18',
      'users 2026-11-20',
    ]);
    // 21 November is still settling: yesterday's execution may yet archive it
    expect(plan.lost).toBe(5);
    expect(plan.items.map((item) => item.date)).toEqual(['2026-11-22', '2026-11-22']);
    expect(records[0]?.reason).toMatch(
      /^a snapshot can only be fetched on its own day; 2026-11-\d\d passed without a manifest$/,
    );
  });

  it('never records a date the run plans, even a past one asked for by hand', async () => {
    // Prepare
    const section2 = { tenants: [{ id: 'initech', since: '2026-11-18' }], reports: ['users'] };

    // Act: the start step will skip 20 November with its reason; this run, on 23 November, must not call it lost
    const plan = await archive.plan('rsa', section2, { scheduledTime: '2026-11-23T01:30:00Z', date: '2026-11-20' });

    // Assess: the listing saw manifests from 20 November on, so only 21 November is known lost
    const records = (await lostRecords('rsa')).filter((r) => r.tenant === 'initech');
    expect(records.map((r) => r.report_date)).toEqual(['2026-11-21']);
    expect(plan.items.map((item) => item.date)).toEqual(['2026-11-20']);
  });

  it('records nothing after until', async () => {
    // Act
    const plan = await archive.plan(
      'rsa',
      { tenants: [{ id: 'globex', since: '2026-11-18', until: '2026-11-19' }], reports: ['users'] },
      // a second schedule delivery of SCHEDULED would be a duplicate, planning nothing
      { scheduledTime: '2026-11-22T01:30:01Z' },
    );
    // Assess
    const records = (await lostRecords('rsa')).filter((r) => r.tenant === 'globex');
    expect(records.map((r) => r.report_date).sort()).toEqual(['2026-11-18', '2026-11-19']);
    expect(plan.lost).toBe(2);
    expect(plan.items).toEqual([]);
  });
});

describe('bookkeeping never stops collection', () => {
  it('plans the run when the lost records and the expectations cannot be written, and says why', async () => {
    // Prepare: an archive that refuses every write but the claim
    const client = localS3Client(archive.s3.endpoint);
    client.middlewareStack.add(
      (next) => async (args) => {
        const { Key, Body } = args.input as { Key?: string; Body?: unknown };
        if (Body !== undefined && !Key?.startsWith('runs/')) throw new Error(`refused: ${Key}`);
        return next(args);
      },
      { step: 'initialize', name: 'refuseWrites' },
    );
    // Act
    const plan = await archive.plan(
      'rsa',
      { tenants: [{ id: 'hooli', since: '2026-11-10' }], reports: ['users'] },
      { scheduledTime: '2026-11-22T01:30:02Z' },
      { deps: { s3: client } },
    );
    // Assess: today's item is planned; the two failures are named
    expect(plan.items.map((item) => `${item.tenant.id} ${item.date}`)).toEqual(['hooli 2026-11-22']);
    expect(plan.lost).toBeGreaterThan(0);
    expect(plan.bookkeeping).toEqual([
      expect.stringMatching(/^expectations not recorded: Error: refused: expectations\/rsa\.jsonl$/),
      expect.stringMatching(/^lost records not recorded: Error: refused: outcomes\/vendor=rsa\//),
    ]);
  });

  it('writes at most its cap of lost records a plan, the oldest first; the next plan writes the rest', async () => {
    // Prepare: 2 reports × 6 days lost (16 to 21 November), a cap of 5
    const section = { tenants: [{ id: 'umbrella', since: '2026-11-16' }], reports: ['users', 'admin_users'] };
    const { client, written } = countingClient();
    const deps = { s3: client, maxLostRecords: 5 };
    // Act
    const first = await archive.plan('rsa', section, { scheduledTime: '2026-11-23T01:30:03Z' }, { deps });
    const firstWritten = [...written];
    await archive.plan('rsa', section, { scheduledTime: '2026-11-23T01:30:04Z' }, { deps });
    await archive.plan('rsa', section, { scheduledTime: '2026-11-23T01:30:05Z' }, { deps });
    // Assess
    expect(first.lost).toBe(12);
    expect(firstWritten.map((key) => key.split('/')[2])).toEqual([
      'dt=2026-11-16',
      'dt=2026-11-16',
      'dt=2026-11-17',
      'dt=2026-11-17',
      'dt=2026-11-18',
    ]);
    expect(written.length).toBe(12);
  });
});

describe('CSP (history undocumented)', () => {
  it('records nothing lost, however old the unarchived days', async () => {
    // Act
    const plan = await archive.plan(
      'csp',
      { tenants: [{ id: 'alice', since: '2026-01-01' }], reports: ['mfa_audit'] },
      { scheduledTime: SCHEDULED },
    );
    // Assess
    expect(plan.lost).toBe(0);
    expect(await lostRecords('csp')).toEqual([]);
  });
});
