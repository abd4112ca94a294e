/**
 * The front door's bad input: each ends in one line naming what is wrong (exit 2), never a stack
 * trace, and the query CLI before any `npm start` says to run it first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../support/cli.ts';

const node = (script: string, args: string[]) => runScript(script, args, {}, 60_000);

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
