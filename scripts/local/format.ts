/** Plain text for the terminal: the tables and byte counts the local commands print. */
import type { QueryResult } from './catalog.ts';

const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Widest a cell is shown, in terminal columns, unless the caller asks for whole values. */
const CELL_WIDTH = 60;

export interface TableOptions {
  /** rows shown before "… N more rows" (default 50) */
  readonly maxRows?: number;
  /** whole values instead of cells cut at 60 characters */
  readonly wide?: boolean;
}

/** A value as text: SQL NULL is empty, nested values are JSON. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Characters a terminal shows two columns wide (CJK, Hangul, full-width forms, emoji). */
const WIDE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff01-\uff60\uffe0-\uffe6\p{Emoji_Presentation}]/u;

/** Terminal columns one character takes: 0 for a combining mark, 2 for a wide character. */
function charColumns(char: string): number {
  if (/\p{M}/u.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Terminal columns a text takes, so that a name like 山田 does not shift the columns after it. */
function columnsOf(text: string): number {
  let columns = 0;
  for (const char of text) columns += charColumns(char);
  return columns;
}

/** The start of `text` that fits in `max` columns, never splitting a character. */
function cut(text: string, max: number): string {
  let columns = 0;
  let end = 0;
  for (const char of text) {
    columns += charColumns(char);
    if (columns > max) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** A plain-text table for the terminal: one line per row, line breaks in values shown as `\n`. */
export function formatTable(result: QueryResult, options: TableOptions = {}): string {
  const maxRows = options.maxRows ?? 50;
  const limit = options.wide ? Number.POSITIVE_INFINITY : CELL_WIDTH;
  const rows = result.rows
    .slice(0, maxRows)
    .map((row) => result.columns.map((c) => cellText(row[c]).replace(/[\n\r\t]/g, (ch) => CONTROL[ch] ?? ch)));
  const widths = result.columns.map((c, i) =>
    Math.min(limit, Math.max(columnsOf(c), ...rows.map((r) => columnsOf(r[i] ?? '')))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const shown = cut(cell, limit);
        return shown + ' '.repeat(Math.max(0, (widths[i] ?? 0) - columnsOf(shown)));
      })
      .join('  ');
  const out = [line(result.columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (result.rows.length > maxRows) out.push(`… ${result.rows.length - maxRows} more rows`);
  if (result.rows.length === 0) out.push('(no rows)');
  return out.join('\n');
}

/**
 * Every row as RFC 4180 CSV with a header line: fields with a comma, quote or line break are
 * quoted, quotes doubled; SQL NULL is an empty field.
 */
export function formatCsv(result: QueryResult): string {
  const field = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = [
    result.columns.map(field),
    ...result.rows.map((row) => result.columns.map((c) => field(cellText(row[c])))),
  ];
  return lines.map((cells) => cells.join(',')).join('\r\n');
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

/**
 * `text` with every C0 and C1 control character (escape sequences, line breaks) as a space: a
 * reason can hold a vendor's words, and none of them may move the terminal's cursor.
 */
export function printable(text: string): string {
  return [...text]
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? ' ' : c;
    })
    .join('');
}
