/** Plain text for the terminal: the tables and byte counts the local commands print. */
import type { QueryResult } from './catalog.ts';

const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A plain-text table for the terminal: one line per row, line breaks in values shown as `\n`. */
export function formatTable(result: QueryResult, maxRows = 50): string {
  const rows = result.rows.slice(0, maxRows).map((row) =>
    result.columns.map((c) => {
      const value = row[c];
      const text =
        value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
      return text.replace(/[\n\r\t]/g, (ch) => CONTROL[ch] ?? ch);
    }),
  );
  const widths = result.columns.map((c, i) =>
    Math.min(60, Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length))),
  );
  const line = (cells: string[]) => cells.map((cell, i) => cell.slice(0, 60).padEnd(widths[i] ?? 0)).join('  ');
  const out = [line(result.columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (result.rows.length > maxRows) out.push(`… ${result.rows.length - maxRows} more rows`);
  if (result.rows.length === 0) out.push('(no rows)');
  return out.join('\n');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
