/**
 * What `npm start` shows while it works: per vendor, items done of planned, archived, failed and
 * skipped, and the items waiting on a vendor's job (which, and for how long).
 *
 * 1. `trackProgress` folds the local runner's events into a state: the plan's item count, then
 *    the execution's Map iterations (started; ended with the item's result, whose `outcome` is
 *    ARCHIVED, SKIPPED or FAILED) and, inside one, the Task states StartJob (the vendor's job is
 *    started), CheckJob (one more check) and ArchiveReport (the job is done). Only those Task
 *    names and the Map's results are read, so the state machine's other states may change.
 * 2. `renderProgress` turns a state into lines: a pure function, tested as one.
 * 3. `progressDisplay` redraws those lines in place, at most four times a second, when stdout
 *    is a terminal and not CI; otherwise it draws nothing (the summary follows as before), or,
 *    with `--verbose`, prints one plain line per finished item.
 */
import type { ExecutionEvent, LocalProgressEvent } from './pipeline.ts';

/** One item of a Map iteration being worked on. */
interface ActiveItem {
  /** `tenant report date` */
  readonly label: string;
  /** when its vendor job was started (ms), until the report is being archived */
  waitingSince: number | null;
  checks: number;
}

export interface VendorProgress {
  readonly vendor: string;
  /** null until the plan is known */
  planned: number | null;
  done: number;
  archived: number;
  failed: number;
  skipped: number;
  /** null while running */
  ended: 'SUCCEEDED' | 'FAILED' | null;
  /** by Map iteration index */
  readonly active: Map<number, ActiveItem>;
}

/** Per vendor, in the order they first reported. */
export type ProgressState = Map<string, VendorProgress>;

/** An item that ended, for `--verbose` plain output. */
export interface FinishedItem {
  readonly vendor: string;
  readonly label: string;
  readonly outcome: string;
}

function vendorOf(state: ProgressState, vendor: string): VendorProgress {
  let progress = state.get(vendor);
  if (!progress) {
    progress = { vendor, planned: null, done: 0, archived: 0, failed: 0, skipped: 0, ended: null, active: new Map() };
    state.set(vendor, progress);
  }
  return progress;
}

/** Folds one event into `state`; returns the item it finished, if any. */
export function trackProgress(state: ProgressState, event: LocalProgressEvent): FinishedItem | undefined {
  const progress = vendorOf(state, event.vendor);
  if (event.kind === 'planned') progress.planned = event.items;
  else if (event.kind === 'ended') {
    progress.ended = event.status;
    progress.active.clear();
  } else return trackStep(progress, event.event);
  return undefined;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** `tenant report date` of a Map iteration's input (the item's request). */
function itemLabel(input: unknown): string {
  const request = record(record(input).request);
  return [request.tenant, request.report, request.date].filter((part) => typeof part === 'string').join(' ');
}

function trackStep(progress: VendorProgress, event: ExecutionEvent): FinishedItem | undefined {
  if (event.type === 'MapIterationStarted') {
    // the library spreads the iteration's own start event, with its input, into this one
    const input = 'input' in event ? event.input : undefined;
    progress.active.set(event.index, { label: itemLabel(input), waitingSince: null, checks: 0 });
    return undefined;
  }
  if (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') {
    const item = progress.active.get(event.index);
    progress.active.delete(event.index);
    // likewise the iteration's end event, with its output: the item's result in the Map's output
    const output = 'output' in event ? event.output : undefined;
    const outcome = event.type === 'MapIterationFailed' ? 'FAILED' : String(record(output).outcome);
    progress.done++;
    if (outcome === 'ARCHIVED') progress.archived++;
    else if (outcome === 'SKIPPED') progress.skipped++;
    else progress.failed++;
    return { vendor: progress.vendor, label: item?.label ?? `item ${event.index}`, outcome };
  }
  const item = 'index' in event && event.index !== undefined ? progress.active.get(event.index) : undefined;
  if (!item || !('state' in event)) return undefined;
  const task = event.state.name;
  if (event.type === 'StateExited' && task === 'StartJob') item.waitingSince = event.timestamp;
  if (event.type === 'StateEntered' && task === 'CheckJob') item.checks++;
  if (event.type === 'StateEntered' && task === 'ArchiveReport') item.waitingSince = null;
  return undefined;
}

const seconds = (ms: number) => `${Math.max(0, Math.floor(ms / 1000))} s`;

/** The lines showing `state` at `now` (ms): one per vendor, and one per vendor with waits. */
export function renderProgress(state: ProgressState, now: number): string[] {
  const width = Math.max(0, ...[...state.keys()].map((vendor) => vendor.length));
  const lines: string[] = [];
  for (const p of state.values()) {
    const planned = p.planned === null ? 'planning' : `${p.done}/${p.planned} done`;
    const ended = p.ended ? `  ${p.ended}` : '';
    lines.push(
      `${p.vendor.padEnd(width)}  ${planned}  ${p.archived} archived  ${p.failed} failed  ${p.skipped} skipped${ended}`,
    );
    const waits = [...p.active.values()]
      .filter((item): item is ActiveItem & { waitingSince: number } => item.waitingSince !== null)
      .sort((a, b) => a.waitingSince - b.waitingSince);
    const [longest] = waits;
    if (!longest) continue;
    const checks = longest.checks === 1 ? '1 check' : `${longest.checks} checks`;
    const more = waits.length > 1 ? `; ${waits.length - 1} more waiting` : '';
    lines.push(
      `${' '.repeat(width)}  waiting on the vendor's job: ${longest.label}, ${seconds(now - longest.waitingSince)} (${checks})${more}`,
    );
  }
  return lines;
}

/** Where the display draws: stdout, or a test's stand-in. */
export interface ProgressTerminal {
  readonly isTTY?: boolean;
  /** its width: a longer line would wrap, and the redraw would move back over too few rows */
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  readonly terminal: ProgressTerminal;
  /** one plain line (stdout when not redrawing) */
  readonly print: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly verbose: boolean;
  readonly now?: () => number;
}

export interface ProgressDisplay {
  /** true when it redraws in place: nothing else should write to the terminal meanwhile */
  readonly redraws: boolean;
  readonly onProgress: (event: LocalProgressEvent) => void;
  /** stops drawing and erases the lines drawn (the summary follows) */
  finish(): void;
}

/** A redraw at most this often; the waits' seconds are redrawn every second meanwhile. */
const REDRAW_MS = 250;
const TICK_MS = 1000;

export function progressDisplay(options: ProgressOptions): ProgressDisplay {
  const state: ProgressState = new Map();
  const redraws = options.terminal.isTTY === true && !options.env.CI && !options.verbose;
  if (!redraws) {
    return {
      redraws,
      onProgress: (event) => {
        const finished = trackProgress(state, event);
        if (finished && options.verbose) {
          options.print(`${finished.vendor}: ${finished.label}: ${finished.outcome.toLowerCase()}`);
        }
      },
      finish: () => undefined,
    };
  }
  return redrawingDisplay(options.terminal, state, options.now ?? Date.now);
}

/** `line` cut to fit in `columns` without wrapping (the last column left empty). */
function fitToWidth(line: string, columns: number | undefined): string {
  if (!columns || line.length < columns) return line;
  return `${line.slice(0, Math.max(0, columns - 2))}…`;
}

/** Redraws the lines in place: the cursor goes back up over the last drawing, which is erased. */
function redrawingDisplay(terminal: ProgressTerminal, state: ProgressState, now: () => number): ProgressDisplay {
  let drawn = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let pending: NodeJS.Timeout | undefined;
  let ticking: NodeJS.Timeout | undefined;
  const back = () => (drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '');
  const draw = () => {
    pending = undefined;
    lastDraw = now();
    const lines = renderProgress(state, lastDraw).map((line) => fitToWidth(line, terminal.columns));
    terminal.write(back() + lines.map((line) => `${line}\n`).join(''));
    drawn = lines.length;
  };
  return {
    redraws: true,
    onProgress: (event) => {
      trackProgress(state, event);
      ticking ??= setInterval(draw, TICK_MS).unref();
      pending ??= setTimeout(draw, Math.max(0, lastDraw + REDRAW_MS - now()));
    },
    finish: () => {
      clearTimeout(pending);
      clearInterval(ticking);
      terminal.write(back());
      drawn = 0;
    },
  };
}
