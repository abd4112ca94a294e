/**
 * Experiment for issue #18 (not part of `npm run bench`): which Parquet writer should the archive
 * step use? It turns the same ~200 MB of OpenAthens raw statistics CSV (`bench/rows.ts`) into
 * Parquet (zstd) with each candidate, one fresh child process per run, writers taken in turn
 * (three rounds), and prints wall, CPU and peak RSS per run, then checks every output with DuckDB
 * against DuckDB's own CSV → Parquet, and measures each writer's esbuild bundle and cold start.
 *
 *   node --import tsx bench/experiments/parquet-writers.ts [size MB, default 200]
 *   node --import tsx bench/experiments/parquet-writers.ts --cold    (bundles and cold starts only)
 *
 * Writers: `parse` (the archive step's CSV parser, `CsvRecordReader`, into typed batches,
 * writing nothing: the floor the others are measured from), `duckdb-csv` (DuckDB reads the CSV itself, one thread),
 * `duckdb-appender` (JS parse, rows appended to DuckDB, one COPY at the end), `parquet-wasm`
 * (apache-arrow record batches → `transformParquetStream`) and `hyparquet-writer` (ParquetWriter,
 * zstd from `zstd-napi` since Node 20 has no zstd in node:zlib). The packages that are not the
 * project's are installed in /tmp/pq (see parquet-writers.md) and imported by absolute path, so
 * the project's dependencies and typecheck do not depend on them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { CsvRecordReader } from '../../lambdas/core/archive/csv.ts';
import { HEADER, rowGenerator } from '../rows.ts';

const SCRATCH = '/tmp/pq';
const MODULES = join(SCRATCH, 'node_modules');
const INPUT = process.env.PQ_INPUT ?? join(SCRATCH, 'input.csv');
const OUT = join(SCRATCH, 'out');
/** Rows per row group in the file (DuckDB, parquet-wasm). */
const ROW_GROUP = 65_536;
/**
 * Rows the JS parse hands over at a time. 64k rows of JS strings and map entries are 150+ MB of
 * heap (a 64k-row run of hyparquet-writer peaked at 1.1 GB RSS on 200 MB), so batches are smaller;
 * hyparquet-writer writes each batch as its own row group (it encodes a row group from whole JS
 * columns), the others buffer batches encoded until ROW_GROUP rows.
 */
const BATCH = Number(process.env.PQ_BATCH ?? 16_384);
const WRITERS = ['parse', 'duckdb-csv', 'duckdb-appender', 'parquet-wasm', 'hyparquet-writer'] as const;
type Writer = (typeof WRITERS)[number];

// ---- the table's columns, as `lambdas/connectors/openathens/records.ts` defines them ----

type Kind = 'timestamp' | 'string' | 'date' | 'map';
interface Column {
  readonly name: string;
  readonly kind: Kind;
}
const MAP_KEYS_ATTRIBUTES = ['department', 'eduPersonAffiliation'];
const COLUMNS: readonly Column[] = [
  { name: 'event_time', kind: 'timestamp' },
  { name: 'event_time_raw', kind: 'string' },
  ...HEADER.slice(1, 18).map((h) => ({
    name: h.replace(/\./g, '_'),
    kind: h === 'account.expiry' ? 'date' : 'string',
  })),
  { name: 'attributes', kind: 'map' },
  { name: 'extra', kind: 'map' },
] as Column[];

/** One row group, column by column: epoch ms, strings, days since 1970 (or null), map entries. */
type Values = number[] | string[] | (number | null)[] | [string, string][][];
interface RowGroup {
  readonly length: number;
  readonly columns: Values[];
}

const EVENT_TIME = /^(\d{2})\/(\d{2})\/(\d{4})T(\d{2}):(\d{2}):(\d{2})$/;
function eventMillis(value: string): number {
  const m = EVENT_TIME.exec(value);
  if (!m) throw new Error(`bad event time ${value}`);
  return Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
}
function expiryDays(value: string): number | null {
  if (value === '') return null;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

function emptyGroup(): Values[] {
  return COLUMNS.map(() => []);
}

/** CSV record (HEADER order) → one row appended to `columns`. */
function addRow(columns: Values[], r: string[]): void {
  (columns[0] as number[]).push(eventMillis(r[0] ?? ''));
  (columns[1] as string[]).push(r[0] ?? '');
  for (let i = 1; i < 18; i++) {
    const value = r[i] ?? '';
    if (i === 10) (columns[i + 1] as (number | null)[]).push(expiryDays(value));
    else (columns[i + 1] as string[]).push(value);
  }
  (columns[19] as [string, string][][]).push([
    [MAP_KEYS_ATTRIBUTES[0] as string, r[18] ?? ''],
    [MAP_KEYS_ATTRIBUTES[1] as string, r[19] ?? ''],
  ]);
  (columns[20] as [string, string][][]).push([['request.referrer', r[20] ?? '']]);
}

/** The shared parse, the archive step's own (`CsvRecordReader`) → typed batches of BATCH rows. */
async function* rowGroups(): AsyncGenerator<RowGroup> {
  const ready: RowGroup[] = [];
  let columns = emptyGroup();
  let length = 0;
  const reader = new CsvRecordReader({
    what: INPUT,
    onRecord: () => {
      throw new Error('rows go to the row handler');
    },
    onHeader: () => (fields) => {
      addRow(columns, fields as string[]);
      if (++length === BATCH) {
        ready.push({ length, columns });
        columns = emptyGroup();
        length = 0;
      }
    },
  });
  for await (const chunk of createReadStream(INPUT, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    reader.write(chunk);
    while (ready.length > 0) yield ready.shift() as RowGroup;
  }
  reader.end();
  yield* ready;
  if (length > 0) yield { length, columns };
}

// ---- writers ----

async function writeDuckDbCsv(out: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const db = await instance.connect();
  const text = (h: string) => `coalesce("${h}", '') AS ${h.replace(/\./g, '_')}`;
  const select = [
    `strptime("date", '%d/%m/%YT%H:%M:%S') AS event_time`,
    `"date" AS event_time_raw`,
    ...HEADER.slice(1, 18).map((h) =>
      h === 'account.expiry' ? `CAST(NULLIF("${h}", '') AS DATE) AS account_expiry` : text(h),
    ),
    `MAP {'department': coalesce("attribute.department", ''), 'eduPersonAffiliation': coalesce("attribute.eduPersonAffiliation", '')} AS attributes`,
    `MAP {'request.referrer': coalesce("request.referrer", '')} AS extra`,
  ].join(', ');
  await db.run(
    `COPY (SELECT ${select} FROM read_csv('${INPUT}', header = true, all_varchar = true, quote = '"', escape = '"'))
     TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP})`,
  );
  db.closeSync();
}

const DUCKDB_TYPES: Record<Kind, string> = {
  timestamp: 'TIMESTAMP',
  string: 'VARCHAR',
  date: 'DATE',
  map: 'MAP(VARCHAR, VARCHAR)',
};

async function writeDuckDbAppender(out: string): Promise<void> {
  const api = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const db = await instance.connect();
  await db.run(`CREATE TABLE t (${COLUMNS.map((c) => `${c.name} ${DUCKDB_TYPES[c.kind]}`).join(', ')})`);
  const appender = await db.createAppender('t');
  for await (const group of rowGroups()) {
    for (let row = 0; row < group.length; row++) {
      for (let c = 0; c < COLUMNS.length; c++) {
        const kind = (COLUMNS[c] as Column).kind;
        const values = group.columns[c] as Values;
        if (kind === 'timestamp')
          appender.appendTimestamp(api.timestampValue(BigInt((values as number[])[row] as number) * 1000n));
        else if (kind === 'string') appender.appendVarchar((values as string[])[row] as string);
        else if (kind === 'date') {
          const days = (values as (number | null)[])[row];
          if (days === null || days === undefined) appender.appendNull();
          else appender.appendDate(api.dateValue(days));
        } else {
          const entries = ((values as [string, string][][])[row] ?? []).map(([key, value]) => ({ key, value }));
          appender.appendMap(api.mapValue(entries), api.MAP(api.VARCHAR, api.VARCHAR));
        }
      }
      appender.endRow();
    }
    appender.flushSync();
  }
  appender.closeSync();
  await db.run(`COPY t TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP})`);
  db.closeSync();
}

// Minimal shapes of the scratch packages, imported by absolute path (not project dependencies).
interface ArrowModule {
  vectorFromArray(values: unknown[], type: unknown): unknown;
  Table: new (columns: Record<string, unknown>) => unknown;
  tableToIPC(table: unknown, format: 'stream'): Uint8Array;
  Utf8: new () => unknown;
  DateDay: new () => unknown;
  TimestampMicrosecond: new () => unknown;
  Field: new (name: string, type: unknown, nullable: boolean) => unknown;
  Struct: new (children: unknown[]) => unknown;
  Map_: new (entries: unknown, keysSorted?: boolean) => unknown;
}
interface ParquetWasmModule {
  Table: { fromIPCStream(bytes: Uint8Array): { recordBatches(): unknown[] } };
  WriterPropertiesBuilder: new () => {
    setCompression(c: number): ParquetWasmModule['WriterPropertiesBuilder']['prototype'];
    setMaxRowGroupSize(n: number): ParquetWasmModule['WriterPropertiesBuilder']['prototype'];
    build(): unknown;
  };
  Compression: { ZSTD: number };
  transformParquetStream(stream: ReadableStream, props: unknown): Promise<ReadableStream<Uint8Array>>;
}

async function load<T>(path: string): Promise<T> {
  return (await import(join(MODULES, path))) as T;
}

function arrowBatch(arrow: ArrowModule, group: RowGroup): Uint8Array {
  const map = () =>
    new arrow.Map_(
      new arrow.Field(
        'entries',
        new arrow.Struct([
          new arrow.Field('key', new arrow.Utf8(), false),
          new arrow.Field('value', new arrow.Utf8(), true),
        ]),
        false,
      ),
    );
  const vectors: Record<string, unknown> = {};
  COLUMNS.forEach((column, c) => {
    const values = group.columns[c] as unknown[];
    if (column.kind === 'timestamp')
      vectors[column.name] = arrow.vectorFromArray(values, new arrow.TimestampMicrosecond());
    else if (column.kind === 'string') vectors[column.name] = arrow.vectorFromArray(values, new arrow.Utf8());
    else if (column.kind === 'date')
      vectors[column.name] = arrow.vectorFromArray(
        (values as (number | null)[]).map((d) => (d === null ? null : new Date(d * 86_400_000))),
        new arrow.DateDay(),
      );
    else
      vectors[column.name] = arrow.vectorFromArray(
        values.map((e) => new Map(e as [string, string][])),
        map(),
      );
  });
  return arrow.tableToIPC(new arrow.Table(vectors), 'stream');
}

async function writeParquetWasm(out: string): Promise<void> {
  const arrow = await load<ArrowModule>('apache-arrow/Arrow.node.mjs');
  const pw = await load<ParquetWasmModule>('parquet-wasm/node/parquet_wasm.js');
  const groups = rowGroups();
  // pulled one row group at a time: memory holds one batch, not the report
  const batches = new ReadableStream({
    async pull(controller) {
      const next = await groups.next();
      if (next.done) return controller.close();
      for (const batch of pw.Table.fromIPCStream(arrowBatch(arrow, next.value)).recordBatches())
        controller.enqueue(batch);
    },
  });
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(ROW_GROUP)
    .build();
  const bytes = await pw.transformParquetStream(batches, props);
  const file = createWriteStream(out);
  for await (const chunk of bytes as unknown as AsyncIterable<Uint8Array>) {
    if (!file.write(chunk)) await new Promise<void>((resolve) => file.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => file.end(() => resolve()));
}

interface HyparquetModule {
  ParquetWriter: new (options: {
    writer: unknown;
    schema: unknown[];
    codec: string;
    compressors: Record<string, (b: Uint8Array) => Uint8Array>;
  }) => { write(o: { columnData: unknown[]; rowGroupSize: number }): void; finish(): void };
  fileWriter(path: string): unknown;
}

function hyparquetSchema(): unknown[] {
  const schema: unknown[] = [{ name: 'root', num_children: COLUMNS.length }];
  const utf8 = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  for (const { name, kind } of COLUMNS) {
    if (kind === 'timestamp') {
      const logical_type = { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' };
      schema.push({ name, type: 'INT64', logical_type, repetition_type: 'OPTIONAL' });
    } else if (kind === 'string') schema.push({ name, ...utf8, repetition_type: 'OPTIONAL' });
    else if (kind === 'date')
      schema.push({
        name,
        type: 'INT32',
        converted_type: 'DATE',
        logical_type: { type: 'DATE' },
        repetition_type: 'OPTIONAL',
      });
    else {
      schema.push(
        { name, repetition_type: 'OPTIONAL', converted_type: 'MAP', logical_type: { type: 'MAP' }, num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', ...utf8, repetition_type: 'REQUIRED' },
        { name: 'value', ...utf8, repetition_type: 'OPTIONAL' },
      );
    }
  }
  return schema;
}

async function writeHyparquet(out: string): Promise<void> {
  const hw = await load<HyparquetModule>('hyparquet-writer/src/node.js');
  const zstd = await load<{ compress(b: Uint8Array): Uint8Array; default?: { compress(b: Uint8Array): Uint8Array } }>(
    'zstd-napi/dist/index.js',
  );
  const writer = new hw.ParquetWriter({
    writer: hw.fileWriter(out),
    schema: hyparquetSchema(),
    codec: 'ZSTD',
    compressors: { ZSTD: (b) => zstd.compress(b) },
  });
  for await (const group of rowGroups()) {
    const columnData = COLUMNS.map((column, c) => {
      const values = group.columns[c] as unknown[];
      // timestamps as integer microseconds: hyparquet-writer stores INT64 integers as given
      const data = column.kind === 'timestamp' ? (values as number[]).map((ms) => ms * 1000) : values;
      return { name: column.name, data };
    });
    writer.write({ columnData, rowGroupSize: BATCH });
  }
  writer.finish();
}

/** Diagnostic (`--child arrow-ipc`, not in the rounds): parquet-wasm's JS half, Arrow batches to IPC bytes. */
async function arrowOnly(): Promise<void> {
  const arrow = await load<ArrowModule>('apache-arrow/Arrow.node.mjs');
  let bytes = 0;
  for await (const group of rowGroups()) bytes += arrowBatch(arrow, group).length;
  if (bytes === 0) throw new Error('no bytes');
}

async function parseOnly(): Promise<void> {
  let rows = 0;
  for await (const group of rowGroups()) rows += group.length;
  if (rows === 0) throw new Error('no rows');
}

const RUN: Record<Writer | 'arrow-ipc', (out: string) => Promise<void>> = {
  parse: parseOnly,
  'arrow-ipc': arrowOnly,
  'duckdb-csv': writeDuckDbCsv,
  'duckdb-appender': writeDuckDbAppender,
  'parquet-wasm': writeParquetWasm,
  'hyparquet-writer': writeHyparquet,
};

/** In the child: one writer, one run; prints one JSON line. */
async function child(writer: Writer | 'arrow-ipc'): Promise<void> {
  const out = join(OUT, `${writer}.parquet`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await RUN[writer](out);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const outBytes = writer === 'parse' || writer === 'arrow-ipc' ? 0 : statSync(out).size;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ writer, wall, cpu: (cpu.user + cpu.system) / 1e6, maxRssMB, outBytes }));
}

// ---- the parent: input, runs, read-back checks, bundles ----

function ensureInput(megabytes: number): number {
  if (existsSync(INPUT) && Math.abs(statSync(INPUT).size / 1e6 - megabytes) < 5) return statSync(INPUT).size;
  const generator = rowGenerator(18);
  const chunks: string[] = [`${HEADER.join(',')}\n`];
  let size = chunks[0]?.length ?? 0;
  for (let i = 0; size < megabytes * 1e6; i++) {
    const line = generator.next(Math.floor((i / 1000) % 86_400));
    chunks.push(line);
    size += Buffer.byteLength(line);
  }
  writeFileSync(INPUT, chunks.join(''));
  return statSync(INPUT).size;
}

interface Run {
  readonly writer: Writer;
  readonly wall: number;
  readonly cpu: number;
  readonly maxRssMB: number;
  readonly outBytes: number;
}

function runChild(writer: Writer): Run {
  const args = ['--import', 'tsx', 'bench/experiments/parquet-writers.ts', '--child', writer];
  const output = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '') as Run;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function readBack(): Promise<Record<string, string>> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const ref = join(OUT, 'duckdb-csv.parquet');
  const result: Record<string, string> = {};
  for (const writer of WRITERS.filter((w) => w !== 'parse')) {
    const file = join(OUT, `${writer}.parquet`);
    const q = async (sql: string) => (await db.runAndReadAll(sql)).getRowsJS();
    try {
      const types = (await q(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => `${r[0]} ${r[1]}`);
      const [[rows]] = (await q(`SELECT count(*) FROM read_parquet('${file}')`)) as [[bigint]];
      const diff = async (a: string, b: string) =>
        (
          await q(
            `SELECT count(*) FROM (SELECT * FROM read_parquet('${a}') EXCEPT ALL SELECT * FROM read_parquet('${b}'))`,
          )
        )[0]?.[0];
      const [[keys]] = (await q(`SELECT list_sort(map_keys(attributes)) FROM read_parquet('${file}') LIMIT 1`)) as [
        [string[]],
      ];
      result[writer] =
        `rows ${rows}; rows not in reference ${await diff(file, ref)}; reference rows missing ${await diff(ref, file)}; ` +
        `attribute keys ${JSON.stringify(keys)}; types ${types.join(', ')}`;
    } catch (error) {
      result[writer] = `read-back failed: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  db.closeSync();
  return result;
}

const ENTRIES: Record<Exclude<Writer, 'parse'>, string> = {
  'duckdb-csv': `import { DuckDBInstance } from '@duckdb/node-api';
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run("COPY (SELECT TIMESTAMP '2026-11-21 10:00:00' AS t, 'x' AS s, MAP {'Key': 'v'} AS m) TO '/tmp/pq/cold/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)");`,
  'duckdb-appender': '',
  'parquet-wasm': `import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { Table, WriterPropertiesBuilder, Compression, writeParquet } from 'parquet-wasm';
import { writeFileSync } from 'node:fs';
const t = Table.fromIPCStream(tableToIPC(tableFromArrays({ s: ['x'] }), 'stream'));
writeFileSync('/tmp/pq/cold/wasm.parquet', writeParquet(t, new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build()));`,
  'hyparquet-writer': `import { parquetWriteFile } from 'hyparquet-writer';
import * as zlib from 'node:zlib';
// Node 22.15+ has zstd in node:zlib; on Node 20 this falls back to the built-in snappy
const zstd = zlib.zstdCompressSync;
parquetWriteFile({ filename: '/tmp/pq/cold/hyparquet.parquet', codec: zstd ? 'ZSTD' : 'SNAPPY', compressors: zstd ? { ZSTD: zstd } : {}, columnData: [{ name: 's', data: ['x'], type: 'STRING' }] });`,
};

const BANNER =
  "import{createRequire}from'node:module';import{fileURLToPath}from'node:url';import{dirname}from'node:path';const require=createRequire(import.meta.url);const __dirname=dirname(fileURLToPath(import.meta.url));";

/** esbuild bundle of a one-row writer, its size, and a fresh process's wall time to run it. */
function bundleAndColdStart(writer: Exclude<Writer, 'parse'>): string {
  const dir = join(SCRATCH, 'cold', writer);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.mjs'), ENTRIES[writer]);
  const bundle = join(dir, 'index.mjs');
  const esbuild = join(process.cwd(), 'node_modules/.bin/esbuild');
  execFileSync(esbuild, [
    join(dir, 'entry.mjs'),
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--minify',
    '--log-level=error',
    '--external:@duckdb/node-bindings*',
    `--banner:js=${BANNER}`,
    `--outfile=${bundle}`,
  ]);
  if (writer === 'parquet-wasm') execFileSync('cp', [join(MODULES, 'parquet-wasm/node/parquet_wasm_bg.wasm'), dir]);
  const times = [0, 1, 2].map(() => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bundle], { encoding: 'utf8', env: { ...process.env, NODE_PATH: MODULES } });
    if (r.status !== 0) throw new Error(`${writer} cold run failed: ${r.stderr}`);
    return performance.now() - t0;
  });
  return `bundle ${(statSync(bundle).size / 1024).toFixed(0)} KiB; cold run ${median(times).toFixed(0)} ms`;
}

async function parent(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(join(MODULES, '@duckdb')))
    symlinkSync(join(process.cwd(), 'node_modules/@duckdb'), join(MODULES, '@duckdb'));
  const inputBytes = ensureInput(Number(process.argv[2] ?? 200));
  console.log(
    `input ${(inputBytes / 1e6).toFixed(1)} MB; load average before ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const runs: Run[] = [];
  for (let round = 0; round < 3; round++) {
    for (const writer of WRITERS) {
      const run = runChild(writer);
      runs.push(run);
      console.log(JSON.stringify({ round, ...run, load1: loadavg()[0] }));
    }
  }
  const gb = inputBytes / 1e9;
  const parseCpu = median(runs.filter((r) => r.writer === 'parse').map((r) => r.cpu));
  for (const writer of WRITERS) {
    const mine = runs.filter((r) => r.writer === writer);
    const wall = median(mine.map((r) => r.wall));
    const cpu = median(mine.map((r) => r.cpu));
    const own = writer === 'duckdb-csv' || writer === 'parse' ? cpu : cpu - parseCpu;
    console.log(
      `| ${writer} | ${(inputBytes / 1e6 / wall).toFixed(0)} | ${(cpu / gb).toFixed(1)} | ${(own / gb).toFixed(1)} | ` +
        `${median(mine.map((r) => r.maxRssMB)).toFixed(0)} | ${(median(mine.map((r) => r.outBytes)) / 1e6).toFixed(1)} |`,
    );
  }
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const [writer, text] of Object.entries(await readBack())) console.log(`read-back ${writer}: ${text}`);
  coldStarts();
}

function coldStarts(): void {
  mkdirSync(join(SCRATCH, 'cold'), { recursive: true });
  writeFileSync(join(SCRATCH, 'cold/empty.mjs'), '');
  const empty = [0, 1, 2].map(() => {
    const t0 = performance.now();
    spawnSync(process.execPath, [join(SCRATCH, 'cold/empty.mjs')]);
    return performance.now() - t0;
  });
  console.log(`cold node (empty script): ${median(empty).toFixed(0)} ms`);
  for (const writer of ['duckdb-csv', 'parquet-wasm', 'hyparquet-writer'] as const) {
    console.log(`cold ${writer}: ${bundleAndColdStart(writer)}`);
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Writer);
else if (process.argv[2] === '--cold') coldStarts();
else await parent();
