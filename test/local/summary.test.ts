import { describe, expect, it } from 'vitest';
import type { VendorRunResult } from '../../scripts/local/pipeline.ts';
import { printSummary } from '../../scripts/local/summary.ts';

const item = { vendor: 'rsa', report: 'users', date: '2026-12-06', runId: 'run-1' };

describe('printSummary', () => {
  it('lists a skipped report with its reason even when another report of the run failed', () => {
    // Prepare: a run that ended in ReportsFailed has no output, so no outcomes: only its events
    const result: VendorRunResult = {
      vendor: 'rsa',
      executionId: 'local-rsa',
      status: 'FAILED',
      error: 'one or more reports failed',
      outcomes: [],
      events: [
        {
          source: 'identity-report-archive',
          detailType: 'Report Failed',
          detail: { ...item, tenant: 'acme', error: 'VendorAuthError', cause: 'the key was refused' },
        },
        {
          source: 'identity-report-archive',
          detailType: 'Report Skipped',
          detail: { ...item, tenant: 'globex', reason: 'generated less than 8 hours ago' },
        },
      ],
      metrics: [],
      durationMs: 1_000,
    };
    const lines: string[] = [];

    // Act
    printSummary([result], 1_000, { print: (text) => lines.push(text), printError: (text) => lines.push(text) });

    // Assess
    const text = lines.join('\n');
    expect(text).toContain('rsa: acme users 2026-12-06: VendorAuthError: the key was refused');
    expect(text).toContain('rsa: globex users 2026-12-06: skipped: generated less than 8 hours ago');
    expect(text).toMatch(/rsa\s+FAILED\s+0\s+0\s+1\s+1\s/);
  });

  it('says how many dates the plan left outside the tenant range or found lost, rather than a bare SUCCEEDED', () => {
    // Prepare: a --date before every tenant's since, in a vendor with lost days behind it
    const result: VendorRunResult = {
      vendor: 'csp',
      executionId: 'local-csp',
      status: 'SUCCEEDED',
      outcomes: [],
      events: [],
      metrics: [],
      durationMs: 400,
      plan: {
        items: [],
        alreadyArchived: 0,
        deferred: 0,
        atRisk: [],
        duplicateOf: null,
        outsideTenantRange: 3,
        lost: 2,
        bookkeeping: ['expectations not recorded: AccessDenied: no'],
      },
    };
    const lines: string[] = [];
    // Act
    printSummary([result], 400, { print: (text) => lines.push(text), printError: (text) => lines.push(text) });
    // Assess
    const text = lines.join('\n');
    expect(text).toContain("csp: 3 tenant date(s) not planned: outside the tenant's since..until");
    expect(text).toContain("csp: 2 date(s) aged out of the vendor's history unarchived (recorded as lost)");
    expect(text).toContain('csp: expectations not recorded: AccessDenied: no');
  });

  it('with --date, says per vendor what it did with that day, a vendor reason without control characters', () => {
    // Prepare: rsa skipped both tenants for one reason (with an escape sequence in it), csp archived one
    const skip = (tenant: string) => ({
      source: 'identity-report-archive',
      detailType: 'Report Skipped',
      detail: { ...item, tenant, reason: 'a snapshot\u001b[2J of now' },
    });
    const base = { outcomes: [], metrics: [], durationMs: 10 };
    const results: VendorRunResult[] = [
      { ...base, vendor: 'rsa', executionId: 'r', status: 'SUCCEEDED', events: [skip('acme'), skip('globex')] },
      {
        ...base,
        vendor: 'csp',
        executionId: 'c',
        status: 'SUCCEEDED',
        events: [
          {
            source: 's',
            detailType: 'Report Archived',
            detail: { ...item, vendor: 'csp', tenant: 'alice', rowCount: 1, bytes: { original: 1, data: 1 } },
          },
        ],
      },
    ];
    const lines: string[] = [];
    // Act
    printSummary(
      results,
      10,
      { print: (text) => lines.push(text), printError: (text) => lines.push(text) },
      '2026-12-06',
    );
    // Assess
    const text = lines.join('\n');
    expect(text).toContain(
      'What each vendor did with 2026-12-06:\n  rsa: 2 skipped: a snapshot [2J of now\n  csp: 1 archived',
    );
    expect(text).not.toContain('\u001b');
  });
});
