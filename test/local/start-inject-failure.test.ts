/**
 * `npm start -- --inject-failure <vendor>[/<tenant>]` (scripts/local/start.ts, simulators/index.ts):
 * the vendor's simulator refuses that tenant as the vendor documents, so a local run ends as a
 * failed run does, its summary names the failure and why, and the outcome record in the local S3
 * says `failed` with the error name and a reason without a credential, while the other tenant
 * archives. Flags the simulators cannot honour are refused as a bad command line.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/local/start.ts';
import { DEFAULT_ORGANISATIONS } from '../../simulators/openathens/server.ts';
import { DEFAULT_ENVIRONMENTS } from '../../simulators/pingone/server.ts';
import { runCommand } from '../support/cli.ts';
import { workspaceOutcomes } from '../support/workspace-outcomes.ts';

const start = (args: string[]) => runCommand(startCommand, args);

// the simulators' secrets that could leak into a reason; CSP's API and access tokens, JWTs and
// the lines of RSA's PEM keys are long unbroken strings, caught by LONG_TOKEN
const SECRETS = [...DEFAULT_ORGANISATIONS.map((o) => o.apiKey), ...DEFAULT_ENVIRONMENTS.map((e) => e.clientSecret)];
const LONG_TOKEN = /[A-Za-z0-9_~-]{40,}/;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inject-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const twoDaysAgo = () => daysAgo(2);
// a fresh workspace's simulated CSP tenants are due from yesterday (scripts/local/start.ts)
const yesterday = () => daysAgo(1);

describe('npm start -- --inject-failure: a bad command line', () => {
  it.each([
    [['--config', 'any.json', '--inject-failure', 'csp'], /--inject-failure works only with the built-in simulators/],
    [['--inject-failure', 'okta'], /--inject-failure "okta": unknown vendor "okta"; expected one of: .*csp/],
    [['--inject-failure', 'csp/robot'], /"csp\/robot": unknown tenant of csp; .* one of: alice, bjorn, chen/],
    [['--inject-failure', 'csp/'], /"csp\/": unknown tenant of csp/],
    [['--vendor', 'rsa', '--inject-failure', 'csp'], /"csp": csp is not among the --vendor options/],
    [['--tenant', 'bjorn', '--inject-failure', 'csp'], /"csp": alice is not among the --tenant options/],
  ])('npm start -- %j names the problem, exit 2', async (args, message) => {
    const result = await start([...args, '--workspace', join(dir, 'usage')]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
  });
});

describe('npm start -- --inject-failure <vendor>[/<tenant>]', () => {
  it.each([
    // vendor, refused tenant (how it is named), the other tenant, extra arguments, the refusal
    ['openathens', 'example-org', 'hospital-example', ['--date', twoDaysAgo()], /forbidden \(403\).*not enabled/],
    ['csp', 'chen', 'alice', ['--inject-failure', 'csp/chen', '--date', yesterday()], /403 \(The user is forbidden/],
    ['pingone', 'sim-env-b', 'sim-env-a', ['--inject-failure', 'pingone/sim-env-b'], /403 .*INSUFFICIENT_PERMISSIONS/],
    ['rsa', 'globex', 'acme', ['--inject-failure', 'rsa/globex', '--report', 'users'], /HTTP 403 to generate users/],
  ])(
    '%s: %s fails with the vendor refusal, recorded as failed; %s archives',
    async (vendor, refused, other, extra, refusal) => {
      // Prepare: openathens is named without a tenant (its first one is refused)
      const workspace = join(dir, vendor);
      const inject = vendor === 'openathens' ? ['--inject-failure', 'openathens'] : [];
      const args = ['--vendor', vendor, '--tenant', refused, '--tenant', other, ...inject, ...extra];
      // Act
      const result = await start([...args, '--workspace', workspace]);
      // Assess: the exit code of a failed run, and the summary says which item failed and why
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`\\b${vendor}\\s+FAILED\\s+1\\s+0\\s+1\\s+0\\b`));
      expect(result.stdout).toMatch(
        new RegExp(`  ${vendor}: ${refused} \\S+ \\S+: VendorAuthError: .*${refusal.source}`),
      );
      const records = await workspaceOutcomes(workspace, vendor);
      expect(records.map((r) => [r.tenant, r.outcome]).sort()).toEqual(
        [
          [other, 'archived'],
          [refused, 'failed'],
        ].sort(),
      );
      const failed = records.find((r) => r.outcome === 'failed');
      expect(failed?.error).toBe('VendorAuthError');
      expect(failed?.reason).toMatch(refusal);
      for (const secret of SECRETS) expect(failed?.reason).not.toContain(secret);
      expect(failed?.reason).not.toMatch(LONG_TOKEN);
      // the events the run emitted, in the workspace as EventBridge delivers them
      const events = (await readFile(join(workspace, 'events.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(events.map((e) => [e['detail-type'], (e.detail as { tenant?: string }).tenant]).sort()).toEqual(
        [
          ['Report Archived', other],
          ['Report Failed', refused],
        ].sort(),
      );
      for (const event of events) {
        expect(event).toMatchObject({ version: '0', account: '000000000000', region: 'us-east-1', resources: [] });
        expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      }
      expect(result.stdout).toContain(`Events: ${join(workspace, 'events.jsonl')} (2 from this run`);
    },
  );
});
