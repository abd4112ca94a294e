/**
 * The status report for a person (scripts/status/format.ts): a run's counts are the outcome
 * records of the report dates read, so a run that planned more than they hold says how many
 * items are not among them, instead of reading as items gone missing.
 */
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../scripts/status/format.ts';
import type { RunStatus, StatusReport } from '../../scripts/status/model.ts';

const run = (planned: number | null, archived: number): RunStatus => ({
  vendor: 'openathens',
  execution: 'openathens-1',
  startedAt: '2026-12-08T02:32:28.000Z',
  stoppedAt: '2026-12-08T02:33:28.000Z',
  status: 'SUCCEEDED',
  error: null,
  cause: null,
  planned,
  deferred: 0,
  atRisk: [],
  archived,
  failed: 0,
  skipped: 0,
  unrecorded: planned === null ? null : planned - archived,
});

const report = (runs: RunStatus[]): StatusReport => ({
  source: 'local workspace .local',
  generatedAt: '2026-12-08T02:36:29.817Z',
  days: { from: '2026-12-02', to: '2026-12-08' },
  healthy: true,
  vendors: [
    {
      vendor: 'openathens',
      runs,
      latestIssues: [],
      deferred: 0,
      datesAtRisk: [],
      settings: { cadenceHours: 24, graceHours: 6 },
      freshness: {
        vendor: 'openathens',
        lastArchivedAt: null,
        minutesSinceLastArchived: 0,
        staleTenants: 0,
        reports: [],
      },
      attention: [],
    },
  ],
});

describe('formatStatus: a run line', () => {
  it('says how many planned items have no record in the report dates read', () => {
    // Act: a 30-day backlog of 90 items, 18 of them in the 7 report dates read
    const text = formatStatus(report([run(90, 18)]), { colour: false });
    // Assess
    expect(text).toContain(
      '2026-12-08 02:32:28Z  SUCCEEDED  planned 90, archived 18, failed 0, skipped 0, 72 not among the records read',
    );
  });

  it('adds nothing when every planned item is counted, or the plan is unknown', () => {
    // Act
    const text = formatStatus(report([run(2, 2), run(null, 3)]), { colour: false });
    // Assess
    expect(text).toContain('SUCCEEDED  planned 2, archived 2, failed 0, skipped 0\n');
    expect(text).toContain('SUCCEEDED  archived 3, failed 0, skipped 0\n');
    expect(text).not.toContain('not among');
  });
});
