/**
 * Streaming CSV (RFC 4180) to records, on papaparse's core parser.
 *
 * 1. Bytes are validated and decoded as UTF-8 (BOM stripped), 64 KiB at a time; the line ending
 *    (CRLF, LF or CR) is taken from the first line.
 * 2. The text is cut after its last line break and parsed; the unfinished row (or a quoted field
 *    that spans the cut) is carried into the next piece. Rows are handed over piece by piece, so
 *    they die young (large batches cost more in GC than the parsing).
 * 3. The first row is the header. Every other row must have as many fields as the header; blank
 *    lines are skipped and counted.
 * 4. Each row goes to `onRecord` as an object keyed by the header, or, when `onHeader` returned a
 *    row handler for the header, to that handler as the parsed field array (no object per row).
 *
 * papaparse was picked on numbers (200 MB CSV, this machine): csv-parse 28 MB/s, csv-parser
 * 46 MB/s, papaparse 113 MB/s (its `Parser` fed 256 KiB chunks; 1 MiB chunks fall to 43 MB/s).
 */
import Papa from 'papaparse';
import { MalformedCsvError } from '../errors.ts';
import { InvalidUtf8Error, Utf8Decoder } from './utf8.ts';

/**
 * Bytes decoded and parsed at a time, whatever the chunks written. V8 allocates strings above
 * 128 KiB as large objects, and a chunk's text is alive while its rows are mapped, so with 256 KiB
 * pieces most of them were promoted and piled up until a full GC: stage (b)'s heap peaked 20-30 MB
 * higher, for no CPU gain (64 KiB pieces were 10-20% cheaper on the 1 GB bench file).
 */
const PIECE_BYTES = 64 * 1024;

/** An unfinished record longer than this is almost surely an unterminated quote. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

export interface CsvReaderOptions {
  /** name in error messages, e.g. `entry "users.csv" of export.zip` */
  readonly what: string;
  readonly onRecord: (raw: Record<string, string>) => void;
  /**
   * Called once with the header row (names checked unique). A function it returns receives every
   * data row instead of `onRecord`: its fields in header order, as many as the header has.
   */
  readonly onHeader?: (header: readonly string[]) => ((fields: readonly string[]) => void) | undefined;
  readonly maxRecordChars?: number;
}

interface PapaResult {
  data: string[][];
  errors: Array<{ code: string; row: number }>;
  meta: { cursor: number };
}

export class CsvRecordReader {
  /** data rows handed to `onRecord` */
  records = 0;
  blankLines = 0;
  header?: readonly string[];
  private readonly decoder = new Utf8Decoder();
  private parser?: Papa.Parser;
  /** from `onHeader`: takes the rows instead of `onRecord` */
  private onRow?: (fields: readonly string[]) => void;
  private newline?: '\n' | '\r\n' | '\r';
  private rest = '';
  private started = false;
  /** physical line at the start of `rest` */
  private line = 1;

  constructor(private readonly options: CsvReaderOptions) {}

  write(chunk: Buffer): void {
    for (let start = 0; start < chunk.length; start += PIECE_BYTES) {
      const piece = chunk.length <= PIECE_BYTES ? chunk : chunk.subarray(start, start + PIECE_BYTES);
      this.feed(
        this.decode(() => this.decoder.decode(piece)),
        false,
      );
    }
  }

  end(): void {
    this.decode(() => this.decoder.end());
    this.feed('', true);
    if (!this.header) throw new MalformedCsvError(`${this.options.what} has no header row`);
  }

  private decode<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof InvalidUtf8Error) {
        throw new MalformedCsvError(`${this.options.what} is not valid UTF-8 (${error.message})`);
      }
      throw error;
    }
  }

  private feed(text: string, final: boolean): void {
    let input = this.rest + text;
    if (!this.started && input.length > 0) {
      this.started = true;
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1);
    }
    if (!this.newline) {
      const newline = detectNewline(input, final);
      if (!newline) {
        this.carry(input);
        return;
      }
      this.newline = newline;
      this.parser = new Papa.Parser({ delimiter: ',', newline, quoteChar: '"' });
    }
    if (final) {
      if (input.length > 0) this.parse(input, true);
      this.rest = '';
      return;
    }
    const cut = input.lastIndexOf(this.newline === '\r' ? '\r' : '\n') + 1;
    if (cut === 0) {
      this.carry(input);
      return;
    }
    const cursor = this.parse(cut === input.length ? input : input.slice(0, cut), false);
    this.carry(input.slice(cursor));
  }

  private carry(rest: string): void {
    this.rest = rest;
    if (rest.length > (this.options.maxRecordChars ?? MAX_RECORD_CHARS)) {
      throw new MalformedCsvError(
        `${this.options.what}: the record starting at line ${this.line} is longer than ${this.options.maxRecordChars ?? MAX_RECORD_CHARS} characters (probably an unterminated quote)`,
      );
    }
  }

  /** Parses complete lines; returns how many characters were consumed. */
  private parse(text: string, final: boolean): number {
    const result = this.parser!.parse(text, 0, !final) as PapaResult;
    const rows = result.data;
    const problem = result.errors[0];
    if (problem) {
      const line = this.lineOf(rows, Math.min(problem.row, rows.length));
      const reason =
        problem.code === 'MissingQuotes'
          ? 'a quoted field is not closed before the end of the file'
          : 'a closing quote is followed by something other than a comma or a line break';
      throw new MalformedCsvError(`${this.options.what}: line ${line}: ${reason}`);
    }
    this.takeRows(rows);
    const consumed = final ? text.length : result.meta.cursor;
    this.line += countLineBreaks(text, consumed, this.newline!);
    return consumed;
  }

  private takeRows(rows: string[][]): void {
    const { onRecord } = this.options;
    let header = this.header;
    let onRow = this.onRow;
    const checkCr = this.newline === '\n';
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.length === 1 && row[0] === '') {
        this.blankLines++;
        continue;
      }
      if (!header) {
        header = this.header = checkHeader(row, this.options.what);
        onRow = this.onRow = this.options.onHeader?.(header);
        continue;
      }
      if (row.length !== header.length) {
        throw new MalformedCsvError(
          `${this.options.what}: record ${this.records + 1} (line ${this.lineOf(rows, i)}) has ${row.length} fields; the header has ${header.length}`,
        );
      }
      if (checkCr && row[row.length - 1]!.endsWith('\r')) {
        throw new MalformedCsvError(
          `${this.options.what}: line ${this.lineOf(rows, i)} ends with CRLF but the first line ends with LF (mixed line endings)`,
        );
      }
      if (onRow) {
        this.records++;
        onRow(row);
        continue;
      }
      const raw: Record<string, string> = {};
      for (let f = 0; f < header.length; f++) raw[header[f]!] = row[f]!;
      this.records++;
      onRecord(raw);
    }
  }

  /** Line number of `rows[index]`, counting the line breaks inside quoted fields before it. */
  private lineOf(rows: readonly string[][], index: number): number {
    const lineBreak = this.newline === '\r' ? '\r' : '\n';
    let line = this.line;
    for (let i = 0; i < index && i < rows.length; i++) {
      line += 1;
      for (const field of rows[i]!) line += countLineBreaks(field, field.length, lineBreak);
    }
    return line;
  }
}

function checkHeader(row: readonly string[], what: string): readonly string[] {
  const seen = new Set<string>();
  for (let i = 0; i < row.length; i++) {
    const name = row[i]!;
    if (name === '') throw new MalformedCsvError(`${what}: header column ${i + 1} has no name`);
    if (name === '__proto__') throw new MalformedCsvError(`${what}: header column ${i + 1} is named "__proto__"`);
    if (seen.has(name)) {
      throw new MalformedCsvError(`${what}: header column ${i + 1} repeats the name ${JSON.stringify(name)}`);
    }
    seen.add(name);
  }
  return row;
}

/** The first line break outside quotes; undefined when more text is needed to tell. */
function detectNewline(input: string, final: boolean): '\n' | '\r\n' | '\r' | undefined {
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (!quoted && c === 0x0a) return '\n';
    else if (!quoted && c === 0x0d) {
      if (i + 1 < input.length) return input.charCodeAt(i + 1) === 0x0a ? '\r\n' : '\r';
      return final ? '\r' : undefined;
    }
  }
  return final ? '\n' : undefined;
}

function countLineBreaks(text: string, end: number, newline: string): number {
  const ch = newline === '\r' ? '\r' : '\n';
  let count = 0;
  let i = text.indexOf(ch);
  while (i !== -1 && i < end) {
    count++;
    i = text.indexOf(ch, i + 1);
  }
  return count;
}
