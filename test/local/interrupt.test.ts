/**
 * Ctrl-C (SIGINT) during `npm start`: the run still going is logged as ABORTED in the runs log,
 * with what it had planned, the process exits 130, and `npm run status` reports the interrupted
 * run instead of a healthy vendor.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRuns } from '../../scripts/local/runs-log.ts';
import { localWorkspace } from '../../scripts/local/workspace.ts';
import { statusCommand } from '../../scripts/status/command.ts';
import type { StatusReport } from '../../scripts/status/model.ts';
import { runCommand } from '../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
// the npm start script's node command, without npm in between, so the signal reaches it alone
const NODE_ARGS = [
  '--openssl-legacy-provider',
  '--import',
  'tsx',
  '--import',
  './scripts/node-polyfills.ts',
  'scripts/local-run.ts',
];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'interrupt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Starts `npm start` for OpenAthens (90 items) and sends SIGINT once its first item is archived. */
async function interruptedStart(workspace: string): Promise<{ code: number | null; stderr: string }> {
  const args = [...NODE_ARGS, '--workspace', workspace, '--vendor', 'openathens', '--verbose'];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (/^openathens: .*: archived$/m.test(stdout) && !child.killed) child.kill('SIGINT');
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

describe('npm start interrupted with Ctrl-C', () => {
  it('logs the unfinished run as ABORTED, exits 130, and status reports it', async () => {
    // Act
    const workspace = join(root, 'ws');
    const { code, stderr } = await interruptedStart(workspace);
    // Assess
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('npm start: interrupted; 1 unfinished run(s) logged as ABORTED');
    const runs = readRuns(localWorkspace(workspace));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ vendor: 'openathens', status: 'ABORTED', error: 'Interrupted' });
    expect(runs[0]?.planned).toBeGreaterThan(1);
    const status = await runCommand(statusCommand, ['--workspace', workspace, '--json']);
    expect(status.code, status.stderr).toBe(1);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.vendors.find((v) => v.vendor === 'openathens')?.runs[0]?.status).toBe('ABORTED');
  });
});
