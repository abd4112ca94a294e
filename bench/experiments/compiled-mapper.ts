/**
 * Experiment behind a suggestion for the core (not part of `npm run bench`): how much of stage
 * (b)'s main-thread CPU would a mapper compiled once per CSV header save, against today's path
 * (a record object keyed by header per row → `toRecord` → `JSON.stringify`)?
 *
 * Both paths parse the same prefix of the generated CSV with papaparse and hash the JSON Lines they
 * produce; the hashes must be equal (the compiled mapper writes byte-identical lines), and the
 * CPU seconds are compared. No gzip, no upload: the parse + map + serialise part only.
 *
 *   node --import tsx bench/experiments/compiled-mapper.ts [generic|compiled] [bytes, default 256000000]
 *
 * Needs the 1g data set (`npm run bench -- --generate-only`).
 */
import { createHash } from 'node:crypto';
import { openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import Papa from 'papaparse';
import {
  parseEventTime,
  parseIsoDate,
  RAW_STATISTICS_COLUMNS,
  rawStatisticsReport,
} from '../../lambdas/connectors/openathens/records.ts';
import { CsvRecordReader } from '../../lambdas/core/archive/csv.ts';
import { CSV_FILE, parseSize } from '../common.ts';
import { dataSetDir } from '../generate.ts';

const CHUNK = 256 * 1024;
const SPECIAL = new Set(['event_time', 'event_time_raw', 'attributes', 'extra']);

type Step =
  | { readonly kind: 'date' }
  | { readonly kind: 'column'; readonly slot: number; readonly date: boolean }
  | { readonly kind: 'attribute' | 'extra'; readonly key: string };

/**
 * The `raw_statistics` mapping, decided once per header: each field index knows where its value
 * goes; a row becomes its JSON line directly, in the column order `toRecord` produces.
 */
function compile(header: readonly string[]): (row: readonly string[]) => string {
  const plain = RAW_STATISTICS_COLUMNS.filter((column) => !SPECIAL.has(column.name));
  const slotOf = new Map(plain.map((column, i) => [column.name, i]));
  const steps: Step[] = header.map((raw) => {
    const cleaned = raw.replace(/^\uFEFF/, '').trim();
    const lower = cleaned.toLowerCase();
    if (lower === 'date') return { kind: 'date' };
    const slot = slotOf.get(lower.replace(/\./g, '_'));
    if (slot !== undefined) return { kind: 'column', slot, date: plain[slot]!.type === 'date' };
    if (lower.startsWith('attribute.')) return { kind: 'attribute', key: JSON.stringify(cleaned.slice(10)) };
    return { kind: 'extra', key: JSON.stringify(cleaned) };
  });
  const keys = plain.map((column) => `,${JSON.stringify(column.name)}:`);
  const values: string[] = new Array(plain.length);
  return (row) => {
    values.fill('null');
    let eventTimeRaw = '';
    let attributes = '';
    let extra = '';
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const value = row[i]!;
      if (step.kind === 'date') eventTimeRaw = value;
      else if (step.kind === 'column') {
        if (!step.date) values[step.slot] = JSON.stringify(value);
        else if (value !== '') {
          const parsed = parseIsoDate(value);
          if (parsed === undefined) throw new Error(`bad date ${value}`);
          values[step.slot] = `"${parsed}"`;
        }
      } else if (step.kind === 'attribute')
        attributes += `${attributes ? ',' : ''}${step.key}:${JSON.stringify(value)}`;
      else extra += `${extra ? ',' : ''}${step.key}:${JSON.stringify(value)}`;
    }
    const eventTime = parseEventTime(eventTimeRaw);
    if (eventTime === undefined) throw new Error(`bad event time ${eventTimeRaw}`);
    let line = `{"event_time":"${eventTime}","event_time_raw":${JSON.stringify(eventTimeRaw)}`;
    for (let i = 0; i < keys.length; i++) line += keys[i]! + values[i]!;
    return `${line},"attributes":{${attributes}},"extra":{${extra}}}`;
  };
}

function main(): void {
  const mode = process.argv[2] ?? 'compiled';
  if (mode !== 'generic' && mode !== 'compiled') throw new Error(`expected generic or compiled; received ${mode}`);
  const limit = Number(process.argv[3] ?? 256e6);
  const buf = Buffer.alloc(limit);
  const fd = openSync(join(dataSetDir(parseSize('1g'), 1), CSV_FILE), 'r');
  const read = readSync(fd, buf, 0, limit, 0);
  // whole lines only; a quoted line break at the cut would show as different hashes
  const data = buf.subarray(0, buf.subarray(0, read).lastIndexOf(10) + 1);
  const hash = createHash('sha256');
  let lines: string[] = [];
  let rows = 0;
  const emit = (line: string) => {
    rows++;
    lines.push(line);
    if (lines.length >= 2000) flush();
  };
  const flush = () => {
    hash.update(`${lines.join('\n')}\n`);
    lines = [];
  };
  const before = process.cpuUsage();
  if (mode === 'generic') {
    const reader = new CsvRecordReader({
      what: 'experiment',
      onRecord: (raw) => emit(JSON.stringify(rawStatisticsReport.toRecord(raw))),
    });
    for (let i = 0; i < data.length; i += CHUNK) reader.write(data.subarray(i, i + CHUNK));
    reader.end();
  } else {
    const parser = new Papa.Parser({ delimiter: ',', newline: '\n', quoteChar: '"' });
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let map: ((row: readonly string[]) => string) | undefined;
    for (let i = 0; i < data.length; i += CHUNK) {
      const text = rest + decoder.write(data.subarray(i, i + CHUNK));
      const cut = text.lastIndexOf('\n') + 1;
      const result = parser.parse(text.slice(0, cut), 0, true) as { data: string[][]; meta: { cursor: number } };
      rest = text.slice(result.meta.cursor);
      for (const row of result.data) {
        if (row.length === 1 && row[0] === '') continue;
        if (map) emit(map(row));
        else map = compile(row);
      }
    }
  }
  flush();
  const cpu = process.cpuUsage(before);
  const seconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${mode}: ${rows} rows, ${seconds.toFixed(2)} CPU s, ${(data.length / 1e6 / seconds).toFixed(1)} MB of CSV per CPU second, JSON Lines sha256 ${hash.digest('hex').slice(0, 16)}`,
  );
}

main();
