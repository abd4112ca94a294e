/**
 * An outcome record status cannot read (the same one that makes the freshness check fail) ends
 * `npm run status` with one line naming its key and exit status 2, not an uncaught stack trace.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, utcDate } from '../../lambdas/core/dates.ts';
import { startLocalS3 } from '../../scripts/local/s3.ts';
import { localWorkspace } from '../../scripts/local/workspace.ts';
import { statusCommand } from '../../scripts/status/command.ts';
import { runCommand } from '../support/cli.ts';

// a report date the default days read include: yesterday
const KEY = `outcomes/vendor=rsa/dt=${addDays(utcDate(new Date()), -1)}/users/acme/rsa-run-1.json`;

describe('npm run status over an unreadable outcome record', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'status-unreadable-'));
    const workspace = localWorkspace(dir);
    const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: KEY, Body: 'not json' }));
    await s3.close();
    const run = {
      vendor: 'rsa',
      execution: 'rsa-run-1',
      startedAt: new Date().toISOString(),
      stoppedAt: new Date().toISOString(),
      status: 'SUCCEEDED',
      error: null,
      cause: null,
      planned: 1,
      deferred: 0,
      atRisk: [],
    };
    await writeFile(join(workspace.root, 'runs.jsonl'), `${JSON.stringify(run)}\n`);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the record in one line and exits 2', async () => {
    // Act
    const result = await runCommand(statusCommand, ['--workspace', dir]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^npm run status: ${KEY}: not JSON .*\\n$`));
    expect(result.stdout).toBe('');
  });
});
