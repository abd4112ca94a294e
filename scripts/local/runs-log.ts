/**
 * The local runs log (`runs.jsonl` in the workspace): one line per local execution, appended when
 * it ends, with what `npm run status` reads of a deployed one from Step Functions (its name, start
 * and stop, status, error and cause) and of its plan (items planned, items deferred to the next
 * run, dates at risk). Locally there is no ListExecutions to ask, so this file is the history.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../../lambdas/core/zod-issues.ts';
import type { VendorRunResult } from './pipeline.ts';
import type { LocalWorkspace } from './workspace.ts';

export const RunLineSchema = z.object({
  vendor: z.string().min(1),
  /** the execution's name: the last part of its ARN, the run id of its outcome records */
  execution: z.string().min(1),
  startedAt: z.iso.datetime(),
  stoppedAt: z.iso.datetime(),
  /** ABORTED: `npm start` was interrupted (Ctrl-C) before the execution ended */
  status: z.enum(['SUCCEEDED', 'FAILED', 'ABORTED']),
  error: z.string().nullable(),
  cause: z.string().nullable(),
  /** items the plan gave this run; null when it could not be planned */
  planned: z.number().int().nonnegative().nullable(),
  /** items that did not fit this run: the next one plans them again */
  deferred: z.number().int().nonnegative().nullable(),
  /** `tenant/report/date` the plan found about to age out of the vendor's history unarchived */
  atRisk: z.array(z.string()).default([]),
});
export type RunLine = z.infer<typeof RunLineSchema>;

export function runsFile(workspace: LocalWorkspace): string {
  return join(workspace.root, 'runs.jsonl');
}

/** The execution name is the last part of its ARN (`…:execution:<machine>:<name>`). */
export function executionName(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/** The line of one ended execution. */
export function runLine(result: VendorRunResult, stoppedAt: Date): RunLine {
  return {
    vendor: result.vendor,
    execution: executionName(result.executionId),
    startedAt: new Date(stoppedAt.getTime() - result.durationMs).toISOString(),
    stoppedAt: stoppedAt.toISOString(),
    status: result.status,
    error: result.failure?.error ?? null,
    cause: result.failure?.cause ?? null,
    planned: result.plan ? result.plan.items.length : null,
    deferred: result.plan ? result.plan.deferred : null,
    atRisk: result.plan ? result.plan.atRisk : [],
  };
}

export function appendRun(workspace: LocalWorkspace, result: VendorRunResult, stoppedAt = new Date()): void {
  mkdirSync(workspace.root, { recursive: true });
  appendFileSync(runsFile(workspace), `${JSON.stringify(runLine(result, stoppedAt))}\n`);
}

/** An execution still running when `npm start` was interrupted, and what it had planned. */
export interface InterruptedRun {
  readonly vendor: string;
  readonly execution: string;
  readonly startedAt: Date;
  readonly planned: number | null;
}

export function appendAbortedRun(workspace: LocalWorkspace, run: InterruptedRun, stoppedAt = new Date()): void {
  const line: RunLine = {
    vendor: run.vendor,
    execution: run.execution,
    startedAt: run.startedAt.toISOString(),
    stoppedAt: stoppedAt.toISOString(),
    status: 'ABORTED',
    error: 'Interrupted',
    cause: 'npm start was interrupted before the execution ended',
    planned: run.planned,
    deferred: null,
    atRisk: [],
  };
  mkdirSync(workspace.root, { recursive: true });
  appendFileSync(runsFile(workspace), `${JSON.stringify(line)}\n`);
}

/**
 * Every line of the log, oldest first; none when no run has ended in this workspace. A last line
 * without its newline is a run killed while appending it (one write per line, so only the end can
 * be torn): left out, as the run it began is not over. Any other bad line is an error naming it.
 */
export function readRuns(workspace: LocalWorkspace): RunLine[] {
  const file = runsFile(workspace);
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const texts = text.split('\n');
  const torn = texts.pop() ?? '';
  if (torn.trim() !== '')
    process.emitWarning(`${file}: its last line is unfinished (a run killed while logging it); left out`);
  const lines: RunLine[] = [];
  texts.forEach((line, index) => {
    if (line.trim() === '') return;
    lines.push(parseRun(line, `${file} line ${index + 1}`));
  });
  return lines;
}

function parseRun(text: string, where: string): RunLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not a run: not JSON`);
  }
  const parsed = RunLineSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${where} is not a run: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
