/**
 * The front door end to end, as a user runs it: `npm start -- --config <file>` in a new process
 * against a server it is told about (here the OpenAthens simulator, started apart, reached only
 * through the config file and an environment variable holding the key), then `npm run query` over
 * what it archived. The commands' other behaviour is tested in-process (start.test.ts,
 * query.test.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenAthensSimulator, startOpenAthensSimulator } from '../../simulators/openathens/server.ts';
import { runNpmScript } from '../support/cli.ts';

// each spawn starts Node, tsx and the project's modules: slow on a busy machine (the helper's own
// limit is 90 s)
describe('npm start -- --config, then npm run query', { timeout: 120_000 }, () => {
  let dir: string;
  let sim: OpenAthensSimulator;
  let yesterday: string;

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
            tenants: [{ id: org.tenantId, since: '2026-11-01', apiName: org.apiName, credentialsEnv: 'OA_TEST_KEY' }],
          },
        },
      }),
    );
    yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    // Act
    const result = await runNpmScript(
      'start',
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

  it('answers npm run query over what it archived', async () => {
    const org = sim.organisations[0]!;
    const query = await runNpmScript('query', [
      '--workspace',
      join(dir, 'ws'),
      'SELECT vendor, tenant, dt, row_count FROM report_manifests',
    ]);
    expect(query.code, query.stdout + query.stderr).toBe(0);
    expect(query.stdout).toMatch(new RegExp(`openathens\\s+${org.tenantId}\\s+${yesterday}\\s+25\\b`));
  });
});
