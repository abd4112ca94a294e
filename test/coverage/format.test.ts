/**
 * The calendar model and its two pictures, from days as the query returns them: days join into
 * runs only when state, reason and error agree; a reason is text on the page, never markup; the
 * terminal ruler puts each month's name over its first day.
 */
import { describe, expect, it } from 'vitest';
import { buildCalendar, dayRuns } from '../../scripts/coverage/calendar.ts';
import { coveragePage } from '../../scripts/coverage/html.ts';
import type { CoverageDay } from '../../scripts/coverage/query.ts';
import { formatCalendar } from '../../scripts/coverage/terminal.ts';

const day = (dt: string, state: CoverageDay['state'], reason: string | null = null): CoverageDay => ({
  vendor: 'acme',
  tenant: 't1',
  report: 'users',
  dt,
  state,
  reason,
  error: null,
  runId: null,
  recordedAt: null,
  expected: true,
  historyDays: 30,
});

describe('coverage calendar', () => {
  it('joins consecutive days of one state and reason, and no others', () => {
    // Prepare
    const days = [
      day('2026-11-29', 'missing', 'no record'),
      day('2026-11-30', 'missing', 'no record'),
      day('2026-12-01', 'missing', 'other'),
      day('2026-12-02', 'archived'),
      day('2026-12-04', 'missing', 'other'),
    ];
    // Act
    const runs = dayRuns(buildCalendar(days, '2026-11-29', '2026-12-04'), new Set(['missing']));
    // Assess
    expect(runs.map((r) => [r.first, r.last, r.days, r.reason])).toEqual([
      ['2026-11-29', '2026-11-30', 2, 'no record'],
      ['2026-12-01', '2026-12-01', 1, 'other'],
      ['2026-12-04', '2026-12-04', 1, 'other'],
    ]);
  });

  it('escapes a reason on the page', () => {
    const calendar = buildCalendar(
      [day('2026-12-01', 'failed', '<img src=x onerror=alert(1)> & "quotes"')],
      '2026-12-01',
      '2026-12-01',
    );
    const page = coveragePage(calendar, { source: 'test', generatedAt: new Date('2026-12-02T00:00:00Z') });
    expect(page).not.toContain('<img');
    expect(page).toContain('&#60;img src=x onerror=alert(1)&#62; &#38; &#34;quotes&#34;');
  });

  it('prints no control character of a reason to the terminal', () => {
    const reason = 'refused\u001b[2J\u001b]0;pwned\u0007\r\nfake line\u009b';
    const text = formatCalendar(
      buildCalendar([day('2026-12-01', 'failed', reason)], '2026-12-01', '2026-12-01'),
      'test',
    );
    expect(text).toContain('refused [2J ]0;pwned   fake line ');
    const controls = [...text].filter((c) => c !== '\n' && /\p{Cc}/u.test(c));
    expect(controls).toEqual([]);
  });

  it('names each month over its first day in the terminal ruler', () => {
    const text = formatCalendar(buildCalendar([day('2026-11-29', 'archived')], '2026-11-29', '2026-12-02'), 'test');
    const lines = text.split('\n');
    const cells = lines.find((l) => l.includes('t1 users')) ?? '';
    const at = cells.indexOf('#');
    // two days of November leave no room for its name
    expect(lines.find((l) => l.includes('Dec'))?.slice(at)).toBe('  Dec');
    expect(cells.slice(at)).toBe('#...');
  });
});
