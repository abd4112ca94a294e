/**
 * The poll loop's bounds, counted by the steps (`attempts`, `restarts` in each step result) and
 * compared by the Choice after them: the deployed definition run locally with the real handlers
 * and a fixture connector whose tenants never finish (`pending`), lose their job every time
 * (`lost`), or are throttled on every check (`throttled`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VendorThrottledError } from '../../lambdas/core/errors.ts';
import { staticSecretSource } from '../../lambdas/core/secrets.ts';
import { TenantBaseSchema, vendorSectionSchema } from '../../lambdas/core/settings.ts';
import { type Connector, defineConnector, registerConnector } from '../../lambdas/core/types.ts';
import { checkJob, type StepInput, startJob } from '../../lambdas/pipeline/steps.ts';
import { runLocalPipeline, type VendorRunResult } from '../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { MAX_RESTARTS } from '../../state-machines/report-pipeline.ts';
import { testAppConfig } from '../support/app-config.ts';

const DATE = '2026-11-21';
const MAX_ATTEMPTS = 3;
type Script = 'pending' | 'lost' | 'throttled';
const TENANTS: Script[] = ['pending', 'lost', 'throttled'];
const calls: { step: string; tenant: string }[] = [];

function fixtureConnector(): Connector {
  const poll = { intervalSeconds: 1, maxAttempts: MAX_ATTEMPTS, deadlineMinutes: 60 };
  const definition = defineConnector({
    vendor: 'bounds',
    displayName: 'Bounds',
    sectionSchema: vendorSectionSchema({
      tenant: TenantBaseSchema.extend({}),
      reports: ['things'] as const,
      defaults: { schedule: 'cron(0 2 * * ? *)', poll },
    }),
    tenantSchema: TenantBaseSchema.extend({}),
    credentialsSchema: z.object({ token: z.string() }),
    cadence: { kind: 'event-log', historyDays: null },
    reports: [{ name: 'things', description: 'fixture', columns: [], toRecord: () => ({}) }],
    queries: [],
  });
  return registerConnector(definition, async () => ({
    async startJob(_ctx, request, job) {
      calls.push({ step: 'start', tenant: request.tenant });
      return { status: 'PENDING', job: { starts: Number(job?.starts ?? 0) + 1 }, waitSeconds: 1 };
    },
    async checkJob(_ctx, request, job) {
      calls.push({ step: 'check', tenant: request.tenant });
      if (request.tenant === 'lost') return { status: 'RESTART', job };
      if (request.tenant === 'throttled') throw new VendorThrottledError('slow down', 1);
      return { status: 'PENDING', job, waitSeconds: 1 };
    },
    fetchReport: () => Promise.reject(new Error('never ready')),
  }));
}

describe('the poll loop of one item', () => {
  let s3: LocalS3;
  let dir: string;
  let run: VendorRunResult;
  const failures = () =>
    Object.fromEntries(
      run.events.filter((e) => e.detailType === 'Report Failed').map((e) => [e.detail.tenant, e.detail.error]),
    );
  const steps = (tenant: Script) => calls.filter((c) => c.tenant === tenant).map((c) => c.step);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poll-bounds-'));
    s3 = await startLocalS3(join(dir, 's3'));
    const config = testAppConfig({
      bounds: {
        enabled: true,
        baseUrl: 'http://127.0.0.1:9',
        schedule: 'cron(0 2 * * ? *)',
        scheduleTimezone: 'UTC',
        reports: ['things'],
        downloadHosts: [],
        poll: { intervalSeconds: 1, maxAttempts: MAX_ATTEMPTS, deadlineMinutes: 60 },
        maxConcurrency: 3,
        tenants: TENANTS.map((id) => ({ id, since: '2026-01-01', credentials: { token: 't' } })),
      },
    });
    const [result] = await runLocalPipeline({
      config,
      scheduledTime: new Date('2026-11-22T02:00:00Z'),
      date: DATE,
      s3,
      tmpDir: join(dir, 'tmp'),
      fastWaitsMs: 1,
      connectors: [fixtureConnector()],
    });
    run = result as VendorRunResult;
  });

  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('checks a job that never finishes maxAttempts times, then fails it', () => {
    expect(steps('pending')).toEqual(['start', 'check', 'check', 'check']);
    expect(failures().pending).toBe('DeadlineExceededError');
  });

  it('starts a job the vendor keeps losing again MAX_RESTARTS times, then fails it', () => {
    const starts = steps('lost').filter((s) => s === 'start');
    expect(starts).toHaveLength(MAX_RESTARTS + 1);
    expect(steps('lost')).toEqual(['start', 'check', 'start', 'check', 'start', 'check']);
    expect(failures().lost).toBe('RestartsExhaustedError');
  });

  it('counts each throttled check as an attempt', () => {
    expect(steps('throttled')).toEqual(['start', 'check', 'check', 'check']);
    expect(failures().throttled).toBe('DeadlineExceededError');
  });

  it('fails the run, each item announced once', () => {
    expect(run.status).toBe('FAILED');
    expect(run.events.map((e) => e.detailType)).toEqual(['Report Failed', 'Report Failed', 'Report Failed']);
  });
});

describe('each step', () => {
  const deps = {
    connector: fixtureConnector(),
    secrets: staticSecretSource(new Map()),
    env: {},
    logger: new Logger({ serviceName: 'poll-bounds-test', logLevel: 'SILENT' }),
    now: () => new Date('2026-11-22T02:00:00Z'),
  };
  const input = (tenant: Script, counters: { attempt?: number; restarts?: number } = {}): StepInput => ({
    request: { vendor: 'bounds', tenant, report: 'things', date: DATE, runId: 'run-1' },
    tenant: { id: tenant, since: '2026-01-01', credentials: { token: 't' } },
    settings: { baseUrl: 'http://127.0.0.1:9', poll: { intervalSeconds: 1, maxAttempts: 3, deadlineMinutes: 60 } },
    job: { starts: 1 },
    deadline: '2026-11-22T03:00:00.000Z',
    ...counters,
  });

  it('starts counting from nothing: a first PENDING is attempt 1', async () => {
    const { deadline: _none, ...first } = input('pending');
    expect(await startJob(first, deps)).toMatchObject({ status: 'PENDING', attempts: 1, restarts: 0 });
  });

  it('adds one attempt for a PENDING check, a throttled one included, and carries the restarts', async () => {
    expect(await checkJob(input('pending', { attempt: 2, restarts: 1 }), deps)).toMatchObject({
      status: 'PENDING',
      attempts: 3,
      restarts: 1,
    });
    expect(await checkJob(input('throttled', { attempt: 2 }), deps)).toMatchObject({
      status: 'PENDING',
      attempts: 3,
      restarts: 0,
    });
  });

  it('adds one restart for a lost job and leaves the attempts', async () => {
    expect(await checkJob(input('lost', { attempt: 2, restarts: 1 }), deps)).toMatchObject({
      status: 'RESTART',
      attempts: 2,
      restarts: 2,
    });
  });
});
