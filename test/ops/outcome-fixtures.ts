/**
 * For the tests of the operations side: outcome records and expectation rows as the pipeline
 * writes them, and a local S3 (s3rver) archive to put them in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expectationsKey } from '../../lambdas/core/layout.ts';
import type { ExpectationRow } from '../../lambdas/pipeline/expectations.ts';
import { type OutcomeRecord, writeOutcomeRecord } from '../../lambdas/pipeline/outcome-record.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

/** An outcome record: archived by default, recorded at noon of its day. */
export function outcome(fields: Partial<OutcomeRecord> & Pick<OutcomeRecord, 'tenant' | 'report_date'>): OutcomeRecord {
  const archived = (fields.outcome ?? 'archived') === 'archived';
  return {
    schema_version: 1,
    vendor: 'openathens',
    report: 'raw_statistics',
    outcome: 'archived',
    error: null,
    reason: null,
    run_id: `run-${fields.report_date}-${fields.tenant}`,
    recorded_at: `${fields.report_date}T12:00:00.000Z`,
    manifest_key: archived ? 'manifests/placeholder.json' : null,
    row_count: archived ? 1 : null,
    ...fields,
  };
}

/** An expectation row: due since 2026-11-01, no end. */
export function expectation(fields: Partial<ExpectationRow> & Pick<ExpectationRow, 'tenant'>): ExpectationRow {
  return {
    vendor: 'openathens',
    report: 'raw_statistics',
    since: '2026-11-01',
    until: null,
    cadence: 'event-log',
    history_days: 30,
    written_at: '2026-11-01T00:00:00.000Z',
    ...fields,
  };
}

export interface OpsArchive {
  readonly s3: LocalS3;
  record(...records: OutcomeRecord[]): Promise<void>;
  expect(vendor: string, rows: readonly ExpectationRow[]): Promise<void>;
  put(key: string, body: string): Promise<void>;
  close(): Promise<void>;
}

export async function startOpsArchive(): Promise<OpsArchive> {
  const directory = await mkdtemp(join(tmpdir(), 'ops-archive-'));
  const s3 = await startLocalS3(directory);
  const target = { s3: s3.client, bucket: s3.bucket };
  const put = async (key: string, body: string) => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  };
  return {
    s3,
    async record(...records) {
      for (const record of records) await writeOutcomeRecord(record, target);
    },
    expect: (vendor, rows) => put(expectationsKey(vendor), rows.map((row) => `${JSON.stringify(row)}\n`).join('')),
    put,
    async close() {
      await s3.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
