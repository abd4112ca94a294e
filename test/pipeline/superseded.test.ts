/**
 * A run that loses the race to publish a report ends as a skip, announced with its reason: the
 * deployed definition run locally with the real handlers, s3rver behind a proxy that answers
 * conditional writes as S3 does (`conditional-s3.ts`), and another run's manifest landing
 * between this run's read of the manifest and its write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey } from '../../lambdas/core/layout.ts';
import { type Connector, type RuntimeOf, registerConnector } from '../../lambdas/core/types.ts';
import { runLocalPipeline, type VendorRunResult } from '../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { testAppConfig } from '../support/app-config.ts';
import { type ConditionalS3, startConditionalS3 } from '../support/conditional-s3.ts';
import { thingsDefinition } from '../support/fixture-connector.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

const DATE = '2026-11-21';
const RIVAL = `${JSON.stringify({ schema_version: 2, run_id: 'run-rival' })}\n`;

function raceConnector(files: () => Loopback): Connector {
  const definition = thingsDefinition('race', 'Race', 2);
  return registerConnector(
    definition,
    async (): Promise<RuntimeOf<typeof definition>> => ({
      startJob: async () => ({ status: 'READY', job: {} }),
      checkJob: async () => ({ status: 'READY', job: {} }),
      fetchReport: async (ctx, _request, job) => ({
        status: 'FETCHED',
        job,
        requestParameters: {},
        sources: [
          {
            fileName: 'things.csv',
            role: 'data',
            open: () => ctx.http.download(`${files().url}/things.csv`, { operation: 'download' }),
          },
        ],
      }),
    }),
  );
}

describe('a run another run published before (local run of the deployed definition)', () => {
  let files: Loopback;
  let s3: LocalS3;
  let proxy: ConditionalS3;
  let dir: string;
  let result: VendorRunResult;
  const key = manifestKey({ vendor: 'race', report: 'things', tenant: 'acme', date: DATE });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'superseded-'));
    files = await startLoopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' }).end('id\n1\n2\n');
    });
    s3 = await startLocalS3(join(dir, 's3'));
    proxy = await startConditionalS3({ s3: s3.client, bucket: s3.bucket });
    // the rival's manifest lands after this run read "no manifest", just before its write is decided
    proxy.beforeDecide = async (written) => {
      if (written !== key) return;
      proxy.beforeDecide = undefined;
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: RIVAL }));
    };
    const connector = raceConnector(() => files);
    const config = testAppConfig(
      {
        race: {
          enabled: true,
          baseUrl: `http://${files.host}`,
          schedule: 'cron(0 2 * * ? *)',
          scheduleTimezone: 'UTC',
          reports: ['things'],
          downloadHosts: [],
          poll: { intervalSeconds: 5, maxAttempts: 2, deadlineMinutes: 60 },
          maxConcurrency: 1,
          tenants: [{ id: 'acme', since: '2026-01-01', credentials: { token: 'secret-acme' } }],
        },
      },
      { maxDownloadBytes: 1_000_000, maxExtractedBytes: 1_000_000, maxCompressionRatio: 100 },
    );
    const [run] = await runLocalPipeline({
      config,
      scheduledTime: new Date('2026-11-22T02:00:00Z'),
      date: DATE,
      s3: { ...s3, client: proxy.s3 },
      tmpDir: join(dir, 'tmp'),
      fastWaitsMs: 1,
      connectors: [connector],
    });
    result = run as VendorRunResult;
  });

  afterAll(async () => {
    await proxy?.close();
    await s3?.close();
    await files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('announces Report Skipped with the reason, and the execution succeeds', () => {
    expect(result.events.map((e) => [e.detailType, e.detail.tenant, e.detail.reason])).toEqual([
      [
        'Report Skipped',
        'acme',
        // the rival is no full manifest, so no run is named (archive-report-publish.test.ts names one)
        'another run published this report first (manifest changed while this one ran: HTTP 412)',
      ],
    ]);
    expect(result.status).toBe('SUCCEEDED');
  });

  it("leaves the other run's manifest as it was", async () => {
    const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(await output.Body!.transformToString('utf8')).toBe(RIVAL);
  });
});
