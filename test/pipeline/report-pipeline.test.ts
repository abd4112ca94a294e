/**
 * The shared polling pattern, end to end: the deployed definition run by aws-local-stepfunctions
 * with the real handlers, a fixture connector whose tenants each take a different branch, a
 * loopback file server and s3rver. Vendors' own behaviour is tested in test/connectors/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseStoredManifest } from '../../lambdas/core/archive/index.ts';
import { VendorAuthError, VendorThrottledError } from '../../lambdas/core/errors.ts';
import { dataKey, manifestKey, originalKey, outcomeKey } from '../../lambdas/core/layout.ts';
import { TenantBaseSchema, vendorSectionSchema } from '../../lambdas/core/settings.ts';
import {
  type Connector,
  defineConnector,
  type JobResult,
  type JsonObject,
  type ReportRequest,
  type RuntimeOf,
  registerConnector,
} from '../../lambdas/core/types.ts';
import type { AppConfig } from '../../lib/config.ts';
import { catalogTables, openArchiveCatalog } from '../../scripts/local/catalog.ts';
import { runLocalPipeline, type VendorRunResult } from '../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { testAppConfig } from '../support/app-config.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

const CSV =
  'id,name,seen_at\r\n1,"Ada, Countess",2026-11-21T08:00:00Z\r\n2,"say ""hi""",2026-11-21T09:30:00Z\r\n3,Zoë,\r\n';
const DATE = '2026-11-21';
const SCHEDULED = new Date('2026-11-22T02:00:00Z');

/** What each fixture tenant does; the tenant id picks the branch. */
type Script = 'ok' | 'slow' | 'denied' | 'skip' | 'lost' | 'throttled' | 'html';
const TENANTS: Script[] = ['ok', 'slow', 'denied', 'skip', 'lost', 'throttled', 'html'];

const calls: { step: string; tenant: string }[] = [];
const throttledOnce = new Set<string>();

function fixtureConnector(fileServer: () => Loopback): Connector {
  const definition = defineConnector({
    vendor: 'demo',
    displayName: 'Demo',
    sectionSchema: vendorSectionSchema({
      tenant: TenantBaseSchema.extend({}),
      reports: ['things'] as const,
      defaults: { schedule: 'cron(0 2 * * ? *)', poll: { intervalSeconds: 5, maxAttempts: 4, deadlineMinutes: 60 } },
    }),
    tenantSchema: TenantBaseSchema.extend({}),
    credentialsSchema: z.object({ token: z.string() }),
    cadence: { kind: 'event-log', historyDays: null },
    reports: [
      {
        name: 'things',
        description: 'fixture rows',
        columns: [
          { name: 'id', type: 'bigint' },
          { name: 'name', type: 'string' },
          { name: 'seen_at', type: 'timestamp' },
        ],
        toRecord: (raw) => ({
          id: Number(raw.id),
          name: String(raw.name),
          seen_at: raw.seen_at ? String(raw.seen_at).replace('T', ' ').replace('Z', '.000') : null,
        }),
      },
    ],
    queries: [],
  });
  const pending = (job: JsonObject): JobResult => ({
    status: 'PENDING',
    job,
    waitSeconds: 5,
  });
  return registerConnector(
    definition,
    async (): Promise<RuntimeOf<typeof definition>> => ({
      async startJob(ctx, request: ReportRequest, previous) {
        calls.push({ step: 'start', tenant: request.tenant });
        const credentials = await ctx.credentials();
        expect(credentials.token).toBe(`secret-${request.tenant}`);
        const script = request.tenant as Script;
        if (script === 'denied')
          throw new VendorAuthError(`vendor refused the credentials of tenant ${request.tenant}`);
        if (script === 'skip') return { status: 'SKIPPED', job: {}, reason: 'nothing new for this date' };
        // a restarted job remembers it was lost once
        return pending(previous?.restarted ? { checks: 0, restarted: true } : { checks: 0 });
      },
      async checkJob(_ctx, request, job) {
        const checks = Number(job.checks ?? 0) + 1;
        calls.push({ step: 'check', tenant: request.tenant });
        const script = request.tenant as Script;
        if (script === 'slow') return pending({ ...job, checks });
        if (script === 'lost' && !job.restarted) return { status: 'RESTART', job: { restarted: true } };
        if (script === 'throttled' && !throttledOnce.has(request.tenant)) {
          throttledOnce.add(request.tenant);
          throw new VendorThrottledError('slow down', 7);
        }
        return checks < 2
          ? pending({ ...job, checks })
          : { status: 'READY', job: { ...job, checks, jobId: `job-${request.tenant}` } };
      },
      async fetchReport(ctx, request, job) {
        calls.push({ step: 'fetch', tenant: request.tenant });
        const path = request.tenant === 'html' ? '/error.html' : '/report.csv';
        return {
          status: 'FETCHED',
          job,
          requestParameters: { date: request.date },
          sources: [
            {
              fileName: request.tenant === 'html' ? 'report.csv' : 'report.csv',
              role: 'data',
              open: () =>
                ctx.http.download(`${fileServer().url}${path}?X-Amz-Signature=abc`, { operation: 'download' }),
            },
          ],
        };
      },
    }),
  );
}

function config(fileHost: string): AppConfig {
  return testAppConfig(
    {
      demo: {
        enabled: true,
        baseUrl: `http://${fileHost}`,
        schedule: 'cron(0 2 * * ? *)',
        scheduleTimezone: 'UTC',
        reports: ['things'],
        downloadHosts: [],
        poll: { intervalSeconds: 5, maxAttempts: 4, deadlineMinutes: 60 },
        maxConcurrency: 3,
        tenants: TENANTS.map((id) => ({ id, since: '2026-01-01', credentials: { token: `secret-${id}` } })),
      },
    },
    { maxDownloadBytes: 10_000_000, maxExtractedBytes: 10_000_000, maxCompressionRatio: 100 },
  );
}

describe('report pipeline (local run of the deployed definition)', () => {
  let files: Loopback;
  let s3: LocalS3;
  let dir: string;
  let connector: Connector;
  let first: VendorRunResult;

  const run = async (extra: { force?: boolean; tenants?: string[] } = {}) => {
    const [result] = await runLocalPipeline({
      config: config(files.host),
      scheduledTime: SCHEDULED,
      date: DATE,
      s3,
      tmpDir: join(dir, 'tmp'),
      fastWaitsMs: 1,
      connectors: [connector],
      ...extra,
    });
    return result as VendorRunResult;
  };
  const exists = async (key: string) => {
    try {
      await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  };
  const text = async (key: string) => {
    const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return output.Body!.transformToString('utf8');
  };
  const request = (tenant: string) => ({ vendor: 'demo', report: 'things', tenant, date: DATE });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
    files = await startLoopback((req, res) => {
      if (req.url?.startsWith('/report.csv')) {
        res.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
      } else {
        res.writeHead(200, { 'content-type': 'text/csv' }).end('<!DOCTYPE html><html><body>Sign in</body></html>');
      }
    });
    s3 = await startLocalS3(join(dir, 's3'));
    connector = fixtureConnector(() => files);
    first = await run();
  });

  afterAll(async () => {
    await s3?.close();
    await files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('a run where some tenants fail', () => {
    it('fails the execution as a whole, so its alarm fires', () => {
      expect(first.status).toBe('FAILED');
      expect(first.error).toContain('one or more reports failed');
    });

    it('archives every tenant that works, whatever the others do', () => {
      const archived = first.events.filter((e) => e.detailType === 'Report Archived').map((e) => e.detail.tenant);
      expect(archived.sort()).toEqual(['lost', 'ok', 'throttled']);
    });

    it('announces each failure with its error name and never a secret', () => {
      const failed = Object.fromEntries(
        first.events.filter((e) => e.detailType === 'Report Failed').map((e) => [e.detail.tenant, e.detail.error]),
      );
      expect(failed).toEqual({
        slow: 'DeadlineExceededError',
        denied: 'VendorAuthError',
        html: 'UnsupportedFormatError',
      });
      const everything = JSON.stringify(first.events);
      expect(everything).not.toContain('secret-');
      expect(everything).not.toContain('X-Amz-Signature');
    });

    it('skips a tenant the connector says has nothing, announced with its reason', () => {
      expect(first.events.filter((e) => e.detail.tenant === 'skip')).toEqual([
        {
          source: expect.any(String),
          detailType: 'Report Skipped',
          detail: {
            vendor: 'demo',
            tenant: 'skip',
            report: 'things',
            date: DATE,
            runId: expect.stringContaining(':execution:'),
            reason: 'nothing new for this date',
          },
          time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        },
      ]);
      expect(calls.filter((c) => c.tenant === 'skip').map((c) => c.step)).toEqual(['start']);
    });

    it('stops polling after maxAttempts checks', () => {
      expect(calls.filter((c) => c.tenant === 'slow' && c.step === 'check')).toHaveLength(4);
    });

    it('starts a lost job again', () => {
      expect(calls.filter((c) => c.tenant === 'lost').map((c) => c.step)).toEqual([
        'start',
        'check',
        'start',
        'check',
        'check',
        'fetch',
      ]);
    });

    it('waits out throttling in the state machine instead of failing', () => {
      expect(calls.filter((c) => c.tenant === 'throttled' && c.step === 'check').length).toBeGreaterThanOrEqual(2);
    });
  });

  describe('the outcome records', () => {
    const outcomeKeys = async () => {
      const prefix = `outcomes/vendor=demo/dt=${DATE}/`;
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
      return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
    };
    const recordOf = async (tenant: string) => JSON.parse(await text(outcomeKey(request(tenant), first.executionId)));

    it('are one per item, at the key of the run and the item', async () => {
      expect(await outcomeKeys()).toEqual(TENANTS.map((t) => outcomeKey(request(t), first.executionId)).sort());
    });

    it('name the manifest and row count of each archived report', async () => {
      for (const tenant of ['ok', 'lost', 'throttled']) {
        expect(await recordOf(tenant)).toEqual({
          schema_version: 1,
          vendor: 'demo',
          tenant,
          report: 'things',
          report_date: DATE,
          outcome: 'archived',
          error: null,
          reason: null,
          run_id: first.executionId,
          recorded_at: expect.any(String),
          manifest_key: manifestKey(request(tenant)),
          row_count: 3,
        });
      }
    });

    it('give the reason of a skip', async () => {
      expect(await recordOf('skip')).toMatchObject({
        outcome: 'skipped',
        error: null,
        reason: 'nothing new for this date',
        manifest_key: null,
        row_count: null,
      });
    });

    it('give the error name and message of each failure, whichever state caught or built it', async () => {
      expect(await recordOf('slow')).toMatchObject({
        outcome: 'failed',
        error: 'DeadlineExceededError',
        reason: 'the job was not ready after 4 checks',
      });
      expect(await recordOf('denied')).toMatchObject({
        outcome: 'failed',
        error: 'VendorAuthError',
        reason: 'vendor refused the credentials of tenant denied',
      });
      expect(await recordOf('html')).toMatchObject({
        outcome: 'failed',
        error: 'UnsupportedFormatError',
        reason: expect.stringContaining('looks like an HTML page'),
      });
    });
  });

  describe('the archive', () => {
    it('holds a manifest at its deterministic key, naming the data and original of its attempt', async () => {
      for (const tenant of ['ok', 'lost', 'throttled']) {
        const manifest = parseStoredManifest(await text(manifestKey(request(tenant))));
        if (manifest.schema_version !== 2)
          throw new Error(`expected a version 2 manifest; received ${manifest.schema_version}`);
        expect(manifest.data.key).toBe(dataKey(request(tenant), manifest.attempt));
        expect(manifest.originals.map((o) => o.key)).toEqual([
          originalKey(request(tenant), manifest.attempt, 'report.csv'),
        ]);
        expect(await exists(manifest.data.key)).toBe(true);
        expect(await exists(manifest.originals[0]!.key)).toBe(true);
      }
    });

    it('holds nothing for a failed report', async () => {
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
      expect(keys.filter((k) => /tenant=(html|slow|denied|skip)\//.test(k))).toEqual([]);
    });

    it('answers a query over every archived row through the table definitions', async () => {
      const catalog = await openArchiveCatalog({
        s3Directory: join(dir, 's3'),
        bucket: s3.bucket,
        tables: catalogTables([connector.definition]),
      });
      try {
        const rows = await catalog.query(
          'SELECT tenant, count(*) AS n, count(seen_at) AS seen, max(name) FILTER (WHERE id = 1) AS first FROM demo_things GROUP BY tenant ORDER BY tenant',
        );
        expect(rows.rows).toEqual([
          { tenant: 'lost', n: '3', seen: '2', first: 'Ada, Countess' },
          { tenant: 'ok', n: '3', seen: '2', first: 'Ada, Countess' },
          { tenant: 'throttled', n: '3', seen: '2', first: 'Ada, Countess' },
        ]);
        const manifests = await catalog.query('SELECT tenant, row_count, dt FROM report_manifests ORDER BY tenant');
        expect(manifests.rows).toEqual([
          { tenant: 'lost', row_count: '3', dt: DATE },
          { tenant: 'ok', row_count: '3', dt: DATE },
          { tenant: 'throttled', row_count: '3', dt: DATE },
        ]);
      } finally {
        catalog.close();
      }
    });
  });

  describe('running the same date again', () => {
    it('archives nothing twice', async () => {
      calls.length = 0;
      const again = await run({ tenants: ['ok', 'lost'] });
      expect(again.status).toBe('SUCCEEDED');
      expect(again.plan?.items).toEqual([]);
      expect(again.plan?.alreadyArchived).toBe(2); // lost/things and ok/things
      expect(calls).toEqual([]);
    });

    it('archives again when forced, under a new attempt, replacing the manifest it saw', async () => {
      const before = parseStoredManifest(await text(manifestKey(request('ok'))));
      const forced = await run({ tenants: ['ok'], force: true });
      expect(forced.status).toBe('SUCCEEDED');
      const after = parseStoredManifest(await text(manifestKey(request('ok'))));
      if (after.schema_version !== 2)
        throw new Error(`expected a version 2 manifest; received ${after.schema_version}`);
      expect(after.replaces).toEqual({ etag: expect.any(String), run_id: before.run_id });
      expect(after.data.key).not.toBe(before.data.key);
      expect(forced.events.map((e) => e.detail.keys)).toEqual([
        {
          data: dataKey(request('ok'), after.attempt),
          manifest: manifestKey(request('ok')),
          originals: [originalKey(request('ok'), after.attempt, 'report.csv')],
        },
      ]);
      // the first attempt's objects stay: written once, never overwritten
      expect(await exists(before.data.key)).toBe(true);
    });
  });
});
