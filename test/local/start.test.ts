/**
 * The `npm start` command in-process (scripts/local/start.ts): bad input ends in one line naming
 * what is wrong (exit 2), never a stack trace; a bad config is refused with the field named; a
 * report the vendor cannot serve yet is listed as skipped, with the reason. The real process is
 * tested once, end to end, in cli.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/local/start.ts';
import { type CspSimulator, startCspSimulator } from '../../simulators/csp/server.ts';
import { runCommand } from '../support/cli.ts';

const start = (args: string[]) => runCommand(startCommand, args);

const STACK = /\n\s+at /;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'start-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm start: bad arguments', () => {
  it.each([
    [['--vendr', 'csp'], /unknown option '--vendr'/i],
    [['--date', '2026-13-01'], /--date must be a calendar date as YYYY-MM-DD; received "2026-13-01"/],
    [['--date', '2026-02-30'], /--date must be a calendar date as YYYY-MM-DD; received "2026-02-30"/],
    [['--fast-waits', 'abc'], /--fast-waits must be a number of milliseconds; received "abc"/],
    [['--vendor', 'okta'], /unknown vendor "okta"; expected one of: .*csp.*openathens/],
    [['--config', 'no-such-config.json'], /^npm start: cannot read config file no-such-config\.json: ENOENT/],
  ])('npm start -- %j names the problem, exit 2, no stack trace', async (args, message) => {
    const result = await start([...args, '--workspace', join(dir, 'ws')]);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });
});

describe('npm start -- --config', () => {
  it('says which reports were skipped and why, rather than a bare SUCCEEDED with nothing archived', async () => {
    // Prepare: the CSP audit of a day not over yet cannot be fetched (two days ahead: no race with
    // midnight UTC between the test and the runner)
    const csp: CspSimulator = await startCspSimulator();
    try {
      const user = csp.users[0]!;
      const config = join(dir, 'csp.json');
      await writeFile(
        config,
        JSON.stringify({
          alerts: { topicName: 'local' },
          vendors: {
            csp: {
              baseUrl: csp.baseUrl,
              tenants: [
                { id: user.id, since: '2026-11-01', label: user.username, credentials: { apiToken: user.apiToken } },
              ],
            },
          },
        }),
      );
      const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      // Act
      const result = await start(['--config', config, '--date', day, '--workspace', join(dir, 'ws3')]);
      // Assess
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/csp\s+SUCCEEDED\s+0\s+0\s+0\s+1\s+0\b/);
      expect(result.stdout).toContain(
        `csp: ${user.id} mfa_audit ${day}: skipped: the UTC day ${day} is not closed yet`,
      );
    } finally {
      await csp.close();
    }
  });

  it('refuses a bad config with the field and what was expected', async () => {
    const config = join(dir, 'bad.json');
    await writeFile(
      config,
      JSON.stringify({
        alerts: { topicName: 'local' },
        vendors: {
          openathens: {
            baseUrl: 'ftp://nowhere',
            tenants: [{ id: 'Bad Id', since: '2026-11-01', apiName: 'x', credentials: {} }],
          },
        },
      }),
    );
    const result = await start(['--config', config, '--workspace', join(dir, 'ws2')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('vendors.openathens.baseUrl');
    expect(result.stderr).toContain('vendors.openathens.tenants[0].id: expected a lower-case slug');
  });
});
