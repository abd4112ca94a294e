/** Command-line flags of `npm run bench`. */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { FORMATS, type Format, parseSize, type Sink } from './common.ts';

export interface BenchOptions {
  readonly targetBytes: number;
  readonly seed: number;
  readonly formats: readonly Format[];
  readonly runs: number;
  readonly sinks: readonly Sink[];
  /** a: fetch (and its raw limit); b: the archive step (and DuckDB) */
  readonly stages: readonly ('a' | 'b')[];
  readonly duckdbThreads: number;
  readonly partSizeBytes?: number;
  readonly profile: boolean;
  readonly profileOnly: boolean;
  readonly writeResults: boolean;
  readonly generateOnly: boolean;
  readonly renderOnly: boolean;
  readonly tsx: boolean;
}

export const USAGE = `npm run bench -- [flags]

  --size <n>            uncompressed CSV size: 1g (default), 4g, 256m, ... (binary units)
  --seed <n>            data set seed (default 1); data sets are cached by size and seed
  --formats <list>      deflate,gzip,aes (default: all three; at 4g and above: deflate,gzip)
  --runs <n>            repetitions of every measurement; medians are reported (default 3)
  --sinks <list>        where stage (b) writes: null,s3rver (default both)
  --stages <list>       a,b (default both); one stage alone writes no results
  --duckdb-threads <n>  DuckDB threads (default: all cores, ${availableParallelism()} here)
  --part-size <MiB>     multipart part size for stage (b) (default: the core's, 8 MiB)
  --profile             after the runs, one more run of stages (a) and (b, null S3) per format
                        with --cpu-prof; prints and saves where the main thread's time goes
  --profile-only        only those profiled runs (no table); writes bench/results/profile-<size>.md
  --no-results          do not write bench/results/ and bench/RESULTS.md
  --generate-only       generate (or check) the data set and stop
  --render-only         rewrite bench/RESULTS.md from bench/results/*.json (targets recomputed)
  --tsx                 run the measurement children under tsx instead of an esbuild bundle
                        (adds the tsx loader's ~30 MB to every RSS figure)
  --transitions         instead: Step Functions transitions, invocations and S3 requests per vendor
                        and archived report, from a local run (--transitions --help for its flags)
  --help
`;

export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      size: { type: 'string', default: '1g' },
      seed: { type: 'string', default: '1' },
      formats: { type: 'string' },
      runs: { type: 'string', default: '3' },
      sinks: { type: 'string', default: 'null,s3rver' },
      stages: { type: 'string', default: 'a,b' },
      'duckdb-threads': { type: 'string', default: String(availableParallelism()) },
      'part-size': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'profile-only': { type: 'boolean', default: false },
      'no-results': { type: 'boolean', default: false },
      'generate-only': { type: 'boolean', default: false },
      'render-only': { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const targetBytes = parseSize(values.size);
  const formats = list(
    values.formats ?? (targetBytes >= 4 * 1024 ** 3 ? 'deflate,gzip' : FORMATS.join(',')),
    FORMATS,
    '--formats',
  );
  const sinks = list(values.sinks, ['null', 's3rver'] as const, '--sinks');
  const stages = list(values.stages, ['a', 'b'] as const, '--stages');
  return {
    targetBytes,
    seed: positiveInt(values.seed, '--seed'),
    formats,
    runs: positiveInt(values.runs, '--runs'),
    sinks,
    stages,
    duckdbThreads: positiveInt(values['duckdb-threads'], '--duckdb-threads'),
    ...(values['part-size'] ? { partSizeBytes: positiveInt(values['part-size'], '--part-size') * 1024 * 1024 } : {}),
    profile: values.profile || values['profile-only'],
    profileOnly: values['profile-only'],
    // results hold both stages: one alone would replace the other's
    writeResults: !values['no-results'] && stages.length === 2,
    generateOnly: values['generate-only'],
    renderOnly: values['render-only'],
    tsx: values.tsx,
  };
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: expected a positive integer; received ${text}`);
  return value;
}

function list<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new Error(`${flag}: expected a comma-separated list of ${allowed.join(', ')}; received ${item}`);
    }
  }
  return [...new Set(items)] as T[];
}
