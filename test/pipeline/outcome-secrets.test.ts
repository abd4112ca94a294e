/**
 * No secret in an outcome record: a CSP run through the local pipeline against the simulator,
 * whose audit endpoint fails every call and repeats the access token in its message (the fixture
 * of test/connectors/csp/auth-and-errors.test.ts). The failure reaches RecordOutcome as the HTTP
 * client's redacted message, and the record keeps that message and nothing more.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspDefinition } from '../../lambdas/connectors/csp/definition.ts';
import { createCspRuntime } from '../../lambdas/connectors/csp/runtime.ts';
import { CspSectionSchema } from '../../lambdas/connectors/csp/settings.ts';
import { outcomeKey } from '../../lambdas/core/layout.ts';
import { registerConnector } from '../../lambdas/core/types.ts';
import { runLocalPipeline, type VendorRunResult } from '../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { type CspSimulator, localVendorSection, startCspSimulator } from '../../simulators/csp/server.ts';
import { LOCAL_SINCE } from '../../simulators/local-since.ts';
import { ANCHOR, DATE, NOW, simClock } from '../connectors/csp/helpers.ts';
import { testAppConfig } from '../support/app-config.ts';

let dir: string;
let sim: CspSimulator;
let s3: LocalS3;
let run: VendorRunResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outcome-secrets-'));
  sim = await startCspSimulator({
    anchor: ANCHOR,
    now: simClock,
    faults: [{ endpoint: 'audit', status: 409, times: 1000, echoCredential: true }],
  });
  s3 = await startLocalS3(join(dir, 's3'));
  await mkdir(join(dir, 'tmp'));
  const raw = localVendorSection(sim, { pageLimit: 7 });
  // due from a fixed day before DATE (the simulator's clock is fixed, the section's default is today's)
  raw.tenants = raw.tenants.map((tenant) => ({ ...tenant, since: LOCAL_SINCE }));
  const section = CspSectionSchema.parse(raw);
  const [result] = await runLocalPipeline({
    config: testAppConfig({ csp: section }, { maxDownloadBytes: 10_000_000, maxExtractedBytes: 10_000_000 }),
    scheduledTime: NOW,
    now: () => NOW,
    date: DATE,
    s3,
    tmpDir: join(dir, 'tmp'),
    fastWaitsMs: 1,
    connectors: [registerConnector(cspDefinition, async () => createCspRuntime())],
    logger: new Logger({ serviceName: 'outcome-secrets', logLevel: 'SILENT' }),
  });
  run = result as VendorRunResult;
});

afterAll(async () => {
  await sim?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the record of a failure whose vendor message held a credential', () => {
  it('keeps the error name and the redacted message, and no token', async () => {
    // Prepare: every planned user failed
    expect(run.status).toBe('FAILED');
    const tenants = run.plan?.items.map((item) => item.tenant.id) ?? [];
    expect(tenants.length).toBeGreaterThan(0);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'outcomes/' }));
    const request = (tenant: string) => ({ vendor: 'csp', report: 'mfa_audit', tenant, date: DATE });
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(
      tenants.map((t) => outcomeKey(request(t), run.executionId)).sort(),
    );

    // Act
    const stored = await Promise.all(
      tenants.map(async (tenant) => {
        const key = outcomeKey(request(tenant), run.executionId);
        const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
        return object.Body!.transformToString('utf8');
      }),
    );

    // Assess
    for (const text of stored) {
      expect(JSON.parse(text)).toMatchObject({
        outcome: 'failed',
        error: 'VendorRequestError',
        reason: expect.stringContaining(
          'The request could not be processed due to a conflict: invalid token: [redacted]',
        ),
      });
    }
    const everything = stored.join('\n');
    expect(sim.requests.some((r) => r.status === 409)).toBe(true);
    for (const user of sim.users) expect(everything).not.toContain(user.apiToken.slice(0, 16));
    expect(everything).not.toMatch(/sim-at-[0-9a-f-]{8}/);
  });
});
