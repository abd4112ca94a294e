/**
 * The manifest table reads both manifest versions: version 2's attempt, VersionIds and `replaces`
 * as columns, and version 1 (written before attempt keys) with those columns null. Run on the
 * local engine (DuckDB over files laid out as the local S3 stores them).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, renderManifest } from '../../lambdas/core/archive/manifest.ts';
import { dataKey, manifestKey, originalKey } from '../../lambdas/core/layout.ts';
import { manifestTable } from '../../lambdas/core/tables.ts';
import { type ArchiveCatalog, openArchiveCatalog } from '../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../scripts/local/s3.ts';

const BUCKET = 'archive';
const ATTEMPT = '20261122T020000Z-3f9a0c1d';
const V2 = { vendor: 'acme', report: 'users', tenant: 'new', date: '2026-11-21' };
const V1 = { ...V2, tenant: 'old' };

function v1Manifest(): Record<string, unknown> {
  return {
    schema_version: 1,
    vendor: V1.vendor,
    tenant: V1.tenant,
    report: V1.report,
    report_date: V1.date,
    run_id: 'run-v1',
    started_at: '2026-11-22T01:00:00.000Z',
    completed_at: '2026-11-22T01:00:01.000Z',
    software_version: '0.9.0',
    request_parameters: {},
    job: {},
    row_count: 1,
    columns: ['id'],
    data: { key: 'data/old.jsonl.gz', bytes: 1, sha256: 'a'.repeat(64), format: 'jsonl.gz' },
    originals: [
      {
        file_name: 'u.csv',
        key: 'originals/u.csv',
        role: 'data',
        bytes: 1,
        sha256: 'b'.repeat(64),
        format: 'csv',
        content_type: null,
        entries: [],
      },
    ],
  };
}

function v2Manifest(): Manifest {
  return {
    ...(v1Manifest() as Omit<Manifest, 'schema_version' | 'attempt' | 'data' | 'originals' | 'replaces' | 'dropped'>),
    schema_version: 2,
    tenant: V2.tenant,
    run_id: 'run-v2',
    attempt: ATTEMPT,
    data: { key: dataKey(V2, ATTEMPT), bytes: 1, sha256: 'c'.repeat(64), format: 'jsonl.gz', version_id: 'v-data' },
    originals: [
      {
        file_name: 'u.csv',
        key: originalKey(V2, ATTEMPT, 'u.csv'),
        role: 'data',
        bytes: 1,
        sha256: 'd'.repeat(64),
        format: 'csv',
        content_type: null,
        entries: [],
        version_id: 'v-original',
      },
    ],
    replaces: { etag: '"0123"', run_id: 'run-v1' },
    dropped: { duplicate_event_id: 2 },
  };
}

describe('report_manifests over version 1 and version 2 manifests', () => {
  let dir: string;
  let catalog: ArchiveCatalog;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-table-'));
    const put = async (key: string, text: string) => {
      const path = join(dir, BUCKET, `${key}${S3RVER_SUFFIX}`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
    };
    await put(manifestKey(V1), `${JSON.stringify(v1Manifest())}\n`);
    await put(manifestKey(V2), renderManifest(v2Manifest()));
    catalog = await openArchiveCatalog({
      s3Directory: dir,
      bucket: BUCKET,
      tables: [manifestTable(['acme'], ['users'])],
    });
  });

  afterAll(async () => {
    catalog?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the attempt, the VersionIds and what a manifest replaced, null for version 1', async () => {
    const result = await catalog.query(
      `SELECT tenant, schema_version, attempt, data.key AS data_key, data.version_id AS data_version,
              originals[1].version_id AS original_version, replaces.run_id AS replaced_run
       FROM report_manifests ORDER BY tenant`,
    );
    expect(result.rows).toEqual([
      {
        tenant: 'new',
        schema_version: '2',
        attempt: ATTEMPT,
        data_key: dataKey(V2, ATTEMPT),
        data_version: 'v-data',
        original_version: 'v-original',
        replaced_run: 'run-v1',
      },
      {
        tenant: 'old',
        schema_version: '1',
        attempt: null,
        data_key: 'data/old.jsonl.gz',
        data_version: null,
        original_version: null,
        replaced_run: null,
      },
    ]);
  });
});
