/**
 * The plan step over a local S3 (s3rver, with S3's conditional writes), for the tests of what it
 * plans and records: a fresh archive per test file, manifests placed by hand (the plan reads only
 * their keys), and the objects it wrote read back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { manifestKey } from '../../lambdas/core/layout.ts';
import { listKeys } from '../../lambdas/core/s3-objects.ts';
import { type PlanDeps, type PlanInput, type PlanResult, planRun } from '../../lambdas/pipeline/plan.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

export interface PlanArchive {
  readonly s3: LocalS3;
  /** plans one run of `vendor`'s section at `scheduledTime` (the run id names the run) */
  plan(
    vendor: string,
    section: PlanInput['section'],
    request: PlanInput['request'],
    options?: { runId?: string; now?: Date; deps?: Partial<PlanDeps> },
  ): Promise<PlanResult>;
  /** marks a report archived: a manifest at its key */
  archive(vendor: string, report: string, tenant: string, date: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  read(key: string): Promise<string>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

export async function startPlanArchive(): Promise<PlanArchive> {
  const directory = await mkdtemp(join(tmpdir(), 'plan-archive-'));
  const s3 = await startLocalS3(directory);
  const reader = { s3: s3.client, bucket: s3.bucket };
  return {
    s3,
    plan: (vendor, section, request, options = {}) =>
      planRun(
        { vendor, section, request, runId: options.runId ?? 'run-1' },
        {
          definition: definitionFor(vendor),
          s3: s3.client,
          bucket: s3.bucket,
          now: () => options.now ?? new Date(request.scheduledTime),
          ...options.deps,
        },
      ),
    async archive(vendor, report, tenant, date) {
      const Key = manifestKey({ vendor, report, tenant, date });
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: '{}' }));
    },
    keys: (prefix) => listKeys(reader, prefix),
    async read(key) {
      const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      return (await object.Body?.transformToString()) ?? '';
    },
    async remove(key) {
      await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    },
    async close() {
      await s3.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
