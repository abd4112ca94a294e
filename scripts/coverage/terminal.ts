/**
 * The terminal picture of `npm run coverage`: a legend, a day-of-month ruler, per vendor a row of
 * cells (one character per day) for each tenant and report with its counts, then the days that
 * need attention, consecutive days joined, with their reasons.
 */
import { COVERAGE_STATES } from '../../lambdas/core/views/coverage.ts';
import { ATTENTION_STATES, attentionCount, type Calendar, type DayRun, dayRuns } from './calendar.ts';
import { countsText, LEGEND, NOT_EXPECTED } from './legend.ts';

/** Lines of the attention list printed before "… and N more". */
export const MAX_LISTED_RUNS = 20;

function legendLine(): string {
  const entries = [...COVERAGE_STATES.map((s) => LEGEND[s]), NOT_EXPECTED].map((l) => `${l.symbol} ${l.label}`);
  return `legend: ${entries.join('  ')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Three lines above the cells: each month's name where it starts, then the day of the month (tens, units). */
function ruler(calendar: Calendar, indent: number): string[] {
  const days = calendar.dates.map((d) => d.slice(8, 10));
  const starts = calendar.dates.flatMap((date, i) =>
    i === 0 || date.endsWith('-01') ? [{ at: i, name: MONTHS[Number(date.slice(5, 7)) - 1] as string }] : [],
  );
  let months = '';
  for (const [k, { at, name }] of starts.entries()) {
    // a month too short here to hold its name before the next one starts goes unnamed
    if ((starts[k + 1]?.at ?? Number.POSITIVE_INFINITY) > at + name.length) months = `${months.padEnd(at)}${name}`;
  }
  const pad = ' '.repeat(indent);
  return [
    pad + months,
    pad + days.map((d) => (d[0] === '0' ? ' ' : d[0])).join(''),
    pad + days.map((d) => d[1]).join(''),
  ];
}

/** `text` with every C0 and C1 control character (escape sequences, line breaks) as a space. */
function printable(text: string): string {
  return [...text]
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? ' ' : c;
    })
    .join('');
}

function runLine(run: DayRun): string {
  const when = run.days === 1 ? run.first : `${run.first}..${run.last} (${run.days} days)`;
  // a reason can hold a vendor's words: no control character reaches the terminal
  const why = printable([run.error, run.reason].filter(Boolean).join(': '));
  return `  ${run.vendor}/${run.tenant}/${run.report} ${when} ${LEGEND[run.state].label}${why ? `: ${why}` : ''}`;
}

export function formatCalendar(calendar: Calendar, source: string): string {
  const lines = [`coverage ${calendar.from} to ${calendar.to} (${calendar.dates.length} days, UTC), ${source}`];
  if (calendar.vendors.length === 0) {
    lines.push('no expected reports, manifests or outcome records in this range');
    return lines.join('\n');
  }
  const labels = calendar.vendors.flatMap((v) =>
    v.tenants.flatMap((t) => t.rows.map((r) => `${t.tenant} ${r.report}`)),
  );
  const width = Math.max(...labels.map((l) => l.length)) + 4;
  lines.push(legendLine(), '', ...ruler(calendar, width));
  for (const vendor of calendar.vendors) {
    lines.push(`${vendor.vendor}: ${countsText(vendor.counts)}`);
    for (const tenant of vendor.tenants) {
      for (const row of tenant.rows) {
        const cells = row.cells.map((day) => (day ? LEGEND[day.state].symbol : NOT_EXPECTED.symbol)).join('');
        lines.push(`  ${`${tenant.tenant} ${row.report}`.padEnd(width - 2)}${cells}`);
      }
    }
  }
  const runs = dayRuns(calendar, ATTENTION_STATES);
  const attention = attentionCount(calendar.counts);
  if (runs.length > 0) {
    lines.push('', 'needs attention:', ...runs.slice(0, MAX_LISTED_RUNS).map(runLine));
    if (runs.length > MAX_LISTED_RUNS) lines.push(`  … and ${runs.length - MAX_LISTED_RUNS} more (see the page)`);
  }
  const total = Object.values(calendar.counts).reduce((sum, n) => sum + n, 0);
  lines.push(
    '',
    attention === 0
      ? `OK: ${countsText(calendar.counts)}`
      : `${attention} of ${total} days need attention: ${countsText(calendar.counts)}`,
  );
  return lines.join('\n');
}
