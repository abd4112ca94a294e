/**
 * The local catalog (DuckDB over the files the local S3 keeps): a report's name shows only the
 * rows of data objects a manifest names, while `<name>_objects` shows every object with Athena's
 * `"$path"`. Objects and manifests are put through the real local S3 (s3rver over loopback).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey, tablePrefix } from '../../lambdas/core/layout.ts';
import { reportTable } from '../../lambdas/core/tables.ts';
import type { ReportDefinition } from '../../lambdas/core/types.ts';
import { type ArchiveCatalog, openArchiveCatalog } from '../../scripts/local/catalog.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

const VENDOR = 'acme';
const REPORT: ReportDefinition = {
  name: 'users',
  description: 'users of a test vendor',
  columns: [
    { name: 'user_id', type: 'string' },
    { name: 'logins', type: 'bigint' },
  ],
  toRecord: (raw) => ({ user_id: String(raw.user_id), logins: Number(raw.logins) }),
};
const DAY = '2026-11-20';
const NEXT_DAY = '2026-11-21';

let dir: string;
let s3: LocalS3;

/** A data object of `rows` users named `<prefix>-<n>`, at a file name of the test's choosing. */
async function putData(dt: string, tenant: string, file: string, prefix: string, rows: number): Promise<string> {
  const key = `${tablePrefix(VENDOR, REPORT.name)}dt=${dt}/tenant=${tenant}/${file}`;
  const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ user_id: `${prefix}-${i}`, logins: i }));
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: gzipSync(`${lines.join('\n')}\n`) }));
  return key;
}

/** The manifest of a partition, naming `dataKey` as its data object (the fields the view reads). */
async function putManifest(dt: string, tenant: string, dataKey: string): Promise<void> {
  const manifest = { schema_version: 1, tenant, report_date: dt, data: { key: dataKey, format: 'jsonl.gz' } };
  await s3.client.send(
    new PutObjectCommand({
      Bucket: s3.bucket,
      Key: manifestKey({ vendor: VENDOR, report: REPORT.name, tenant, date: dt }),
      Body: `${JSON.stringify(manifest)}\n`,
    }),
  );
}

async function open(): Promise<ArchiveCatalog> {
  return openArchiveCatalog({
    s3Directory: s3.directory,
    bucket: s3.bucket,
    tables: [reportTable(VENDOR, REPORT)],
  });
}

/** Rows per date, tenant and object; the objects table has no tenant column, so its tenant comes from the key. */
async function usersBy(catalog: ArchiveCatalog, table: string, tenant = 'tenant'): Promise<Record<string, unknown>[]> {
  const { rows } = await catalog.query(
    `SELECT dt, ${tenant} AS tenant, substr(user_id, 1, strpos(user_id, '-') - 1) AS object, COUNT(*) AS n FROM ${table} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  return rows;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-catalog-'));
  s3 = await startLocalS3(join(dir, 's3'));
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('report views: only rows a manifest describes', () => {
  it('counts the published object, not an orphan beside it nor a partition without a manifest', async () => {
    // Prepare: t1 has a published object and an orphan (a crash before its manifest); t2 has data only
    const published = await putData(DAY, 't1', 'attempt-a.jsonl.gz', 'published', 3);
    await putData(DAY, 't1', 'attempt-b.jsonl.gz', 'orphan', 2);
    await putManifest(DAY, 't1', published);
    await putData(DAY, 't2', 'attempt-a.jsonl.gz', 'unpublished', 4);
    const catalog = await open();
    try {
      // Act
      const view = await usersBy(catalog, 'acme_users');
      const objects = await usersBy(catalog, 'acme_users_objects', `regexp_extract("$path", 'tenant=([^/]+)/', 1)`);
      // Assess
      expect(view).toEqual([{ dt: DAY, tenant: 't1', object: 'published', n: '3' }]);
      expect(objects).toEqual([
        { dt: DAY, tenant: 't1', object: 'orphan', n: '2' },
        { dt: DAY, tenant: 't1', object: 'published', n: '3' },
        { dt: DAY, tenant: 't2', object: 'unpublished', n: '4' },
      ]);
    } finally {
      catalog.close();
    }
  });

  it('shows only the new rows after a forced re-run (new data object, new manifest)', async () => {
    // Prepare
    await putManifest(NEXT_DAY, 't1', await putData(NEXT_DAY, 't1', 'first.jsonl.gz', 'first', 5));
    const before = await open();
    const firstRun = await usersBy(before, `acme_users WHERE dt = '${NEXT_DAY}'`).finally(() => before.close());
    // Act
    await putManifest(NEXT_DAY, 't1', await putData(NEXT_DAY, 't1', 'second.jsonl.gz', 'second', 2));
    const after = await open();
    const rerun = await usersBy(after, `acme_users WHERE dt = '${NEXT_DAY}'`).finally(() => after.close());
    // Assess
    expect(firstRun).toEqual([{ dt: NEXT_DAY, tenant: 't1', object: 'first', n: '5' }]);
    expect(rerun).toEqual([{ dt: NEXT_DAY, tenant: 't1', object: 'second', n: '2' }]);
  });

  it('gives every object row the "$path" Athena would: s3://<bucket>/<key>', async () => {
    // Prepare
    const key = await putData('2026-11-22', 't2', 'path-check.jsonl.gz', 'path', 1);
    const catalog = await open();
    try {
      // Act
      const { rows } = await catalog.query(
        `SELECT DISTINCT "$path" AS path FROM acme_users_objects WHERE dt = '2026-11-22'`,
      );
      // Assess
      expect(rows).toEqual([{ path: `s3://${s3.bucket}/${key}` }]);
    } finally {
      catalog.close();
    }
  });

  it('opens with no files at all: the view and the objects table are empty, not missing', async () => {
    // Prepare
    const empty = await mkdtemp(join(tmpdir(), 'local-catalog-empty-'));
    const catalog = await openArchiveCatalog({
      s3Directory: empty,
      bucket: 'none',
      tables: [reportTable(VENDOR, REPORT)],
    });
    try {
      // Act
      const view = await catalog.query('SELECT COUNT(*) AS n FROM acme_users');
      const objects = await catalog.query('SELECT COUNT(*) AS n, COUNT("$path") AS paths FROM acme_users_objects');
      // Assess
      expect(view.rows).toEqual([{ n: '0' }]);
      expect(objects.rows).toEqual([{ n: '0', paths: '0' }]);
    } finally {
      catalog.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
