/**
 * `npm run status` over the local workspace, end to end: a real `npm start` (CSP against its
 * simulator, one tenant's credentials refused with --inject-failure) appends its execution to
 * runs.jsonl, and status reports that run from it and from the outcome records in the archive:
 * the failed run and items with their error, and the refused tenant stale (exit 1).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportFreshness } from '../../lambdas/ops/freshness.ts';
import { RunLineSchema } from '../../scripts/local/runs-log.ts';
import { statusCommand } from '../../scripts/status/command.ts';
import { formatStatus } from '../../scripts/status/format.ts';
import type { StatusReport } from '../../scripts/status/model.ts';
import { runCommand, runNpmScript } from '../support/cli.ts';

describe('npm start, then npm run status (local)', { timeout: 180_000 }, () => {
  let dir: string;
  let workspace: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'status-'));
    workspace = join(dir, 'ws');
    const start = await runNpmScript(
      'start',
      ['--vendor', 'csp', '--inject-failure', 'csp/alice', '--workspace', workspace],
      {},
      170_000,
    );
    expect(start.code, start.stdout + start.stderr).toBe(1);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends one line per execution to runs.jsonl when it ends', async () => {
    const lines = (await readFile(join(workspace, 'runs.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const run = RunLineSchema.parse(JSON.parse(lines[0] as string));
    expect(run).toMatchObject({ vendor: 'csp', status: 'FAILED', error: 'ReportsFailed', deferred: 0 });
    expect(run.planned).toBeGreaterThan(0);
    expect(Date.parse(run.stoppedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
  });

  it('reports the run, its failed items and the stale tenant, and exits 1', async () => {
    const result = await runCommand(statusCommand, ['--workspace', workspace, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(report.vendors.map((v) => v.vendor)).toEqual(['csp']);
    const [csp] = report.vendors;
    const [run] = csp?.runs ?? [];
    expect(run).toMatchObject({ status: 'FAILED', error: 'ReportsFailed' });
    expect(run?.failed).toBeGreaterThan(0);
    expect(run?.archived).toBeGreaterThan(0);
    expect(csp?.latestIssues.every((i) => i.tenant === 'alice' && i.error === 'VendorAuthError')).toBe(true);
    expect(csp?.latestIssues.length).toBe(run?.failed);
    const stale = csp?.freshness.reports.filter((r) => r.stale).map((r) => r.tenant);
    expect(stale).toEqual(['alice']);
  });

  it('prints it for a person', async () => {
    const result = await runCommand(statusCommand, ['--workspace', workspace]);
    expect(result.stdout).toMatch(
      /^csp: needs attention: latest run FAILED \(ReportsFailed\), \d+ failed items, 1 stale tenant$/m,
    );
    expect(result.stdout).toContain('stale alice/mfa_audit  never archived; last failed VendorAuthError');
  });
});

describe('a tenant never archived but not due long enough to be late', () => {
  it('is printed as new, not as fresh', () => {
    const report = (lastArchivedAt: string | null, stale: boolean): ReportFreshness => ({
      tenant: 'newcomer',
      report: 'mfa_audit',
      lastArchivedAt,
      lastArchivedDate: null,
      hoursSinceArchived: lastArchivedAt === null ? null : 1,
      stale,
      lastOutcome: 'failed',
      lastError: 'VendorAuthError',
      lastReason: null,
    });
    const status = (r: ReportFreshness): StatusReport => ({
      source: 'test',
      generatedAt: '2026-12-08T00:00:00.000Z',
      days: { from: '2026-12-02', to: '2026-12-08' },
      healthy: true,
      vendors: [
        {
          vendor: 'csp',
          runs: [],
          latestIssues: [],
          deferred: 0,
          datesAtRisk: [],
          settings: { cadenceHours: 24, graceHours: 6 },
          freshness: {
            vendor: 'csp',
            lastArchivedAt: null,
            minutesSinceLastArchived: 0,
            staleTenants: 0,
            reports: [r],
          },
          attention: [],
        },
      ],
    });
    expect(formatStatus(status(report(null, false)), { colour: false })).toContain('new   newcomer/mfa_audit');
    expect(formatStatus(status(report('2026-12-07T23:00:00.000Z', false)), { colour: false })).toContain(
      'fresh newcomer/mfa_audit',
    );
  });
});
