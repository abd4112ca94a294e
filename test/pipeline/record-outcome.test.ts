/**
 * The RecordOutcome step against the local S3 (s3rver, with S3's answer to a conditional create):
 * the record each ending writes, the reason kept of a failure's Cause, and a retried invocation
 * that leaves the first record as it is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeKey } from '../../lambdas/core/layout.ts';
import { REASON_MAX_CHARS } from '../../lambdas/pipeline/outcome-record.ts';
import {
  failureReason,
  type RecordOutcomeDeps,
  type RecordOutcomeInput,
  recordOutcome,
} from '../../lambdas/pipeline/record-outcome.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

const RUN_ID = 'arn:aws:states:eu-west-1:123456789012:execution:DemoPipeline:0f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0';
const REQUEST = { tenant: 'acme', report: 'things', date: '2026-11-21' };
const KEY = outcomeKey({ vendor: 'demo', ...REQUEST }, RUN_ID);

let dir: string;
let s3: LocalS3;
let clock = new Date('2026-11-22T02:10:00.000Z');

const deps = (): RecordOutcomeDeps => ({
  vendor: 'demo',
  s3: s3.client,
  bucket: s3.bucket,
  logger: new Logger({ logLevel: 'SILENT' }),
  now: () => clock,
});
const input = (ending: RecordOutcomeInput['ending'], date = REQUEST.date): RecordOutcomeInput => ({
  vendor: 'demo',
  runId: RUN_ID,
  request: { ...REQUEST, date },
  ending,
});
const text = async (key: string) => {
  const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return output.Body!.transformToString('utf8');
};
const record = async (key: string) => JSON.parse(await text(key)) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'record-outcome-'));
  s3 = await startLocalS3(join(dir, 's3'));
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('recordOutcome', () => {
  it('records an archived item with its manifest and row count, at the key of its run', async () => {
    // Act
    const result = await recordOutcome(
      input({ outcome: 'archived', manifestKey: 'manifests/x/manifest.json', rowCount: 3, bytes: 300 }),
      deps(),
    );
    // Assess
    expect(result).toEqual({ recorded: 'RECORDED', key: KEY });
    expect(await record(KEY)).toEqual({
      schema_version: 1,
      vendor: 'demo',
      tenant: 'acme',
      report: 'things',
      report_date: '2026-11-21',
      outcome: 'archived',
      error: null,
      reason: null,
      run_id: RUN_ID,
      recorded_at: '2026-11-22T02:10:00.000Z',
      manifest_key: 'manifests/x/manifest.json',
      row_count: 3,
    });
  });

  it('leaves the first record when the same run records the same item again (a retry)', async () => {
    // Prepare
    const first = await text(KEY);
    clock = new Date('2026-11-22T02:11:00.000Z');
    // Act
    const again = await recordOutcome(
      input({ outcome: 'archived', manifestKey: 'manifests/x/manifest.json', rowCount: 3, bytes: 300 }),
      deps(),
    );
    // Assess
    expect(again).toEqual({ recorded: 'ALREADY_RECORDED', key: KEY });
    expect(await text(KEY)).toBe(first);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'outcomes/' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([KEY]);
  });

  it('records a skip with its reason', async () => {
    // Act
    const { key } = await recordOutcome(
      input({ outcome: 'skipped', reason: 'nothing new for this date' }, '2026-11-20'),
      deps(),
    );
    // Assess
    expect(await record(key)).toMatchObject({ outcome: 'skipped', error: null, reason: 'nothing new for this date' });
  });

  it('records a Lambda error by its name and message, never the trace of its Cause', async () => {
    // Prepare: the Cause a failed lambda:invoke hands to Catch
    const cause = JSON.stringify({
      errorType: 'VendorAuthError',
      errorMessage: 'vendor refused the credentials of tenant acme',
      trace: [
        'VendorAuthError: vendor refused the credentials of tenant acme',
        '    at startJob (/var/task/index.mjs:1:2)',
      ],
    });
    // Act
    const { key } = await recordOutcome(
      input({ outcome: 'failed', error: { Error: 'VendorAuthError', Cause: cause } }, '2026-11-19'),
      deps(),
    );
    // Assess
    const stored = await text(key);
    expect(JSON.parse(stored)).toMatchObject({
      outcome: 'failed',
      error: 'VendorAuthError',
      reason: 'vendor refused the credentials of tenant acme',
      manifest_key: null,
      row_count: null,
    });
    expect(stored).not.toContain('/var/task');
  });

  it('refuses to record an outcome of another vendor', async () => {
    // Act
    const recording = recordOutcome({ ...input({ outcome: 'skipped', reason: null }), vendor: 'other' }, deps());
    // Assess
    await expect(recording).rejects.toMatchObject({ name: 'ConfigError' });
  });
});

describe('failureReason', () => {
  it('keeps the Cause of a States.* error as the service wrote it', () => {
    expect(failureReason({ Error: 'States.Timeout', Cause: '{"detail":"Task timed out"}' })).toBe(
      '{"detail":"Task timed out"}',
    );
  });

  it('keeps a Cause that is a sentence (built by the definition, or a local run)', () => {
    expect(failureReason({ Error: 'DeadlineExceededError', Cause: 'the job was not ready after 4 checks' })).toBe(
      'the job was not ready after 4 checks',
    );
  });

  it('keeps nothing of a Lambda Cause without a message', () => {
    expect(failureReason({ Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', trace: ['at x'] }) })).toBe(
      null,
    );
  });

  it('has no reason for an absent Cause, and cuts a long one', () => {
    expect(failureReason({ Error: 'JobFailed', Cause: null })).toBe(null);
    const long = failureReason({ Error: 'JobFailed', Cause: 'x'.repeat(5000) });
    expect(long).toHaveLength(REASON_MAX_CHARS);
    expect(long?.endsWith('…')).toBe(true);
  });
});
