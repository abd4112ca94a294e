/**
 * Each plan keeps the vendor's expectations (`expectations/<vendor>.jsonl`: one row per tenant ×
 * report of the whole section, sorted, with the `expected_reports` columns), writing them only
 * when they changed (`written_at` aside), conditionally on what it read, and never on a schedule's
 * duplicate delivery. A write that meets another writer's reads again, and gives up after a second
 * refusal rather than loop.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectationsKey } from '../../lambdas/core/layout.ts';
import { expectationsTable } from '../../lambdas/core/tables.ts';
import {
  type ExpectationRow,
  ExpectationsContendedError,
  expectationRows,
  writeExpectations,
} from '../../lambdas/pipeline/expectations.ts';
import { localS3Client } from '../../scripts/local/s3-client.ts';
import { type PlanArchive, startPlanArchive } from './plan-archive.ts';

const KEY = expectationsKey('openathens');

let archive: PlanArchive;
beforeAll(async () => {
  archive = await startPlanArchive();
});
afterAll(async () => {
  await archive?.close();
});

const rows = async (): Promise<ExpectationRow[]> =>
  (await archive.read(KEY))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ExpectationRow);

const tenant = (id: string, extra: { until?: string } = {}) => ({
  id,
  since: '2026-11-01',
  apiName: `${id}.example`,
  ...extra,
});

describe('the expectations a plan writes', () => {
  it('are every tenant of the section, not just the one the run selects, sorted, with the table columns', async () => {
    // Act: a run for one tenant only
    await archive.plan(
      'openathens',
      { tenants: [tenant('b-org'), tenant('a-org', { until: '2026-12-31' })], reports: ['raw_statistics'] },
      { scheduledTime: '2026-11-22T01:30:00Z', tenants: ['b-org'] },
    );

    // Assess
    const written = await rows();
    expect(written).toEqual([
      {
        vendor: 'openathens',
        tenant: 'a-org',
        report: 'raw_statistics',
        since: '2026-11-01',
        until: '2026-12-31',
        cadence: 'event-log',
        history_days: 30,
        written_at: '2026-11-22T01:30:00.000Z',
      },
      {
        vendor: 'openathens',
        tenant: 'b-org',
        report: 'raw_statistics',
        since: '2026-11-01',
        until: null,
        cadence: 'event-log',
        history_days: 30,
        written_at: '2026-11-22T01:30:00.000Z',
      },
    ]);
    expect(Object.keys(written[0] ?? {})).toEqual(expectationsTable().columns.map((c) => c.name));
  });

  it('are not written again when only the time differs', async () => {
    // Act: the next night, the same config
    await archive.plan(
      'openathens',
      { tenants: [tenant('a-org', { until: '2026-12-31' }), tenant('b-org')], reports: ['raw_statistics'] },
      { scheduledTime: '2026-11-23T01:30:00Z' },
    );
    // Assess
    expect((await rows()).map((r) => r.written_at)).toEqual(['2026-11-22T01:30:00.000Z', '2026-11-22T01:30:00.000Z']);
  });

  it('are written again when the config changed them', async () => {
    // Act: b-org retired
    await archive.plan(
      'openathens',
      {
        tenants: [tenant('a-org', { until: '2026-12-31' }), tenant('b-org', { until: '2026-11-23' })],
        reports: ['raw_statistics'],
      },
      { scheduledTime: '2026-11-24T01:30:00Z' },
    );
    // Assess
    const written = await rows();
    expect(written.map((r) => [r.tenant, r.until, r.written_at])).toEqual([
      ['a-org', '2026-12-31', '2026-11-24T01:30:00.000Z'],
      ['b-org', '2026-11-23', '2026-11-24T01:30:00.000Z'],
    ]);
  });

  it("are not written by a schedule's duplicate delivery, whatever its section says", async () => {
    // Act: the schedule delivers 24 November twice; the second carries another section
    const plan = await archive.plan(
      'openathens',
      { tenants: [tenant('c-org')], reports: ['raw_statistics'] },
      { scheduledTime: '2026-11-24T01:30:00Z' },
      { runId: 'run-2' },
    );
    // Assess
    expect(plan.duplicateOf?.run_id).toBe('run-1');
    expect((await rows()).map((r) => r.tenant)).toEqual(['a-org', 'b-org']);
  });

  it('keep a tenant removed from the config, expected up to the day before it left, and stay put', async () => {
    // Act: a-org removed (not given an until), then the same config the next night
    const section = { tenants: [tenant('b-org', { until: '2026-11-23' })], reports: ['raw_statistics'] };
    await archive.plan('openathens', section, { scheduledTime: '2026-11-26T01:30:00Z' });
    const first = await rows();
    await archive.plan('openathens', section, { scheduledTime: '2026-11-27T01:30:00Z' });
    // Assess: its past gaps stay expected days; it is not expected from the day it left
    expect(first.map((r) => [r.tenant, r.since, r.until, r.written_at])).toEqual([
      ['a-org', '2026-11-01', '2026-11-25', '2026-11-26T01:30:00.000Z'],
      ['b-org', '2026-11-01', '2026-11-23', '2026-11-26T01:30:00.000Z'],
    ]);
    expect(await rows()).toEqual(first);
  });
});

describe('writeExpectations meeting another writer', () => {
  const rowsOf = (id: string) =>
    expectationRows(
      'openathens',
      { tenants: [{ id, since: '2026-11-01' }], reports: ['raw_statistics'] },
      { kind: 'event-log', historyDays: 30 },
      new Date('2026-11-25T00:00:00Z'),
    );

  /** A client whose first `times` writes of the key are each preceded by another writer's. */
  function racingClient(times: number): { client: S3Client; puts: () => number } {
    const client = localS3Client(archive.s3.endpoint);
    let raced = 0;
    let puts = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { Key?: string }).Key === KEY && (args.input as { Body?: unknown }).Body !== undefined) {
          puts++;
          if (raced < times) {
            raced++;
            const other = `{"vendor":"openathens","tenant":"other-${raced}"}\n`;
            await archive.s3.client.send(new PutObjectCommand({ Bucket: archive.s3.bucket, Key: KEY, Body: other }));
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'anotherWriterFirst' },
    );
    return { client, puts: () => puts };
  }

  it('reads again after a 412, and writes its rows over what it then read', async () => {
    // Prepare
    const { client, puts } = racingClient(1);
    // Act
    const result = await writeExpectations('openathens', rowsOf('mine'), { s3: client, bucket: archive.s3.bucket });
    // Assess
    expect(result).toBe('WRITTEN');
    expect(puts()).toBe(2);
    expect((await rows()).map((r) => r.tenant)).toEqual(['mine']);
  });

  it('gives up after a second refusal, naming the key', async () => {
    // Prepare
    const { client, puts } = racingClient(5);
    // Act
    const writing = writeExpectations('openathens', rowsOf('yours'), { s3: client, bucket: archive.s3.bucket });
    // Assess
    await expect(writing).rejects.toThrow(ExpectationsContendedError);
    await expect(writing).rejects.toThrow(`${KEY} changed under this run 2 times`);
    expect(puts()).toBe(2);
  });
});
