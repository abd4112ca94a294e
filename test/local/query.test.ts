/**
 * The `npm run query` command in-process (scripts/local/query.ts): bad input ends in one line
 * naming what is wrong (exit 2), never a stack trace, and a query before any `npm start` says to
 * run it first; `--help` prints on stdout. The real process is tested once, end to end, in
 * cli.test.ts.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryCommand } from '../../scripts/local/query.ts';
import { runCommand } from '../support/cli.ts';

const query = (args: string[]) => runCommand(queryCommand, args);

const STACK = /\n\s+at /;

describe('npm run query: bad arguments', () => {
  it('says to run npm start first when there is no local archive, or to name a deployed one', async () => {
    const result = await query(['--workspace', join(tmpdir(), 'no-such-ws-xyz'), 'SHOW TABLES']);
    expect(result.stderr).toMatch(
      /^npm run query: no local archive in .*no-such-ws-xyz: run `npm start` first, or name a deployed stack's config with --config <file>$/m,
    );
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });

  it('names an unknown option', async () => {
    const result = await query(['--limit', '5', 'SHOW TABLES']);
    expect(result.stderr).toMatch(/unknown option '--limit'/i);
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });

  it("does not suggest another '--' after npm's own", async () => {
    const result = await query(['--bogus', 'SHOW TABLES']);
    expect(result.stderr).toMatch(/^npm run query: Unknown option '--bogus'\n/);
    expect(result.stderr).not.toContain('positional argument');
  });
});

describe('npm run query -- --help', () => {
  it('prints the usage on stdout, so it pages and pipes like the other commands', async () => {
    const result = await query(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run query -- /);
    expect(result.stderr).toBe('');
  });
});
