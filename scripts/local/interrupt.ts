/**
 * Ctrl-C during `npm start`: the runs still going are logged as ABORTED in the runs log (so
 * `npm run status` shows them as interrupted, not as missing), the progress display is erased,
 * and the process exits 130 as a shell expects. What those runs archived stays, as after a kill:
 * the next `npm start` archives the rest.
 */
import { appendAbortedRun, type InterruptedRun } from './runs-log.ts';
import type { LocalWorkspace } from './workspace.ts';

/** Told as each vendor's execution starts, is planned and ends. */
export interface RunTracker {
  started(vendor: string, execution: string): void;
  planned(vendor: string, items: number): void;
  ended(vendor: string): void;
  /** stops listening for Ctrl-C */
  dispose(): void;
}

export interface InterruptOptions {
  readonly workspace: LocalWorkspace;
  /** erases what is drawn on the terminal */
  readonly clear: () => void;
  readonly printError: (line: string) => void;
  /** @default process.exit */
  readonly exit?: (code: number) => void;
}

export function watchInterrupt(options: InterruptOptions): RunTracker {
  const running = new Map<string, { -readonly [K in keyof InterruptedRun]: InterruptedRun[K] }>();
  const onInterrupt = () => {
    options.clear();
    for (const run of running.values()) appendAbortedRun(options.workspace, run);
    options.printError(
      `npm start: interrupted; ${running.size} unfinished run(s) logged as ABORTED (npm run status shows them); what they archived is kept, and the next npm start archives the rest`,
    );
    (options.exit ?? process.exit)(130);
  };
  process.once('SIGINT', onInterrupt);
  return {
    started: (vendor, execution) => running.set(vendor, { vendor, execution, startedAt: new Date(), planned: null }),
    planned: (vendor, items) => {
      const run = running.get(vendor);
      if (run) run.planned = items;
    },
    ended: (vendor) => running.delete(vendor),
    dispose: () => process.off('SIGINT', onInterrupt),
  };
}
