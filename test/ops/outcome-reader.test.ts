/**
 * The outcome reader lists a vendor's records one day at a time over the local S3, parses each
 * with the record's schema, and never drops one it cannot read: the error names the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lostOutcomeKey } from '../../lambdas/core/layout.ts';
import { readExpectations, readOutcomes } from '../../lambdas/ops/outcome-reader.ts';
import { expectation, type OpsArchive, outcome, startOpsArchive } from './outcome-fixtures.ts';

let archive: OpsArchive;
beforeAll(async () => {
  archive = await startOpsArchive();
  await archive.record(
    outcome({ tenant: 'a-org', report_date: '2026-11-30' }),
    outcome({ tenant: 'a-org', report_date: '2026-12-01' }),
    outcome({
      tenant: 'b-org',
      report_date: '2026-12-01',
      outcome: 'failed',
      error: 'VendorAuthError',
      reason: 'HTTP 401',
    }),
    outcome({ tenant: 'b-org', report_date: '2026-12-02', outcome: 'lost', run_id: 'plan-1', reason: 'aged out' }),
    outcome({ tenant: 'a-org', report_date: '2026-12-03' }),
    outcome({ vendor: 'csp', report: 'audit_log', tenant: 'ops', report_date: '2026-12-01' }),
  );
});
afterAll(async () => {
  await archive?.close();
});

const read = (vendor: string, from: string, to: string) =>
  readOutcomes(archive.s3.client, archive.s3.bucket, vendor, from, to);

describe('readOutcomes', () => {
  it('returns every record of the vendor whose day is in the range, lost dates included', async () => {
    // Act
    const records = await read('openathens', '2026-12-01', '2026-12-02');

    // Assess
    expect(records.map((r) => [r.report_date, r.tenant, r.outcome])).toEqual([
      ['2026-12-01', 'a-org', 'archived'],
      ['2026-12-01', 'b-org', 'failed'],
      ['2026-12-02', 'b-org', 'lost'],
    ]);
    expect(records[1]).toMatchObject({ error: 'VendorAuthError', reason: 'HTTP 401' });
  });

  it('returns nothing for days with no records', async () => {
    expect(await read('openathens', '2026-11-01', '2026-11-05')).toEqual([]);
  });

  it('refuses a range that ends before it starts', async () => {
    await expect(read('openathens', '2026-12-02', '2026-12-01')).rejects.toThrow(/from must not be after to/);
  });
});

describe('a record the reader cannot use', () => {
  it('is an error naming its key when it is not a record', async () => {
    // Prepare
    const key = 'outcomes/vendor=rsa/dt=2026-12-01/users/acme/run-1.json';
    await archive.put(key, '{"schema_version":1,"vendor":"rsa"}\n');

    // Act / Assess
    await expect(read('rsa', '2026-12-01', '2026-12-01')).rejects.toThrow(key);
  });

  it('is an error naming its key when it is not JSON', async () => {
    // Prepare
    const key = 'outcomes/vendor=pingone/dt=2026-12-01/users/env/run-1.json';
    await archive.put(key, 'not json');

    // Act / Assess
    await expect(read('pingone', '2026-12-01', '2026-12-01')).rejects.toThrow(`${key}: not JSON`);
  });

  it('is an error when it sits under another day than its own', async () => {
    // Prepare: a valid record of 2026-12-05 copied under dt=2026-12-06
    const record = outcome({ vendor: 'csp', report: 'audit_log', tenant: 'misfiled', report_date: '2026-12-05' });
    const key = lostOutcomeKey({ vendor: 'csp', report: 'audit_log', tenant: 'misfiled', date: '2026-12-06' });
    await archive.put(key, JSON.stringify(record));

    // Act / Assess
    await expect(read('csp', '2026-12-06', '2026-12-06')).rejects.toThrow(
      `outcome record ${key}: holds vendor csp and report_date 2026-12-05; expected csp and 2026-12-06`,
    );
  });
});

describe('readExpectations', () => {
  it('is empty before the vendor has any', async () => {
    expect(await readExpectations(archive.s3.client, archive.s3.bucket, 'openathens')).toEqual([]);
  });

  it('returns the rows the object holds', async () => {
    // Prepare
    const rows = [
      expectation({ vendor: 'csp', tenant: 'a' }),
      expectation({ vendor: 'csp', tenant: 'b', until: '2026-12-01' }),
    ];
    await archive.expect('csp', rows);

    // Act / Assess
    expect(await readExpectations(archive.s3.client, archive.s3.bucket, 'csp')).toEqual(rows);
  });

  it('is an error naming the key and line of a row that does not parse', async () => {
    // Prepare
    await archive.put(
      'expectations/rsa.jsonl',
      `${JSON.stringify(expectation({ vendor: 'rsa', tenant: 'a' }))}\n{"tenant":"b"}\n`,
    );

    // Act / Assess
    await expect(readExpectations(archive.s3.client, archive.s3.bucket, 'rsa')).rejects.toThrow(
      /expectations\/rsa\.jsonl line 2: /,
    );
  });
});
