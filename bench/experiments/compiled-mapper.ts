/**
 * Experiment behind a suggestion for the core (not part of `npm run bench`): how much of stage
 * (b)'s main-thread CPU does the mapper compiled once per CSV header (`compileCsv`, now in
 * `lambdas/connectors/openathens/records.ts`) save, against the generic path (a record object
 * keyed by header per row → `toRecord` → `JSON.stringify`)?
 *
 * Both paths parse the same prefix of the generated CSV with the core's `CsvRecordReader` and hash
 * the JSON Lines they produce; the hashes must be equal (the compiled mapper writes byte-identical
 * lines), and the CPU seconds are compared. No gzip, no upload: the parse + map + serialise part only.
 *
 *   node --import tsx bench/experiments/compiled-mapper.ts [generic|compiled] [bytes, default 256000000]
 *
 * Needs the 1g data set (`npm run bench -- --generate-only`).
 */
import { createHash } from 'node:crypto';
import { openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { rawStatisticsReport } from '../../lambdas/connectors/openathens/records.ts';
import { CsvRecordReader } from '../../lambdas/core/archive/csv.ts';
import { CSV_FILE, parseSize } from '../common.ts';
import { dataSetDir } from '../generate.ts';

const CHUNK = 256 * 1024;

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
  const { compileCsv } = rawStatisticsReport;
  if (!compileCsv) throw new Error('raw_statistics has no compileCsv');
  const before = process.cpuUsage();
  const reader = new CsvRecordReader({
    what: 'experiment',
    onRecord: (raw) => emit(JSON.stringify(rawStatisticsReport.toRecord(raw))),
    onHeader:
      mode === 'compiled'
        ? (header) => {
            const toLine = compileCsv(header);
            return (fields) => emit(toLine(fields));
          }
        : undefined,
  });
  for (let i = 0; i < data.length; i += CHUNK) reader.write(data.subarray(i, i + CHUNK));
  reader.end();
  flush();
  const cpu = process.cpuUsage(before);
  const seconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${mode}: ${rows} rows, ${seconds.toFixed(2)} CPU s, ${(data.length / 1e6 / seconds).toFixed(1)} MB of CSV per CPU second, JSON Lines sha256 ${hash.digest('hex').slice(0, 16)}`,
  );
}

main();
