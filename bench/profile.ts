/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per
 * category, so a run can say where the main thread's time went.
 *
 *   node --import tsx bench/profile.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload, type SourceMapping } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_DIR } from './common.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** share of samples in which the main thread ran JavaScript or native code (not idle) */
  readonly busyShare: number;
  readonly functions: readonly ProfileLine[];
  readonly categories: readonly ProfileLine[];
}

/** Coarse buckets, by where the code lives. */
function category(url: string, name: string): string {
  if (name === '(idle)') return 'idle (waiting on I/O or the zlib thread pool)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'V8/native (program)';
  if (url === '' && name !== '') return `native: ${name}`;
  if (url.includes('/lambdas/core/archive/')) return `core: ${url.split('/lambdas/core/archive/')[1]}`;
  if (url.includes('/lambdas/')) return `lambdas: ${url.split('/lambdas/')[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `package: ${pkg[1]}`;
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node: ${parts[0] === 'internal' && parts.length > 2 ? `internal/${parts[1]}` : parts[0]}`;
  }
  return url;
}

/**
 * The bundled worker's frames point into `bench/.data/build/*.mjs`; its linked source map takes
 * them back to the TypeScript file and line. Other URLs are returned as they are.
 */
function originalPosition(
  maps: Map<string, SourceMap | null>,
  url: string,
  line: number,
  column: number,
): { url: string; line: number } {
  if (!url.startsWith('file://') || !url.endsWith('.mjs')) return { url, line };
  let map = maps.get(url);
  if (map === undefined) {
    try {
      const path = fileURLToPath(url);
      const payload = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as SourceMapPayload;
      map = new SourceMap(payload);
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  if (!map) return { url, line };
  const entry = map.findEntry(line, column) as Partial<SourceMapping>;
  if (!entry.originalSource) return { url, line };
  const source = entry.originalSource.startsWith('file://')
    ? entry.originalSource
    : `file://${resolve(dirname(fileURLToPath(url)), entry.originalSource)}`;
  return { url: source, line: entry.originalLine ?? line };
}

export function summarise(profile: CpuProfile, top = 25): ProfileSummary {
  const maps = new Map<string, SourceMap | null>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const categories = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName } = node.callFrame;
    const { url, line: lineNumber } = originalPosition(
      maps,
      node.callFrame.url,
      node.callFrame.lineNumber,
      node.callFrame.columnNumber,
    );
    const name = functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') idle += us;
    const where = url
      ? `${url.startsWith('file://') ? relative(REPO_DIR, new URL(url).pathname) : url}:${lineNumber + 1}`
      : '';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const cat = category(url, name);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
  }
  const line = (name: string, where: string, us: number): ProfileLine => ({
    name,
    where,
    selfMs: us / 1000,
    share: total === 0 ? 0 : us / total,
  });
  return {
    totalMs: total / 1000,
    busyShare: total === 0 ? 0 : 1 - idle / total,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => line(f.name, f.where, f.us)),
    categories: [...categories.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => line(name, '', us)),
  };
}

export async function summariseFile(path: string, top = 25): Promise<ProfileSummary> {
  return summarise(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, top);
}

export function renderSummary(summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `main thread: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${pct(summary.busyShare)} busy`,
    'by category (self time):',
    ...summary.categories.map((c) => `  ${pct(c.share)}  ${c.name}`),
    'by function (self time):',
    ...summary.functions.map((f) => `  ${pct(f.share)}  ${f.name}  ${f.where}`),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/profile.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  const topIndex = rest.indexOf('--top');
  const top = topIndex >= 0 ? Number(rest[topIndex + 1]) : 25;
  console.log(renderSummary(await summariseFile(file, top)));
}
