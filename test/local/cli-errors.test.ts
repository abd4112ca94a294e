/**
 * The front door's bad input: each ends in one line naming what is wrong (exit 2), never a stack
 * trace, and the query CLI before any `npm start` says to run it first.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

async function node(script: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--openssl-legacy-provider', '--import', 'tsx', '--import', './scripts/node-polyfills.ts', script, ...args],
      { cwd: ROOT, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const STACK = /\n\s+at /;

describe('npm start: bad arguments', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-errors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [['--vendr', 'csp'], /unknown option '--vendr'/i],
    [['--date', '2026-13-01'], /--date must be a calendar date as YYYY-MM-DD; received "2026-13-01"/],
    [['--date', '2026-02-30'], /--date must be a calendar date as YYYY-MM-DD; received "2026-02-30"/],
    [['--fast-waits', 'abc'], /--fast-waits must be a number of milliseconds; received "abc"/],
    [['--vendor', 'okta'], /unknown vendor "okta"; expected one of: .*csp.*openathens/],
  ])('npm start -- %j names the problem, exit 2, no stack trace', async (args, message) => {
    const result = await node('scripts/local-run.ts', [...args, '--workspace', join(dir, 'ws')]);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });
});

describe('npm run query: bad arguments', () => {
  it('says to run npm start first when there is no local archive', async () => {
    const result = await node('scripts/query.ts', ['--workspace', join(tmpdir(), 'no-such-ws-xyz'), 'SHOW TABLES']);
    expect(result.stderr).toMatch(/no local archive in .*no-such-ws-xyz: run `npm start` first/);
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });

  it('names an unknown option', async () => {
    const result = await node('scripts/query.ts', ['--limit', '5', 'SHOW TABLES']);
    expect(result.stderr).toMatch(/unknown option '--limit'/i);
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });
});
