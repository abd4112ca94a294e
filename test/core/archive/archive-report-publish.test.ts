/**
 * archiveReport's publishing protocol over real HTTP: s3rver behind a proxy that answers
 * conditional writes as S3 documents them (412 PreconditionFailed, 409 ConditionalRequestConflict)
 * and, when asked, gives out VersionIds as a versioned bucket does (`conditional-s3.ts`).
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ArchiveResult,
  archiveReport,
  type Manifest,
  ManifestConflictError,
  ObjectExistsError,
  parseStoredManifest,
} from '../../../lambdas/core/archive/index.ts';
import { ATTEMPT_ID, attemptId, dataKey, manifestKey, originalKey } from '../../../lambdas/core/layout.ts';
import type { ReportRequest } from '../../../lambdas/core/types.ts';
import {
  archiveDeps,
  archiveInput,
  BUCKET,
  bulkCsv,
  capturedLogger,
  expectArchived,
  httpSource,
  newRequest,
  sha256,
  TEST_ATTEMPT,
  useArchiveTestBed,
} from '../../support/archive-fixtures.ts';
import { type ConditionalS3, startConditionalS3 } from '../../support/conditional-s3.ts';

const CSV_A = 'id,name,note,city\nu1,Ann,,Paris\n';
const CSV_B = 'id,name,note,city\nu2,Bob,x,Rome\nu3,Cy,,Oslo\n';

describe('archiveReport publishing', () => {
  const bed = useArchiveTestBed('archive-publish-', { expectTempFilesRemoved: true });
  let proxy: ConditionalS3;
  beforeAll(async () => {
    proxy = await startConditionalS3({ s3: bed.s3.s3, bucket: BUCKET });
  });
  afterAll(async () => {
    await proxy.close();
  });
  beforeEach(() => {
    proxy.writes.length = 0;
    proxy.versions.clear();
    proxy.conflicts.clear();
    proxy.versioning = false;
    proxy.arrive = undefined;
    proxy.beforeDecide = undefined;
  });

  /** One run through the proxy, with its own run id and attempt id, reading `file`. */
  function archive(request: ReportRequest, runId: string, file: string): Promise<ArchiveResult> {
    const deps = { ...archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger), s3: proxy.s3, randomBytes };
    return archiveReport(archiveInput({ ...request, runId }, [httpSource(bed.vendor, file)]), deps);
  }

  async function storedManifest(request: ReportRequest): Promise<Manifest> {
    const manifest = parseStoredManifest((await bed.s3.getBytes(manifestKey(request))).toString('utf8'));
    if (manifest.schema_version !== 2) throw new Error(`expected a version 2 manifest; received version 1`);
    return manifest;
  }

  /** The settings of the proxy's own client, for a client a test adds middleware to. */
  function proxyClientConfig() {
    return {
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    };
  }

  function serveBoth(): void {
    bed.vendor.files.set('a.csv', { body: Buffer.from(CSV_A) });
    bed.vendor.files.set('b.csv', { body: Buffer.from(CSV_B) });
  }

  describe('two runs of one report at the same time', () => {
    it('publishes exactly one manifest, describing the winner; the loser is SUPERSEDED', async () => {
      // Prepare: both runs read "no manifest", then reach their manifest write together
      const request = newRequest();
      serveBoth();
      proxy.arrive = barrier(manifestKey(request), 2);
      // Act
      const results = await Promise.all([archive(request, 'run-a', 'a.csv'), archive(request, 'run-b', 'b.csv')]);
      // Assess
      expect(results.map((r) => r.outcome).sort()).toEqual(['ARCHIVED', 'SUPERSEDED']);
      const winner = expectArchived(results.find((r) => r.outcome === 'ARCHIVED')!);
      const loser = results.find((r) => r.outcome === 'SUPERSEDED')!;
      const manifest = await storedManifest(request);
      const winnerRun = winner.rowCount === 1 ? 'run-a' : 'run-b';
      expect(manifest.run_id).toBe(winnerRun);
      expect(manifest.data).toMatchObject({ key: winner.keys.data, sha256: winner.sha256.data });
      expect(sha256(await bed.s3.getBytes(manifest.data.key))).toBe(manifest.data.sha256);
      expect(manifest.originals.map((o) => [o.key, o.sha256])).toEqual([
        [winner.keys.originals[0], sha256(winnerRun === 'run-a' ? CSV_A : CSV_B)],
      ]);
      expect(loser).toMatchObject({
        reason: `another run published this report first (manifest changed while this one ran: HTTP 412); the manifest names run ${winnerRun}`,
      });
      // the loser's objects are its own, stored once, and named by no manifest
      expect(loser.keys.data).not.toBe(winner.keys.data);
      expect(loser.keys.manifest).toBe(winner.keys.manifest);
      expect(await bed.s3.keys()).toContain(loser.keys.data);
      expect(proxy.writes.filter((w) => w.key === manifestKey(request)).map((w) => [w.ifNoneMatch, w.status])).toEqual([
        ['*', 200],
        ['*', 412],
      ]);
    });

    it('is PUBLISHED, and logged, when the SDK retried its own manifest put after the answer was lost', async () => {
      // Prepare: the first manifest put reaches S3, but its answer is lost on the way back
      const request = newRequest();
      serveBoth();
      const s3 = new S3Client({ ...proxyClientConfig(), maxAttempts: 3 });
      let lost = false;
      s3.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          const input = args.input as { Key?: string };
          if (!lost && context.commandName === 'PutObjectCommand' && input.Key === manifestKey(request)) {
            lost = true;
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
          }
          return result;
        },
        { step: 'deserialize', name: 'loseFirstManifestAnswer' },
      );
      const deps = { ...archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger), s3, randomBytes };
      // Act
      const result = await archiveReport(
        archiveInput({ ...request, runId: 'run-a' }, [httpSource(bed.vendor, 'a.csv')]),
        deps,
      );
      s3.destroy();
      // Assess: the retry's If-None-Match failed on the run's own manifest
      expect(proxy.writes.filter((w) => w.key === manifestKey(request)).map((w) => w.status)).toEqual([200, 412]);
      const archived = expectArchived(result);
      const manifest = await storedManifest(request);
      expect(manifest).toMatchObject({ run_id: 'run-a', data: { key: archived.keys.data } });
      const logged: { manifest_key: string; sha256: string }[] = [];
      for (const key of (await bed.s3.keys()).filter((k) => k.startsWith('publications/'))) {
        logged.push(JSON.parse((await bed.s3.getBytes(key)).toString('utf8')));
      }
      expect(logged.filter((p) => p.manifest_key === manifestKey(request))).toEqual([
        expect.objectContaining({ sha256: sha256(await bed.s3.getBytes(manifestKey(request))) }),
      ]);
    });

    it('is SUPERSEDED when the manifest changed between its read and its write', async () => {
      // Prepare: another run publishes just before this one's write is decided
      const request = newRequest();
      serveBoth();
      const rival = JSON.stringify({ schema_version: 2, run_id: 'run-rival' });
      proxy.beforeDecide = async (key) => {
        if (key !== manifestKey(request)) return;
        proxy.beforeDecide = undefined;
        await bed.s3.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: rival }));
      };
      // Act
      const result = await archive(request, 'run-late', 'a.csv');
      // Assess
      expect(result).toMatchObject({
        outcome: 'SUPERSEDED',
        reason: 'another run published this report first (manifest changed while this one ran: HTTP 412)',
      });
      expect((await bed.s3.getBytes(manifestKey(request))).toString('utf8')).toBe(rival);
    });
  });

  describe('a forced re-run', () => {
    it('replaces exactly the manifest it read (If-Match on its ETag) and keeps the first objects', async () => {
      // Prepare
      const request = newRequest();
      serveBoth();
      const first = expectArchived(await archive(request, 'run-1', 'a.csv'));
      const firstText = await bed.s3.getBytes(manifestKey(request));
      // Act
      const second = expectArchived(await archive(request, 'run-2', 'b.csv'));
      // Assess
      const manifest = await storedManifest(request);
      const etag = proxy.writes.find((w) => w.key === manifestKey(request) && w.ifMatch)?.ifMatch;
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(manifest).toMatchObject({ run_id: 'run-2', replaces: { etag, run_id: 'run-1' } });
      expect(manifest.data.key).toBe(second.keys.data);
      expect(second.keys.data).not.toBe(first.keys.data);
      expect(parseStoredManifest(firstText.toString('utf8')).data.key).toBe(first.keys.data);
      expect(sha256(await bed.s3.getBytes(first.keys.data))).toBe(first.sha256.data);
    });

    it('replaces a version 1 manifest, naming its run', async () => {
      // Prepare: a manifest written before attempt keys
      const request = newRequest();
      serveBoth();
      const v1 = {
        schema_version: 1,
        vendor: request.vendor,
        tenant: request.tenant,
        report: request.report,
        report_date: request.date,
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
            file_name: 'a.csv',
            key: 'originals/a.csv',
            role: 'data',
            bytes: 1,
            sha256: 'b'.repeat(64),
            format: 'csv',
            content_type: null,
            entries: [],
          },
        ],
      };
      await bed.s3.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey(request), Body: JSON.stringify(v1) }),
      );
      // Act
      expectArchived(await archive(request, 'run-v2', 'a.csv'));
      // Assess
      expect((await storedManifest(request)).replaces).toEqual({ etag: expect.any(String), run_id: 'run-v1' });
    });
  });

  describe('409 ConditionalRequestConflict', () => {
    it('retries the manifest write, then publishes', async () => {
      const request = newRequest();
      serveBoth();
      proxy.conflicts.set(manifestKey(request), 2);
      const result = await archive(request, 'run-1', 'a.csv');
      expect(result.outcome).toBe('ARCHIVED');
      expect(proxy.writes.filter((w) => w.key === manifestKey(request)).map((w) => w.status)).toEqual([409, 409, 200]);
      expect((await storedManifest(request)).run_id).toBe('run-1');
    });

    it('fails with ManifestConflictError when the conflict never settles, publishing nothing', async () => {
      const request = newRequest();
      serveBoth();
      proxy.conflicts.set(manifestKey(request), 100);
      const error = await archive(request, 'run-1', 'a.csv').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ManifestConflictError);
      expect((error as Error).message).toMatch(/409 ConditionalRequestConflict 4 times/);
      expect(await bed.s3.keys()).not.toContain(manifestKey(request));
    });
  });

  describe('write-once objects', () => {
    it('writes data and originals with If-None-Match: *', async () => {
      const request = newRequest();
      serveBoth();
      const result = expectArchived(await archive(request, 'run-1', 'a.csv'));
      const byKey = new Map(proxy.writes.map((w) => [w.key, w.ifNoneMatch]));
      expect(byKey.get(result.keys.data)).toBe('*');
      expect(byKey.get(result.keys.originals[0]!)).toBe('*');
    });

    it('fails with ObjectExistsError when its data key is taken, and publishes no manifest', async () => {
      // Prepare: an object already at this attempt's data key (archiveDeps fixes the attempt id)
      const request = newRequest();
      serveBoth();
      await bed.s3.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: dataKey(request, TEST_ATTEMPT), Body: 'earlier bytes' }),
      );
      const deps = { ...archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger), s3: proxy.s3 };
      // Act
      const error = await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'a.csv')]), deps).catch(
        (e: unknown) => e,
      );
      // Assess
      expect(error).toBeInstanceOf(ObjectExistsError);
      expect((error as Error).message).toContain(dataKey(request, TEST_ATTEMPT));
      expect((await bed.s3.getBytes(dataKey(request, TEST_ATTEMPT))).toString('utf8')).toBe('earlier bytes');
      expect(await bed.s3.keys()).not.toContain(manifestKey(request));
    });

    it('completes a multipart data object with If-None-Match: *, and fails with ObjectExistsError when its key is taken', async () => {
      // Prepare: a data object of several parts, and its key already taken
      const request = newRequest();
      bed.vendor.files.set('bulk.csv', { body: Buffer.from(bulkCsv(100_000)) });
      await bed.s3.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: dataKey(request, TEST_ATTEMPT), Body: 'earlier bytes' }),
      );
      const deps = {
        ...archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger),
        s3: proxy.s3,
        partSizeBytes: 5 * 1024 * 1024,
      };
      // Act
      const error = await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'bulk.csv')]), deps).catch(
        (e: unknown) => e,
      );
      // Assess
      expect(error).toBeInstanceOf(ObjectExistsError);
      expect(proxy.writes.filter((w) => w.key === dataKey(request, TEST_ATTEMPT))).toEqual([
        { key: dataKey(request, TEST_ATTEMPT), method: 'POST', ifNoneMatch: '*', status: 412 },
      ]);
      expect(await bed.s3.keys()).not.toContain(manifestKey(request));
    });
  });

  describe('VersionIds', () => {
    it('records the VersionId of the data object and of every original', async () => {
      const request = newRequest();
      serveBoth();
      proxy.versioning = true;
      const result = expectArchived(await archive(request, 'run-1', 'a.csv'));
      const manifest = await storedManifest(request);
      expect(manifest.data.version_id).toBe(proxy.versions.get(result.keys.data)?.[0]);
      expect(manifest.originals.map((o) => o.version_id)).toEqual([proxy.versions.get(result.keys.originals[0]!)?.[0]]);
      expect(manifest.data.version_id).toEqual(expect.any(String));
    });
  });
});

describe('attempt ids', () => {
  it('are the UTC start second and eight hex digits, and name the data and original keys', () => {
    const attempt = attemptId(new Date('2026-12-07T20:15:00.123Z'), Uint8Array.from([0x3f, 0x9a, 0x0c, 0x1d]));
    expect(attempt).toBe('20261207T201500Z-3f9a0c1d');
    expect(attempt).toMatch(ATTEMPT_ID);
    const request = { vendor: 'acme', report: 'users', tenant: 't1', date: '2026-12-06' };
    expect(dataKey(request, attempt)).toBe(
      'data/vendor=acme/report=users/dt=2026-12-06/tenant=t1/20261207T201500Z-3f9a0c1d.jsonl.gz',
    );
    expect(originalKey(request, attempt, 'users.csv')).toBe(
      'originals/vendor=acme/report=users/dt=2026-12-06/tenant=t1/20261207T201500Z-3f9a0c1d/users.csv',
    );
    expect(() => dataKey(request, '../x')).toThrow(/an attempt id must match/);
  });
});

/** Holds every arrival at `key` until `count` have arrived. */
function barrier(key: string, count: number): (arrived: string) => Promise<void> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let waiting = 0;
  return async (arrived) => {
    if (arrived !== key) return;
    if (++waiting === count) open();
    await opened;
  };
}
