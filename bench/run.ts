/**
 * `npm run bench`: the archiver core against its references, on generated reports.
 *
 * 1. Generates (or reuses) a seeded OpenAthens CSV of `--size` and its deflate zip, AES-256 zip
 *    and gzip (`generate.ts`).
 * 2. Starts, in this process, a loopback file server, a null S3 endpoint and s3rver.
 * 3. For each run and format, one child process per measurement: the raw limit (inflate in
 *    memory), stage (a) (fetch, decrypt, extract, hash), stage (b) (the whole archive step) into
 *    the null S3 and into s3rver; then DuckDB converting the same CSV. Each result is verified.
 * 4. Prints the table with ratios and PASS/FAIL, writes `bench/results/<size>.json` and the
 *    generated part of `bench/RESULTS.md`; `--profile` adds CPU profiles of stages (a) and (b).
 *
 * Exits 1 on a wrong result; missed targets are reported, and also exit 1.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type LocalS3, startLocalS3 } from '../scripts/local/s3.ts';
import { parseBenchArgs, USAGE } from './args.ts';
import { createChildRunner } from './child.ts';
import {
  AES_PASSWORD,
  CSV_FILE,
  DATA_DIR,
  type DataSet,
  FORMAT_FILES,
  type Format,
  type Measurement,
  mbPerSecond,
  type Task,
} from './common.ts';
import { ensureDataSet } from './generate.ts';
import { machineInfo } from './machine.ts';
import { renderSummary, summariseFile } from './profile.ts';
import {
  type BenchResults,
  buildRows,
  failures,
  RESULTS_DIR,
  type RowKind,
  readResults,
  renderConsole,
  sampleKey,
  sizeLabel,
  writeResults,
} from './report.ts';
import { type NullS3, type RunningServer, startFileServer, startNullS3 } from './servers.ts';
import { transitionsMain } from './transitions.ts';
import { verifyArchiveNull, verifyArchiveS3rver, verifyDuckDb, verifyFetch, verifyRaw } from './verify.ts';

const NULL_BUCKET = 'bench-null';

async function main(): Promise<number> {
  // The SDK warns on Node 20 that it will need Node 22 (Lambda runs 22); once per child is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.argv.includes('--transitions')) return transitionsMain(process.argv.slice(2));
  const options = parseBenchArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (options.renderOnly) {
    await writeResults();
    console.log('rewrote bench/RESULTS.md from bench/results/');
    return 0;
  }
  const began = Date.now();
  const log = (line: string) =>
    console.log(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const dataSet = await ensureDataSet({ ...options, log });
  log(`data set: ${dataSet.rows} rows, ${dataSet.csv.bytes} bytes of CSV in ${dataSet.dir}`);
  if (options.generateOnly) return 0;

  const machine = await machineInfo();
  const runner = await createChildRunner(options.tsx);
  const tmpDir = join(DATA_DIR, 'tmp');
  const s3rverDir = join(DATA_DIR, 's3rver');
  const duckdbOut = join(DATA_DIR, 'duckdb-out.jsonl.gz');
  await rm(tmpDir, { recursive: true, force: true });
  await rm(s3rverDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });

  const files = await startFileServer(dataSet.dir);
  const nullS3 = await startNullS3();
  const s3rver =
    options.stages.includes('b') && options.sinks.includes('s3rver') ? await startLocalS3(s3rverDir) : undefined;
  const loads: number[] = [];
  const samples = new Map<string, Measurement[]>();
  const deepChecked = new Set<string>();

  const measure = async (format: Format | 'csv', kind: RowKind, task: Task, run: number): Promise<Measurement> => {
    loads.push(loadavg()[0]!);
    const m = await runner.run(task);
    loads.push(loadavg()[0]!);
    const label = `${format} ${kind} (run ${run})`;
    await verify(m, format, kind, label);
    const key = sampleKey(format, kind);
    samples.set(key, [...(samples.get(key) ?? []), m]);
    log(
      `${label}: ${mbPerSecond(m).toFixed(0)} MB/s, ${m.seconds.toFixed(1)} s, peak RSS ${m.maxRssMb.toFixed(0)} MB (${m.rssBeforeMb.toFixed(0)} before the work; heap ${m.peakHeapMb.toFixed(0)}, buffers ${m.peakExternalMb.toFixed(0)}), CPU ${(m.cpuUserSeconds + m.cpuSystemSeconds).toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)}`,
    );
    return m;
  };

  const verify = async (m: Measurement, format: Format | 'csv', kind: RowKind, label: string) => {
    if (format === 'csv') {
      await verifyDuckDb(m, dataSet, duckdbOut, !deepChecked.has('duckdb'));
      deepChecked.add('duckdb');
      return;
    }
    if (kind === 'raw') verifyRaw(m, dataSet, label);
    else if (kind === 'fetch') verifyFetch(m, dataSet, label);
    else if (kind === 'archive-null') verifyArchiveNull(m, dataSet, format, nullS3, NULL_BUCKET, label);
    else if (kind === 'archive-s3rver') {
      const deep = !deepChecked.has(format);
      await verifyArchiveS3rver(m, dataSet, format, s3rverDir, s3rver!.bucket, deep, label);
      deepChecked.add(format);
    }
  };

  const tasks = (format: Format) => taskSet(format, dataSet, files, nullS3, s3rver, tmpDir, options.partSizeBytes);
  let exitCode = 0;
  try {
    if (options.profileOnly) {
      await profile(
        options.formats,
        tasks,
        runner,
        sizeLabel(options.targetBytes),
        options.writeResults,
        verify,
        nullS3,
        log,
      );
      return 0;
    }
    for (let run = 1; run <= options.runs; run++) {
      for (const format of options.formats) {
        const t = tasks(format);
        if (options.stages.includes('a')) {
          await measure(format, 'raw', t.raw, run);
          await measure(format, 'fetch', t.fetch, run);
        }
        if (!options.stages.includes('b')) continue;
        if (options.sinks.includes('null')) {
          nullS3.reset();
          await measure(format, 'archive-null', t.archiveNull, run);
        }
        if (s3rver) await measure(format, 'archive-s3rver', t.archiveS3rver!, run);
      }
      if (!options.stages.includes('b')) continue;
      await measure(
        'csv',
        'duckdb',
        { kind: 'duckdb', csv: join(dataSet.dir, CSV_FILE), out: duckdbOut, threads: options.duckdbThreads },
        run,
      );
    }

    const size = sizeLabel(options.targetBytes);
    const baseline = options.targetBytes >= 2 * 1024 ** 3 ? await readResults('1g') : undefined;
    const rows = buildRows(samples, options.formats, baseline, options.targetBytes);
    console.log(`\n${renderConsole(rows)}\n`);
    const missed = failures(rows);
    if (missed.length > 0) {
      console.log(`targets missed:\n${missed.map((line) => `  - ${line}`).join('\n')}`);
      exitCode = 1;
    } else console.log('all targets met');
    if (options.targetBytes >= 2 * 1024 ** 3 && !baseline) {
      console.log('no bench/results/1g.json to compare peak RSS with: run `npm run bench` (1g) first');
    }

    const results: BenchResults = {
      size,
      targetBytes: options.targetBytes,
      seed: options.seed,
      machine,
      loadAverage: {
        min: Math.min(...loads),
        max: Math.max(...loads),
        mean: loads.reduce((a, b) => a + b, 0) / loads.length,
      },
      durationSeconds: (Date.now() - began) / 1000,
      dataSet: {
        rows: dataSet.rows,
        csvBytes: dataSet.csv.bytes,
        files: Object.fromEntries(Object.entries(dataSet.files).map(([f, info]) => [f, info!.bytes])),
      },
      duckdbThreads: options.duckdbThreads,
      ...(options.partSizeBytes ? { partSizeBytes: options.partSizeBytes } : {}),
      runner: options.tsx ? 'tsx' : 'bundle',
      rows,
    };
    if (options.writeResults) {
      await writeResults(results);
      log(`wrote bench/results/${size}.json and bench/RESULTS.md`);
    }

    if (options.profile) await profile(options.formats, tasks, runner, size, options.writeResults, verify, nullS3, log);
  } finally {
    await files.close();
    await nullS3.close();
    await s3rver?.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
  return exitCode;
}

function taskSet(
  format: Format,
  dataSet: DataSet,
  files: RunningServer,
  nullS3: NullS3,
  s3rver: LocalS3 | undefined,
  tmpDir: string,
  partSizeBytes: number | undefined,
) {
  const fileName = FORMAT_FILES[format];
  const url = `${files.url}/files/${fileName}`;
  const password = format === 'aes' ? AES_PASSWORD : undefined;
  const common = { format, url, fileName, tmpDir, ...(password ? { password } : {}) };
  const parts = partSizeBytes ? { partSizeBytes } : {};
  return {
    raw: { kind: 'raw', format, file: join(dataSet.dir, fileName), ...(password ? { password } : {}) } as Task,
    fetch: { kind: 'fetch', ...common } as Task,
    archiveNull: {
      kind: 'archive',
      ...common,
      sink: 'null',
      endpoint: nullS3.url,
      bucket: NULL_BUCKET,
      ...parts,
    } as Task,
    archiveS3rver: s3rver
      ? ({
          kind: 'archive',
          ...common,
          sink: 's3rver',
          endpoint: s3rver.endpoint,
          bucket: s3rver.bucket,
          ...parts,
        } as Task)
      : undefined,
  };
}

/** One profiled run of stage (a) and stage (b) (null S3) per format. */
async function profile(
  formats: readonly Format[],
  tasks: (format: Format) => ReturnType<typeof taskSet>,
  runner: Awaited<ReturnType<typeof createChildRunner>>,
  size: string,
  save: boolean,
  verify: (m: Measurement, format: Format, kind: RowKind, label: string) => Promise<void>,
  nullS3: NullS3,
  log: (line: string) => void,
): Promise<void> {
  const sections: string[] = [];
  for (const format of formats) {
    for (const [name, task] of [
      ['fetch', tasks(format).fetch],
      ['archive-null', tasks(format).archiveNull],
    ] as const) {
      nullS3.reset();
      const dir = join(DATA_DIR, 'prof', `${size}-${format}-${name}`);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const m = await runner.run(task, { profileDir: dir });
      await verify(m, format, name, `${format} ${name} (profiled)`);
      const profiles = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'));
      // the main thread's profile is the one with the most samples; pick the largest file's summary
      const summaries = await Promise.all(profiles.map((file) => summariseFile(join(dir, file), 20)));
      const main = summaries.sort((a, b) => b.totalMs * b.busyShare - a.totalMs * a.busyShare)[0];
      const title = `${format} ${name}: ${mbPerSecond(m).toFixed(0)} MB/s while profiled, CPU ${(m.cpuUserSeconds + m.cpuSystemSeconds).toFixed(1)} s (user+system, all threads) over ${m.seconds.toFixed(1)} s`;
      const text = main ? renderSummary(main) : '(no profile written)';
      log(`profile: ${title}\n${text}`);
      sections.push(
        `## ${title}\n\nProfile files: \`bench/.data/prof/${size}-${format}-${name}/\`\n\n\`\`\`\n${text}\n\`\`\``,
      );
    }
  }
  if (save) {
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(
      join(RESULTS_DIR, `profile-${size}.md`),
      `# CPU profiles, ${size} (generated by \`npm run bench -- --profile\`)\n\nSelf time of the child's main thread, from \`node --cpu-prof\`; zlib's thread-pool work is not in it (it shows as idle).\n\n${sections.join('\n\n')}\n`,
    );
    log(`wrote bench/results/profile-${size}.md`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
