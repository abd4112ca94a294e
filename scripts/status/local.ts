/**
 * The local status source: the runs of `.local/runs.jsonl` (scripts/local/runs-log.ts) and the
 * archive through s3rver over the workspace, the same S3 code the deployed source uses. A local
 * workspace has no schedule (`npm start` runs by hand), so every vendor is taken as daily.
 *
 * The vendors are those of runs.jsonl and those whose plan wrote their expectations: a run that
 * was interrupted (Ctrl-C, a kill) appends no line, and its vendor must still show (with no run
 * found) rather than vanish from a report that then reads healthy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { EXPECTATIONS_PREFIX } from '../../lambdas/core/layout.ts';
import type { FreshnessSettings } from '../../lambdas/ops/freshness.ts';
import { UsageError } from '../local/command.ts';
import { readRuns } from '../local/runs-log.ts';
import { type LocalS3, startLocalS3 } from '../local/s3.ts';
import { localWorkspace } from '../local/workspace.ts';
import type { StatusSource } from './collect.ts';

/** A local workspace's cadence: a day, as every vendor's default schedule. */
export const LOCAL_CADENCE_HOURS = 24;

export interface LocalSource extends StatusSource {
  close(): Promise<void>;
}

export async function localSource(
  workspaceDir: string,
  graceHours: number,
  vendor: string | undefined,
): Promise<LocalSource> {
  const workspace = localWorkspace(workspaceDir);
  if (!existsSync(join(workspace.s3Directory, workspace.bucket))) {
    throw new UsageError(
      `no local archive in ${workspace.root}: run \`npm start\` first, or name a deployed stack's config with --config <file>`,
    );
  }
  const lines = readRuns(workspace);
  const settings: FreshnessSettings = { cadenceHours: LOCAL_CADENCE_HOURS, graceHours };
  // no recovery: an npm start may be writing to this workspace right now
  const s3: LocalS3 = await startLocalS3(workspace.s3Directory, workspace.bucket, { recover: false });
  let planned: string[];
  try {
    planned = await plannedVendors(s3.client, s3.bucket);
  } catch (error) {
    await s3.close();
    throw error;
  }
  const vendors = [...new Set([...lines.map((line) => line.vendor), ...planned])].filter(
    (v) => vendor === undefined || v === vendor,
  );
  return {
    description: `local workspace ${workspace.root}`,
    s3: s3.client,
    bucket: s3.bucket,
    vendors: vendors.sort().map((v) => ({ vendor: v, settings })),
    runs: async (v, limit) =>
      lines
        .filter((line) => line.vendor === v)
        .reverse()
        .slice(0, limit),
    close: () => s3.close(),
  };
}

/** The vendors whose plan step wrote `expectations/<vendor>.jsonl`. */
async function plannedVendors(s3: S3Client, bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${EXPECTATIONS_PREFIX}/` }));
  return (listed.Contents ?? []).flatMap((object) => {
    const match = /^[^/]+\/([^/]+)\.jsonl$/.exec(object.Key ?? '');
    return match?.[1] ? [match[1]] : [];
  });
}
