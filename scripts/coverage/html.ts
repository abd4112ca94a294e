/**
 * The coverage page: one self-contained HTML file (inline style, no script, no external asset), so
 * it can be mailed or attached to an audit as it is.
 *
 * 1. A header with the range, where the data came from, and the totals per state.
 * 2. A legend: each state's colour, its symbol and what it means. Every cell shows its symbol as
 *    well as its colour, so the page reads without colour vision.
 * 3. Per vendor and tenant a calendar: a row of day cells per report, the month and day of month
 *    above the columns, the state, error and reason of a day on hover (`title`).
 * 4. Under each tenant, the days that need attention, consecutive days joined, with their reasons.
 */
import { COVERAGE_STATES, type CoverageState } from '../../lambdas/core/views/coverage.ts';
import { ATTENTION_STATES, type Calendar, type DayRun, dayRuns, type TenantCalendar } from './calendar.ts';
import { countsText, LEGEND, NOT_EXPECTED } from './legend.ts';
import type { CoverageDay } from './query.ts';

export interface PageInfo {
  /** where the days came from: the local workspace or the deployed stack */
  readonly source: string;
  readonly generatedAt: Date;
}

/** Cell colours; the text colour is chosen for contrast with each. */
const COLOURS: Record<CoverageState | 'none', { background: string; text: string }> = {
  archived: { background: '#2e7d32', text: '#ffffff' },
  skipped: { background: '#b0bec5', text: '#263238' },
  failed: { background: '#c62828', text: '#ffffff' },
  missing: { background: '#f57c00', text: '#000000' },
  at_risk: { background: '#fdd835', text: '#000000' },
  lost: { background: '#212121', text: '#ffffff' },
  retention_unknown: { background: '#5e35b1', text: '#ffffff' },
  none: { background: '#ffffff', text: '#9e9e9e' },
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const cls = (state: CoverageState | 'none') => `s-${state.replace(/_/g, '-')}`;

function style(): string {
  const cells = (Object.keys(COLOURS) as (CoverageState | 'none')[])
    .map((s) => `.${cls(s)}{background:${COLOURS[s].background};color:${COLOURS[s].text}}`)
    .join('\n');
  return `body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#212121}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e0e0e0}
h3{font-size:15px;margin:16px 0 6px}.counts{font-weight:normal;color:#616161;font-size:13px}
.meta{color:#616161;margin:0 0 12px}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;list-style:none;padding:0;margin:8px 0 16px}
.legend li{display:flex;align-items:center;gap:6px}
.scroll{overflow-x:auto}table{border-collapse:separate;border-spacing:2px}
th{font-weight:normal;font-size:11px;color:#616161;text-align:center;min-width:18px}
th[scope=row],.corner{text-align:left;padding-right:8px;font-size:13px;color:#212121;white-space:nowrap;min-width:10em}
.cell{width:18px;height:18px;text-align:center;font:11px/18px ui-monospace,monospace;border-radius:3px;padding:0}
.s-none{outline:1px solid #e0e0e0;outline-offset:-1px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.runs{margin:6px 0 0;padding-left:18px;font-size:13px}.runs code{font-size:12px}
${cells}`;
}

function legend(): string {
  const items = [
    ...COVERAGE_STATES.map((s) => [cls(s), LEGEND[s], LEGEND[s].symbol] as const),
    [cls('none'), NOT_EXPECTED, ''] as const,
  ];
  const li = items.map(
    ([c, l, symbol]) =>
      `<li><span class="cell ${c}" aria-hidden="true" style="display:inline-block">${escapeHtml(symbol)}</span><span><b>${escapeHtml(l.label)}</b>: ${escapeHtml(l.meaning)}</span></li>`,
  );
  return `<ul class="legend" aria-label="Legend">${li.join('')}</ul>`;
}

/** Two header rows: the month over its days, then the day of the month. */
function headRows(dates: readonly string[]): string {
  const months: { label: string; span: number }[] = [];
  for (const date of dates) {
    const label = `${MONTHS[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
    const last = months[months.length - 1];
    if (last && last.label === label) last.span += 1;
    else months.push({ label, span: 1 });
  }
  const monthCells = months.map((m) => `<th scope="colgroup" colspan="${m.span}">${m.label}</th>`).join('');
  const dayCells = dates
    .map((d) => `<th scope="col" title="${d}" aria-label="${d}">${Number(d.slice(8, 10))}</th>`)
    .join('');
  return `<tr><td class="corner"></td>${monthCells}</tr><tr><th scope="col" class="corner">report</th>${dayCells}</tr>`;
}

function cell(date: string, day: CoverageDay | null): string {
  // left blank: the outline says "no row" more quietly than a symbol would
  if (!day) return `<td class="cell ${cls('none')}" title="${date}: ${NOT_EXPECTED.label}"></td>`;
  const why = [day.error, day.reason].filter(Boolean).join(': ');
  const extra = [why, day.runId ? `run ${day.runId}` : '', day.expected ? '' : 'not expected by the configuration'];
  const title = [`${date}: ${LEGEND[day.state].label}`, ...extra.filter(Boolean)].join('\n');
  // a screen reader reads the state's name, not its symbol
  return `<td class="cell ${cls(day.state)}" data-date="${date}" data-state="${day.state}" title="${escapeHtml(title)}" aria-label="${LEGEND[day.state].label}">${escapeHtml(LEGEND[day.state].symbol)}</td>`;
}

function runItem(run: DayRun): string {
  const when = run.days === 1 ? run.first : `${run.first} to ${run.last} (${run.days} days)`;
  const why = [run.error ? `<code>${escapeHtml(run.error)}</code>` : '', run.reason ? escapeHtml(run.reason) : ''];
  return `<li>${escapeHtml(run.report)}, ${when}: <b>${LEGEND[run.state].label}</b>${why.some(Boolean) ? `: ${why.filter(Boolean).join(': ')}` : ''}</li>`;
}

function tenantSection(vendor: string, tenant: TenantCalendar, calendar: Calendar): string {
  const rows = tenant.rows.map(
    (row) =>
      `<tr><th scope="row">${escapeHtml(row.report)}</th>${row.cells.map((day, i) => cell(calendar.dates[i] as string, day)).join('')}</tr>`,
  );
  const only: Calendar = { ...calendar, vendors: [{ vendor, tenants: [tenant], counts: tenant.counts }] };
  const runs = dayRuns(only, ATTENTION_STATES);
  const list = runs.length > 0 ? `<ul class="runs">${runs.map(runItem).join('')}</ul>` : '';
  return `<article><h3>${escapeHtml(tenant.tenant)} <span class="counts">${escapeHtml(countsText(tenant.counts))}</span></h3>
<div class="scroll"><table><caption class="sr-only">${escapeHtml(`${vendor} ${tenant.tenant}`)}</caption><thead>${headRows(calendar.dates)}</thead><tbody>${rows.join('')}</tbody></table></div>${list}</article>`;
}

export function coveragePage(calendar: Calendar, info: PageInfo): string {
  const title = `Archive coverage ${calendar.from} to ${calendar.to}`;
  const vendors = calendar.vendors.map(
    (v) =>
      `<section><h2>${escapeHtml(v.vendor)} <span class="counts">${escapeHtml(countsText(v.counts))}</span></h2>${v.tenants.map((t) => tenantSection(v.vendor, t, calendar)).join('\n')}</section>`,
  );
  const empty = '<p>No expected reports, manifests or outcome records in this range.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${style()}</style></head>
<body><header><h1>${escapeHtml(title)}</h1>
<p class="meta">${calendar.dates.length} days (UTC) · ${escapeHtml(info.source)} · generated ${escapeHtml(info.generatedAt.toISOString())}</p>
<p><b>Total:</b> ${escapeHtml(countsText(calendar.counts))}</p>${legend()}</header>
<main>${vendors.length > 0 ? vendors.join('\n') : empty}</main></body></html>
`;
}
