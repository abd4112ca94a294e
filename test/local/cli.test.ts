/**
 * The front door: `npm start -- --config <file>` against a server it is told about (here the
 * OpenAthens simulator, started apart, reached only through the config file and an environment
 * variable holding the key), and a bad config refused with the field named.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CspSimulator, startCspSimulator } from '../../simulators/csp/server.ts';
import { type OpenAthensSimulator, startOpenAthensSimulator } from '../../simulators/openathens/server.ts';
import { runScript } from '../support/cli.ts';

const start = (args: string[], env: Record<string, string> = {}) => runScript('scripts/local-run.ts', args, env);

describe('npm start -- --config', () => {
  let dir: string;
  let sim: OpenAthensSimulator;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-'));
    sim = await startOpenAthensSimulator({ rowsPerReport: 25 });
  });

  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('archives from the servers and credentials the file names, then answers the queries', async () => {
    // Prepare
    const org = sim.organisations[0]!;
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        alerts: { topicName: 'local' },
        vendors: {
          openathens: {
            baseUrl: sim.baseUrl,
            poll: { intervalSeconds: 1, maxAttempts: 20, deadlineMinutes: 5 },
            tenants: [{ id: org.tenantId, apiName: org.apiName, credentialsEnv: 'OA_TEST_KEY' }],
          },
        },
      }),
    );
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    // Act
    const result = await start(
      ['--config', config, '--date', yesterday, '--workspace', join(dir, 'ws'), '--fast-waits', '5'],
      { OA_TEST_KEY: JSON.stringify({ apiKey: org.apiKey }) },
    );
    // Assess
    expect(result.stderr).not.toContain(org.apiKey);
    expect(result.stdout).not.toContain(org.apiKey);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/openathens\s+SUCCEEDED\s+1\s+0\s+0\s+0\s+25\b/);
    expect(result.stdout).toContain('1 reports archived, 25 rows');
    expect(result.stdout).toContain(`${org.tenantId}  ${yesterday}`);
  });

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
              tenants: [{ id: user.id, label: user.username, credentials: { apiToken: user.apiToken } }],
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
          openathens: { baseUrl: 'ftp://nowhere', tenants: [{ id: 'Bad Id', apiName: 'x', credentials: {} }] },
        },
      }),
    );
    const result = await start(['--config', config, '--workspace', join(dir, 'ws2')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('vendors.openathens.baseUrl');
    expect(result.stderr).toContain('vendors.openathens.tenants[0].id: expected a lower-case slug');
  });
});
