/**
 * The progress of `npm start` (scripts/local/progress.ts): the local runner's events folded into
 * a state and rendered as lines (a pure function); redrawn in place only on a terminal outside
 * CI; and `npm start` with its stdout piped, as the real process, prints no escape code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExecutionEvent, LocalProgressEvent } from '../../scripts/local/pipeline.ts';
import { type ProgressState, progressDisplay, renderProgress, trackProgress } from '../../scripts/local/progress.ts';
import { runNpmScript } from '../support/cli.ts';

const item = (tenant: string) => ({ request: { vendor: 'rsa', tenant, report: 'users', date: '2026-12-08' } });
const map = { type: 'Map' as const, name: 'ForEachReport', input: {} };
const step = (event: ExecutionEvent): LocalProgressEvent => ({ kind: 'step', vendor: 'rsa', event });
const task = (type: 'StateEntered' | 'StateExited', name: string, index: number, timestamp: number) =>
  step({ type, timestamp, index, state: { name, type: 'Task', input: {} } });
const started = (index: number, tenant: string) =>
  step({ type: 'MapIterationStarted', timestamp: 0, index, parentState: map, ...{ input: item(tenant) } });
const ended = (index: number, outcome: string) =>
  step({ type: 'MapIterationSucceeded', timestamp: 0, index, parentState: map, ...{ output: { outcome } } });

/** rsa: three items planned; acme archived, globex's job started at 1 s and checked twice, initech skipped. */
function rsaRun(): LocalProgressEvent[] {
  return [
    { kind: 'planned', vendor: 'rsa', items: 4 },
    started(0, 'acme'),
    started(1, 'globex'),
    started(2, 'initech'),
    task('StateExited', 'StartJob', 0, 500),
    task('StateEntered', 'ArchiveReport', 0, 600),
    ended(0, 'ARCHIVED'),
    task('StateExited', 'StartJob', 1, 1_000),
    task('StateEntered', 'CheckJob', 1, 2_000),
    task('StateEntered', 'CheckJob', 1, 3_000),
    task('StateExited', 'StartJob', 2, 4_000),
    ended(2, 'SKIPPED'),
    {
      kind: 'step',
      vendor: 'rsa',
      event: { type: 'MapIterationFailed', timestamp: 0, index: 3, parentState: map, Error: 'x', Cause: 'y' },
    },
  ];
}

describe('renderProgress', () => {
  it('shows per vendor items done of planned, archived, failed, skipped, and the longest wait on a vendor job', () => {
    // Prepare
    const state: ProgressState = new Map();
    trackProgress(state, {
      kind: 'step',
      vendor: 'pingone',
      event: { type: 'ExecutionStarted', timestamp: 0, input: {} },
    });
    for (const event of rsaRun()) trackProgress(state, event);
    // Act
    const lines = renderProgress(state, 13_500);
    // Assess
    expect(lines).toEqual([
      'pingone  planning  0 archived  0 failed  0 skipped',
      'rsa      3/4 done  1 archived  1 failed  1 skipped',
      "         waiting on the vendor's job: globex users 2026-12-08, 12 s (2 checks)",
    ]);
  });

  it('says how a vendor ended, with no wait left', () => {
    // Prepare
    const state: ProgressState = new Map();
    for (const event of rsaRun()) trackProgress(state, event);
    // Act
    trackProgress(state, { kind: 'ended', vendor: 'rsa', status: 'FAILED' });
    // Assess
    expect(renderProgress(state, 20_000)).toEqual(['rsa  3/4 done  1 archived  1 failed  1 skipped  FAILED']);
  });
});

describe('progressDisplay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const display = (isTTY: boolean, env: Record<string, string>, verbose = false) => {
    const written: string[] = [];
    const printed: string[] = [];
    const shown = progressDisplay({
      terminal: { isTTY, write: (text) => written.push(text) },
      print: (line) => printed.push(line),
      env,
      verbose,
      now: () => Date.now(),
    });
    return { shown, written, printed };
  };

  it('redraws the lines in place on a terminal, and erases them when done', () => {
    // Prepare: the clock at 10 s, as the events' times are
    vi.useFakeTimers({ now: 10_000 });
    const { shown, written } = display(true, {});
    // Act: every event, a quarter of a second, one more event, a quarter of a second
    for (const event of rsaRun()) shown.onProgress(event);
    vi.advanceTimersByTime(250);
    shown.onProgress({ kind: 'ended', vendor: 'rsa', status: 'FAILED' });
    vi.advanceTimersByTime(250);
    shown.finish();
    // Assess: two lines drawn, then moved back over (ESC [2F) and erased (ESC [J) each time
    const back = '\u001b[2F\u001b[J';
    expect(shown.redraws).toBe(true);
    expect(written).toEqual([
      "rsa  3/4 done  1 archived  1 failed  1 skipped\n     waiting on the vendor's job: globex users 2026-12-08, 9 s (2 checks)\n",
      `${back}rsa  3/4 done  1 archived  1 failed  1 skipped  FAILED\n`,
      '\u001b[1F\u001b[J',
    ]);
  });

  it('cuts a line wider than the terminal, so the redraw moves back over every row it drew', () => {
    // Prepare: a terminal 40 columns wide
    vi.useFakeTimers({ now: 10_000 });
    const written: string[] = [];
    const shown = progressDisplay({
      terminal: { isTTY: true, columns: 40, write: (text) => written.push(text) },
      print: () => undefined,
      env: {},
      verbose: false,
      now: () => Date.now(),
    });
    // Act
    for (const event of rsaRun()) shown.onProgress(event);
    vi.advanceTimersByTime(250);
    shown.finish();
    // Assess: no row wraps (at most 39 columns), so ESC [2F goes back over both
    const rows = written[0]?.split('\n').filter((row) => row !== '') ?? [];
    expect(rows).toEqual(['rsa  3/4 done  1 archived  1 failed  1…', "     waiting on the vendor's job: glob…"]);
    expect(written[1]).toBe('\u001b[2F\u001b[J');
  });

  it.each([
    ['not a terminal', false, {}],
    ['a terminal in CI', true, { CI: 'true' }],
  ])('draws nothing when stdout is %s', (_what, isTTY, env) => {
    // Prepare
    vi.useFakeTimers();
    const { shown, written, printed } = display(isTTY, env);
    // Act
    for (const event of rsaRun()) shown.onProgress(event);
    vi.advanceTimersByTime(2_000);
    shown.finish();
    // Assess
    expect(shown.redraws).toBe(false);
    expect(written).toEqual([]);
    expect(printed).toEqual([]);
  });

  it('prints one plain line per finished item with --verbose', () => {
    // Prepare
    const { shown, written, printed } = display(true, {}, true);
    // Act
    for (const event of rsaRun()) shown.onProgress(event);
    // Assess
    expect(written).toEqual([]);
    expect(printed).toEqual([
      'rsa: acme users 2026-12-08: archived',
      'rsa: initech users 2026-12-08: skipped',
      'rsa: item 3: failed',
    ]);
  });
});

describe('npm start with stdout piped', { timeout: 120_000 }, () => {
  it('prints plain lines: no escape code', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'progress-'));
    try {
      // Act
      const result = await runNpmScript('start', ['--vendor', 'pingone', '--workspace', join(dir, 'ws')], { CI: '' });
      // Assess
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/pingone\s+SUCCEEDED\s+2\b/);
      expect(result.stdout).not.toContain('\x1b');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
