/**
 * EventBridge Scheduler may deliver one scheduled time twice. The deployed definition, run by
 * aws-local-stepfunctions with the real handlers, against s3rver behind a proxy that answers a
 * conditional create as S3 does (412): the second delivery arrives while the first is still
 * archiving (held at its download), and must plan and archive nothing and succeed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connector, type RuntimeOf, registerConnector } from '../../lambdas/core/types.ts';
import { claimKey } from '../../lambdas/pipeline/claim.ts';
import type { AppConfig } from '../../lib/config.ts';
import { runLocalPipeline, type VendorRunResult } from '../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { localS3Client } from '../../scripts/local/s3-client.ts';
import { testAppConfig } from '../support/app-config.ts';
import { startConditionalS3 } from '../support/create-once-s3.ts';
import { thingsDefinition } from '../support/fixture-connector.ts';
import { type Loopback, startLoopback } from '../support/loopback.ts';

const SCHEDULED = new Date('2026-11-22T02:00:00Z');
const DATE = '2026-11-21';

/** A one-tenant connector whose first download waits until the test lets it go on. */
function heldConnector(files: () => Loopback, hold: { reached: () => void; released: Promise<void> }) {
  const starts: string[] = [];
  let downloads = 0;
  const definition = thingsDefinition('held', 'Held', 4);
  const connector: Connector = registerConnector(
    definition,
    async (): Promise<RuntimeOf<typeof definition>> => ({
      async startJob(_ctx, request) {
        starts.push(request.date);
        return { status: 'READY', job: {} };
      },
      async checkJob(_ctx, _request, job) {
        return { status: 'READY', job };
      },
      async fetchReport(ctx, request, job) {
        downloads++;
        if (downloads === 1) {
          hold.reached();
          await hold.released;
        }
        return {
          status: 'FETCHED',
          job,
          requestParameters: { date: request.date },
          sources: [
            {
              fileName: 'report.csv',
              role: 'data',
              open: () => ctx.http.download(`${files().url}/report.csv`, { operation: 'download' }),
            },
          ],
        };
      },
    }),
  );
  return { connector, starts };
}

function config(files: Loopback): AppConfig {
  return testAppConfig({
    held: {
      enabled: true,
      baseUrl: files.url,
      schedule: 'cron(0 2 * * ? *)',
      scheduleTimezone: 'UTC',
      reports: ['things'],
      downloadHosts: [],
      poll: { intervalSeconds: 5, maxAttempts: 4, deadlineMinutes: 60 },
      maxConcurrency: 1,
      tenants: [{ id: 'a', since: '2026-01-01', credentials: { token: 'secret-a' } }],
    },
  });
}

describe('a duplicate delivery of one scheduled time', () => {
  let dir: string;
  let files: Loopback;
  let local: LocalS3;
  let proxy: Awaited<ReturnType<typeof startConditionalS3>>;
  let s3: LocalS3;
  let starts: string[];
  let connector: Connector;
  let first: VendorRunResult;
  let second: VendorRunResult;

  beforeAll(async () => {
    // Prepare: s3rver behind the conditional-create proxy; a connector that holds its first download
    dir = await mkdtemp(join(tmpdir(), 'duplicate-delivery-'));
    files = await startLoopback((_req, res) => res.writeHead(200, { 'content-type': 'text/csv' }).end('id\r\n1\r\n'));
    local = await startLocalS3(join(dir, 's3'));
    proxy = await startConditionalS3(local);
    s3 = { ...local, endpoint: proxy.url, client: localS3Client(proxy.url) };
    let reached = () => {};
    const atDownload = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = heldConnector(() => files, { reached, released });
    starts = held.starts;
    connector = held.connector;
    // a schedule delivers exactly `{scheduledTime}`: no date, force, tenants or reports
    const deliver = async () => {
      const [result] = await runLocalPipeline({
        config: config(files),
        scheduledTime: SCHEDULED,
        s3,
        tmpDir: join(dir, 'tmp'),
        fastWaitsMs: 1,
        connectors: [held.connector],
      });
      return result as VendorRunResult;
    };

    // Act: the second delivery runs to its end while the first is archiving
    const firstRun = deliver();
    await atDownload;
    second = await deliver();
    release();
    first = await firstRun;
  });

  afterAll(async () => {
    s3?.client.destroy();
    await proxy?.close();
    await local?.close();
    await files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('archives the report once, in the first execution', () => {
    expect(first.status).toBe('SUCCEEDED');
    expect(first.events.filter((e) => e.detailType === 'Report Archived').map((e) => e.detail.date)).toEqual([DATE]);
    expect(starts).toEqual([DATE]);
  });

  it('ends the second quietly and successfully, having planned and archived nothing', () => {
    expect(second.status).toBe('SUCCEEDED');
    expect(second.events).toEqual([]);
    expect(second.plan?.items).toEqual([]);
    expect(second.output).toEqual({
      outcome: 'DUPLICATE_DELIVERY',
      message: `duplicate delivery of ${SCHEDULED.toISOString()}, claimed by ${first.executionId}`,
      claim: expect.objectContaining({ run_id: first.executionId }),
    });
  });

  it('leaves the first execution’s claim, refused once by the conditional create', async () => {
    const key = claimKey('held', SCHEDULED.toISOString());
    const object = await local.client.send(new GetObjectCommand({ Bucket: local.bucket, Key: key }));
    expect(JSON.parse((await object.Body?.transformToString()) ?? '')).toEqual({
      run_id: first.executionId,
      claimed_at: expect.any(String),
      scheduled_time: SCHEDULED.toISOString(),
    });
    expect(proxy.refused).toEqual([`/${local.bucket}/${key}`]);
  });

  it('does not stop a run started by hand for the same time', async () => {
    // Act: an operator re-runs the date (input with `date` and `force`: no claim)
    const [byHand] = await runLocalPipeline({
      config: config(files),
      scheduledTime: SCHEDULED,
      date: DATE,
      force: true,
      s3,
      tmpDir: join(dir, 'tmp'),
      fastWaitsMs: 1,
      connectors: [connector], // its one held download was let go
    });
    // Assess
    expect(byHand?.status).toBe('SUCCEEDED');
    expect(byHand?.events.map((e) => e.detailType)).toEqual(['Report Archived']);
    expect(proxy.refused).toHaveLength(1);
  });
});
