/**
 * `npm run coverage` over a local archive (fixtures.ts): the terminal table has a row of day
 * cells per tenant and report and lists the days that need attention with their reasons; the
 * page holds every day's cell with its state and reason and loads nothing from outside; the exit
 * code says whether any day needs attention; a bad command line or a missing archive is exit 2.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coverageCommand } from '../../scripts/coverage/command.ts';
import { escapeHtml } from '../../scripts/coverage/html.ts';
import { LEGEND } from '../../scripts/coverage/legend.ts';
import { runCommand } from '../support/cli.ts';
import { ago, FAILURE_REASON, SCENARIO, scenarioWorkspace, today } from './fixtures.ts';

let root: string;
const coverage = (...args: string[]) => runCommand(coverageCommand, ['--workspace', root, ...args]);

beforeAll(async () => {
  root = await scenarioWorkspace();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm run coverage: local archive', () => {
  it('prints a row of day cells per tenant and report, and exits 1 when a day needs attention', async () => {
    // Act
    const result = await coverage('--days', '50');
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`coverage ${ago(49)} to ${today} (50 days, UTC), local workspace ${root}`);
    const row = (label: string) => lines.find((l) => l.startsWith(`  ${label} `))?.slice(-50);
    // the 50 cells run from 49 days ago to today
    const cell = (label: string, daysAgo: number) => row(label)?.[49 - daysAgo];
    for (const day of SCENARIO) {
      expect(cell(`${day.tenant} ${day.report}`, (Date.parse(today) - Date.parse(day.date)) / 86_400_000)).toBe(
        LEGEND[day.state].symbol,
      );
    }
    expect(cell('org-a raw_statistics', 0)).toBe('.');
    expect(result.stdout).toContain(
      `  openathens/org-a/raw_statistics ${ago(9)} failed: VendorServerError: ${FAILURE_REASON}`,
    );
    expect(result.stdout).toContain(
      `  openathens/org-new/raw_statistics ${ago(5)}..${ago(1)} (5 days) missing: not archived, and no run recorded an outcome for it`,
    );
    expect(result.stdout).toMatch(/\n\d+ of \d+ days need attention: /);
  });

  it('writes the page: every day a cell with its state, the reason on hover, nothing loaded from outside', async () => {
    // Act
    const result = await coverage('--days', '50');
    // Assess
    const file = join(root, 'coverage.html');
    expect(result.stdout).toContain(`page: ${file}`);
    const page = readFileSync(file, 'utf8');
    for (const day of SCENARIO) {
      expect(page).toMatch(new RegExp(`data-date="${day.date}" data-state="${day.state}"`));
    }
    const failed = new RegExp(`data-date="${ago(9)}" data-state="failed" title="([^"]*)"`).exec(page)?.[1];
    expect(failed).toBe(escapeHtml(`${ago(9)}: failed\nVendorServerError: ${FAILURE_REASON}\nrun run-9`));
    expect(page).toContain(`<h2>openathens <span class="counts">`);
    expect(page).toContain('<h3>org-new <span class="counts">5 missing</span></h3>');
    for (const state of Object.values(LEGEND))
      expect(page).toContain(`<b>${state.label}</b>: ${escapeHtml(state.meaning)}`);
    expect(page).not.toMatch(/<script|<link|src=|href=|url\(|@import/);
  });

  it('narrows to a vendor and range, exits 0 when every day is archived, and writes --out', async () => {
    // Prepare
    const out = join(mkdtempSync(join(tmpdir(), 'coverage-out-')), 'page.html');
    // Act
    const result = await coverage('--vendor', 'pingone', '--from', ago(2), '--to', today, '--out', out);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\n {2}workforce mfa_devices +#\.#\n/);
    expect(result.stdout).not.toContain('openathens');
    expect(result.stdout).toContain('OK: 2 archived');
    expect(readFileSync(out, 'utf8')).toContain(`data-date="${today}" data-state="archived"`);
    rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('says so when nothing is expected or recorded in the range', async () => {
    const result = await coverage('--tenant', 'nobody');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no expected reports, manifests or outcome records in this range');
  });
});

describe('npm run coverage: refusals (exit 2)', () => {
  it.each([
    [['--from', '2026-02-30'], '--from must be a date as YYYY-MM-DD; received "2026-02-30"'],
    [['--from', '2026-11-01', '--days', '5'], '--from and --days both set'],
    [['--days', '0'], '--days must be a whole number from 1 to 3660; received "0"'],
    [['--from', '2026-12-02', '--to', '2026-12-01'], '--from 2026-12-02 is after --to 2026-12-01'],
    [['--report', 'mfa_audit'], '--report needs --vendor'],
    [['--vendor', 'nosuch'], '--vendor nosuch: unknown vendor; expected one of: pingone, csp, rsa, openathens'],
    [['--vendor', 'csp', '--report', 'users'], '--report users: csp has no such report; expected one of: mfa_audit'],
    [['--deployed'], "--deployed is gone: name the deployed stack's config with --config <file>"],
    [
      ['--config', 'config/example.json'],
      '--workspace is the local archive and --config the deployed stack: choose one',
    ],
    [['--region', 'eu-west-1'], "--region is the deployed stack's region: name its config with --config <file>"],
    [['--bogus'], "Unknown option '--bogus'"],
    [['extra'], 'unexpected argument "extra"'],
  ])('refuses %j', async (args, message) => {
    const result = await coverage(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`npm run coverage: ${message}`);
    expect(result.stderr).toContain('usage: npm run coverage');
    expect(result.stdout).toBe('');
  });

  it('refuses a workspace without an archive, writing no page', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'coverage-empty-'));
    const result = await runCommand(coverageCommand, ['--workspace', empty]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no local archive in ${empty}: run \`npm start\` first`);
    expect(existsSync(join(empty, 'coverage.html'))).toBe(false);
    rmSync(empty, { recursive: true, force: true });
  });

  it('prints the usage for --help, exit 0', async () => {
    const result = await coverage('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('exit status: 0 every day in the range is archived, skipped or not expected');
  });
});
