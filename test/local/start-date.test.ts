/**
 * `npm start -- --date D` says, for every vendor, what it did with D: a snapshot vendor (PingOne,
 * RSA) asked for a past day skips it with the reason and records the skip, and the run succeeds;
 * OpenAthens archives a day of its 30, then finds it already archived, and skips an older one
 * with the reason. Each on a fresh workspace, whose simulated tenants are due from today (the
 * snapshots) or the window's start (OpenAthens): the dates asked for are before that.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/local/start.ts';
import { runCommand } from '../support/cli.ts';
import { workspaceOutcomes } from '../support/workspace-outcomes.ts';

const start = (args: string[]) => runCommand(startCommand, args);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'start-date-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm start -- --date D', { timeout: 120_000 }, () => {
  it('a snapshot vendor skips a past day with the reason, records the skip, and the run succeeds', async () => {
    // Prepare: two days ago, so the hour's grace after midnight never lets a snapshot be taken
    const date = daysAgo(2);
    const workspace = join(dir, 'snapshots');
    // Act
    const result = await start(['--date', date, '--vendor', 'pingone', '--vendor', 'rsa', '--workspace', workspace]);
    // Assess
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const reason = `the report is a snapshot of the vendor's state now (${daysAgo(0)}, UTC), so it cannot be archived as ${date}`;
    expect(result.stdout).toContain(`What each vendor did with ${date}:`);
    expect(result.stdout).toContain(`  pingone: 2 skipped: ${reason}\n`);
    expect(result.stdout).toContain(`  rsa: 10 skipped: ${reason}\n`);
    const records = await workspaceOutcomes(workspace, 'pingone');
    expect(records.map((r) => [r.tenant, r.report_date, r.outcome, r.reason]).sort()).toEqual([
      ['sim-env-a', date, 'skipped', reason],
      ['sim-env-b', date, 'skipped', reason],
    ]);
  });

  it('OpenAthens archives a day of its 30, then finds it already archived, and skips an older one with the reason', async () => {
    // Prepare
    const workspace = join(dir, 'openathens');
    const run = (date: string) => start(['--date', date, '--vendor', 'openathens', '--workspace', workspace]);
    const within = daysAgo(2);
    const aged = daysAgo(40);
    // Act
    const first = await run(within);
    const again = await run(within);
    const old = await run(aged);
    // Assess
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('  openathens: 3 archived\n');
    expect(again.stdout).toContain('  openathens: 3 already archived\n');
    expect(old.code, old.stdout + old.stderr).toBe(0);
    expect(old.stdout).toMatch(
      new RegExp(
        `  openathens: 3 skipped: OpenAthens serves 30 days back \\(the oldest is [-\\d]+, UTC\\), so ${aged} can no longer be fetched\\n`,
      ),
    );
  });
});
