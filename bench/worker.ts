/**
 * A measurement child: runs one task (argv[2], JSON) and sends a `Measurement` to the parent.
 *
 * 1. The task's module is imported on demand, so a child loads only what it measures (the DuckDB
 *    binding, for one, would add to every child's RSS).
 * 2. `prepare` does the untimed work (reading a file into memory, creating clients); the function
 *    it returns is the measured work. A full GC runs in between.
 * 3. Peak RSS is the kernel's high-water mark for the whole child (`resourceUsage().maxRSS`);
 *    heap and Buffer memory are sampled every 100 ms to tell them apart.
 */
import { performance } from 'node:perf_hooks';
import type { Measurement, Task } from './common.ts';

export interface Outcome {
  readonly bytes: number;
  readonly sha256?: string;
  readonly rows?: number;
  readonly outputBytes?: number;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type Prepared = () => Promise<Outcome>;

async function prepare(task: Task): Promise<Prepared> {
  switch (task.kind) {
    case 'raw':
      return (await import('./tasks/raw.ts')).prepareRaw(task);
    case 'fetch':
      return (await import('./tasks/fetch.ts')).prepareFetch(task);
    case 'archive':
      return (await import('./tasks/archive.ts')).prepareArchive(task);
    case 'duckdb':
      return (await import('./tasks/duckdb.ts')).prepareDuckDb(task);
  }
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as Task;
  const work = await prepare(task);
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakExternal = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    // `external` already includes `arrayBuffers` (every Buffer)
    peakExternal = Math.max(peakExternal, usage.external);
  };
  const sampler = setInterval(sample, 100);
  sampler.unref();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await work();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  sample();
  const measurement: Measurement = {
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb: rssBefore / 1024 / 1024,
    peakHeapMb: peakHeap / 1024 / 1024,
    peakExternalMb: peakExternal / 1024 / 1024,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    ...outcome,
  };
  await new Promise<void>((resolve, reject) =>
    process.send ? process.send(measurement, (error: Error | null) => (error ? reject(error) : resolve())) : resolve(),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
