/**
 * Runs one task in a fresh child process, so that its peak RSS is its own.
 *
 * By default the worker is bundled with esbuild first (as the Lambda's code is), with packages
 * left in node_modules and a source map for the profile summary; `--tsx` runs the TypeScript
 * directly, which adds the tsx loader to the child's memory.
 */
import { fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { FUNCTION_V8_FLAGS } from '../lib/node-options.ts';
import { BENCH_DIR, DATA_DIR, type Measurement, REPO_DIR, type Task } from './common.ts';

export const BUILD_DIR = join(DATA_DIR, 'build');
const CHILD_TIMEOUT_MS = 60 * 60 * 1000;

export interface ChildRunner {
  run(task: Task, options?: { profileDir?: string }): Promise<Measurement>;
}

export async function createChildRunner(tsx: boolean): Promise<ChildRunner> {
  let entry: string;
  // the functions' V8 flags, so the children measure what deploys
  const baseArgs = ['--openssl-legacy-provider', '--expose-gc', ...FUNCTION_V8_FLAGS];
  if (tsx) {
    entry = join(BENCH_DIR, 'worker.ts');
    baseArgs.push('--import', 'tsx');
  } else {
    await mkdir(BUILD_DIR, { recursive: true });
    await build({
      entryPoints: [join(BENCH_DIR, 'worker.ts')],
      outdir: BUILD_DIR,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      outExtension: { '.js': '.mjs' },
      logLevel: 'warning',
    });
    entry = join(BUILD_DIR, 'worker.mjs');
  }
  return {
    run(task, options = {}) {
      const execArgv = [...baseArgs];
      if (options.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`);
      return new Promise<Measurement>((resolve, reject) => {
        const child = fork(entry, [JSON.stringify(task)], {
          cwd: REPO_DIR,
          execArgv,
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        let result: Measurement | undefined;
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${task.kind} child did not finish within ${CHILD_TIMEOUT_MS / 60000} minutes`));
        }, CHILD_TIMEOUT_MS);
        child.on('message', (message) => {
          result = message as Measurement;
        });
        child.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          if (code === 0 && result) resolve(result);
          else reject(new Error(`${task.kind} child failed (exit code ${code}${signal ? `, signal ${signal}` : ''})`));
        });
      });
    },
  };
}
