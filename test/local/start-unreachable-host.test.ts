/**
 * `npm start -- --config` with a vendor whose baseUrl host does not exist, or refuses
 * connections: the run ends failed at once (no minutes of retries in silence), the summary says
 * which host and what to check in one line, and the outcome record in the local S3 says `failed`
 * with VendorUnreachableError and the same reason, without the tenant's key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/local/start.ts';
import { runCommand } from '../support/cli.ts';
import { startLoopback } from '../support/loopback.ts';
import { workspaceOutcomes } from '../support/workspace-outcomes.ts';

const start = (args: string[]) => runCommand(startCommand, args);

const API_KEY = 'oa-key-that-must-never-show';
const CHECK = "check baseUrl in the vendor's section of the config";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'unreachable-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A loopback port nothing listens on: one a server just gave back. */
async function closedPort(): Promise<number> {
  const server = await startLoopback((_req, res) => res.end());
  await server.close();
  return Number(server.host.split(':')[1]);
}

/** A local config with one OpenAthens organisation on `baseUrl`. */
async function writeConfig(name: string, baseUrl: string): Promise<string> {
  const path = join(dir, `${name}.json`);
  const tenant = { id: 'example-org', since: '2026-01-01', apiName: 'example.org', credentials: { apiKey: API_KEY } };
  await writeFile(
    path,
    JSON.stringify({ alerts: { topicName: 'local' }, vendors: { openathens: { baseUrl, tenants: [tenant] } } }),
  );
  return path;
}

const twoDaysAgo = () => new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);

describe('npm start -- --config with a vendor host that is not there', () => {
  it.each([
    // name, baseUrl, the one-line reason
    // a host that does not resolve is tested in test/core/http/client.test.ts with a resolver of
    // its own: here the answer would depend on the machine's DNS
    [
      'a closed loopback port',
      async () => `http://127.0.0.1:${await closedPort()}/api/v1`,
      (baseUrl: string) =>
        `${new URL(baseUrl).host} refused the connection (ECONNREFUSED) after 3 attempts; ` +
        `is the server up and on that port? ${CHECK}`,
    ],
  ])('%s: the run fails with VendorUnreachableError, its host and what to check', async (name, url, why) => {
    // Prepare
    const baseUrl = await url();
    const config = await writeConfig(name.replace(/\W+/g, '-'), baseUrl);
    const workspace = join(dir, name.replace(/\W+/g, '-'));
    const date = twoDaysAgo();

    // Act
    const result = await start(['--config', config, '--date', date, '--workspace', workspace]);

    // Assess: a failed run, and the summary names the item, the error and the reason on one line
    const reason = `openathens organisation "example-org" (api name "example.org"): request raw report failed: ${why(baseUrl)}`;
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/\bopenathens\s+FAILED\s+0\s+0\s+1\s+0\s+0\b/);
    expect(result.stdout).toContain(
      `\n  openathens: example-org raw_statistics ${date}: VendorUnreachableError: ${reason}\n`,
    );
    const records = await workspaceOutcomes(workspace, 'openathens');
    expect(records.map((r) => [r.tenant, r.outcome, r.error, r.reason])).toEqual([
      ['example-org', 'failed', 'VendorUnreachableError', reason],
    ]);
    expect(result.stdout + result.stderr).not.toContain(API_KEY);
  });
});
