/**
 * The local status source: the runs of `.local/runs.jsonl` (scripts/local/runs-log.ts) and the
 * archive through s3rver over the workspace, the same S3 code the deployed source uses. A local
 * workspace has no schedule (`npm start` runs by hand), so every vendor is taken as daily.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  const vendors = [...new Set(lines.map((line) => line.vendor))].filter((v) => vendor === undefined || v === vendor);
  const settings: FreshnessSettings = { cadenceHours: LOCAL_CADENCE_HOURS, graceHours };
  // no recovery: an npm start may be writing to this workspace right now
  const s3: LocalS3 = await startLocalS3(workspace.s3Directory, workspace.bucket, { recover: false });
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
