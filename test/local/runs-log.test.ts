/**
 * The local runs log read back: a line torn by a kill at the end is left out, any other bad line
 * is an error naming it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRuns, runsFile } from '../../scripts/local/runs-log.ts';
import { localWorkspace } from '../../scripts/local/workspace.ts';

const RUN = {
  vendor: 'csp',
  execution: 'csp-1',
  startedAt: '2026-12-08T01:00:00.000Z',
  stoppedAt: '2026-12-08T01:01:00.000Z',
  status: 'SUCCEEDED',
  error: null,
  cause: null,
  planned: 3,
  deferred: 0,
  atRisk: [],
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runs-log-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readRuns', () => {
  it('leaves out a last line torn by a kill, and keeps the runs before it', async () => {
    const workspace = localWorkspace(join(root, 'torn'));
    await mkdir(workspace.root, { recursive: true });
    await writeFile(runsFile(workspace), `${JSON.stringify(RUN)}\n{"vendor":"csp","execu`);
    expect(readRuns(workspace).map((r) => r.execution)).toEqual(['csp-1']);
  });

  it('names a bad line that is not the torn end', async () => {
    const workspace = localWorkspace(join(root, 'bad'));
    await mkdir(workspace.root, { recursive: true });
    await writeFile(runsFile(workspace), `not json\n${JSON.stringify(RUN)}\n`);
    expect(() => readRuns(workspace)).toThrow(/runs\.jsonl line 1 is not a run: not JSON/);
  });
});
