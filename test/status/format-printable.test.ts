/**
 * `npm run status` prints the reasons of failed and skipped items, which can hold a vendor's words:
 * as the local summary does, no control character of theirs reaches the terminal.
 */
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../scripts/status/format.ts';
import { vendorStatus } from '../../scripts/status/model.ts';
import { expectation, outcome } from '../ops/outcome-fixtures.ts';

const now = new Date('2026-12-08T10:00:00Z');
const ESCAPE = '\u001b[2J\u001b]0;pwned\u0007';

describe('status for a person', () => {
  it('prints no control character of a reason or an error', () => {
    const failed = outcome({
      tenant: 'acme',
      report_date: '2026-12-07',
      outcome: 'failed',
      error: `JobFailed${ESCAPE}`,
      reason: `the vendor said: ${ESCAPE}\nforged line`,
      run_id: 'arn:aws:states:eu-west-1:1:execution:m:run-1',
      recorded_at: '2026-12-08T02:00:00.000Z',
    });
    const vendor = vendorStatus({
      vendor: 'openathens',
      runs: [
        {
          vendor: 'openathens',
          execution: 'run-1',
          startedAt: '2026-12-08T01:59:00.000Z',
          stoppedAt: '2026-12-08T02:01:00.000Z',
          status: 'FAILED',
          error: 'ReportsFailed',
          cause: null,
          planned: 1,
          deferred: 0,
          atRisk: [],
        },
      ],
      records: [failed],
      expectations: [expectation({ tenant: 'acme' })],
      now,
      settings: { cadenceHours: 24, graceHours: 6 },
    });
    const text = formatStatus(
      {
        source: 'test',
        generatedAt: now.toISOString(),
        days: { from: '2026-12-02', to: '2026-12-08' },
        healthy: false,
        vendors: [vendor],
      },
      { colour: false },
    );
    expect(text).toContain('the vendor said:');
    const controls = [...text].filter((c) => c !== '\n' && /\p{Cc}/u.test(c));
    expect(controls).toEqual([]);
    expect(text.split('\n').some((line) => line.startsWith('forged line'))).toBe(false);
  });
});
