/**
 * A run's counts come from the outcome records of the report dates read: a run that planned
 * older dates (a first run, a backlog) says how many of its items are not among them, so
 * "planned 90, archived 18" is never read as 72 items lost.
 */
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../scripts/status/format.ts';
import { type RunInfo, type StatusReport, vendorStatus } from '../../scripts/status/model.ts';
import { expectation, outcome } from '../ops/outcome-fixtures.ts';

const now = new Date('2026-12-08T03:00:00.000Z');
const settings = { cadenceHours: 24, graceHours: 6 };
const runId = 'arn:aws:states:us-east-1:000000000000:execution:openathens:run-1';

function run(fields: Partial<RunInfo>): RunInfo {
  return {
    vendor: 'openathens',
    execution: 'run-1',
    startedAt: '2026-12-08T01:30:00.000Z',
    stoppedAt: '2026-12-08T01:40:00.000Z',
    status: 'SUCCEEDED',
    error: null,
    cause: null,
    planned: 5,
    deferred: 0,
    atRisk: [],
    ...fields,
  };
}

function statusOf(runs: RunInfo[]) {
  // the run planned 5 dates; the records read (the days asked) hold its last 2
  const records = ['2026-12-06', '2026-12-07'].map((date) =>
    outcome({ tenant: 'example-org', report_date: date, run_id: runId, recorded_at: '2026-12-08T01:35:00.000Z' }),
  );
  return vendorStatus({
    vendor: 'openathens',
    runs,
    records,
    expectations: [expectation({ tenant: 'example-org' })],
    now,
    settings,
  });
}

describe('a run whose items are not all among the records read', () => {
  it('counts the planned items without a record read', () => {
    // Act
    const status = statusOf([run({})]);
    // Assess
    expect(status.runs[0]).toMatchObject({ planned: 5, archived: 2, failed: 0, skipped: 0, unrecorded: 3 });
  });

  it('says so on the run line, and nothing when every planned item was read or the plan is unknown', () => {
    // Prepare
    const report = (runs: RunInfo[]): StatusReport => ({
      source: 'test',
      generatedAt: now.toISOString(),
      days: { from: '2026-12-02', to: '2026-12-08' },
      healthy: true,
      vendors: [statusOf(runs)],
    });
    // Act
    const partial = formatStatus(report([run({})]), { colour: false });
    const complete = formatStatus(report([run({ planned: 2 })]), { colour: false });
    const unknown = formatStatus(report([run({ planned: null })]), { colour: false });
    // Assess
    expect(partial).toContain('SUCCEEDED  planned 5, archived 2, failed 0, skipped 0, 3 not among the records read');
    expect(complete).toContain('SUCCEEDED  planned 2, archived 2, failed 0, skipped 0\n');
    expect(unknown).toContain('SUCCEEDED  archived 2, failed 0, skipped 0\n');
  });
});
