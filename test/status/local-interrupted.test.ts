/**
 * `npm run status` over a local workspace whose `npm start` was interrupted (Ctrl-C, a kill)
 * after its plan: runs.jsonl has no line for the vendor, yet the plan wrote its expectations.
 * The vendor still shows, with no run found, and the report needs attention instead of leaving
 * the vendor out and reading healthy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectationsKey } from '../../lambdas/core/layout.ts';
import { startLocalS3 } from '../../scripts/local/s3.ts';
import { localWorkspace } from '../../scripts/local/workspace.ts';
import { statusCommand } from '../../scripts/status/command.ts';
import type { StatusReport } from '../../scripts/status/model.ts';
import { runCommand } from '../support/cli.ts';

describe('npm run status after an interrupted npm start (local)', { timeout: 60_000 }, () => {
  let dir: string;

  beforeAll(async () => {
    // Prepare: the workspace of a first run killed after CSP's plan step, before the run ended
    dir = await mkdtemp(join(tmpdir(), 'status-interrupted-'));
    const workspace = localWorkspace(dir);
    const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
    try {
      const row = {
        vendor: 'csp',
        tenant: 'alice',
        report: 'mfa_audit',
        since: '2026-12-01',
        until: null,
        cadence: 'event-log',
        history_days: null,
        written_at: '2026-12-08T02:37:24.337Z',
      };
      await s3.client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: expectationsKey('csp'), Body: `${JSON.stringify(row)}\n` }),
      );
    } finally {
      await s3.close();
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the vendor with no run found, and exits 1', async () => {
    // Act
    const result = await runCommand(statusCommand, ['--workspace', dir, '--json']);
    // Assess
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.healthy).toBe(false);
    expect(report.vendors.map((v) => v.vendor)).toEqual(['csp']);
    expect(report.vendors[0]?.runs).toEqual([]);
    expect(report.vendors[0]?.attention).toContain('no run found');
  });
});
