/**
 * Starts the planned executions, oldest date first.
 *
 * 1. Consecutive starts are at least `spacingSeconds` apart (the vendor's limits); an execution
 *    that already existed started nothing, so it needs no spacing.
 * 2. `ExecutionAlreadyExists`: an earlier run of the same backfill started it; its status is looked
 *    up for the summary and the backfill goes on.
 * 3. Throttling is retried by the SDK (see the client in scripts/backfill.ts); any other error
 *    stops the backfill, and the summary says what was started before it.
 */
import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { RunRequest } from '../../lambdas/core/types.ts';
import type { BackfillPlan, PlannedExecution } from './plan.ts';

export interface StartedExecution {
  readonly date: string;
  readonly name: string;
  readonly executionArn: string;
}

export interface ExistingExecution {
  readonly date: string;
  readonly name: string;
  readonly executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, …; undefined when it could not be looked up */
  readonly status?: string;
}

export interface BackfillSummary {
  readonly started: readonly StartedExecution[];
  readonly alreadyStarted: readonly ExistingExecution[];
  /** set when an error stopped the backfill */
  readonly stopped?: { readonly date: string; readonly error: string };
  /** dates not attempted because the backfill stopped */
  readonly notAttempted: readonly string[];
}

export type BackfillProgress =
  | { readonly kind: 'waiting'; readonly seconds: number; readonly next: string }
  | { readonly kind: 'started'; readonly execution: StartedExecution }
  | { readonly kind: 'already-started'; readonly execution: ExistingExecution };

export interface RunBackfillDeps {
  readonly sfn: SFNClient;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
  readonly onProgress?: (event: BackfillProgress) => void;
}

/** `arn:…:stateMachine:<sm>` → `arn:…:execution:<sm>:<name>` */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export async function runBackfill(plan: BackfillPlan, deps: RunBackfillDeps): Promise<BackfillSummary> {
  const started: StartedExecution[] = [];
  const alreadyStarted: ExistingExecution[] = [];
  let spacingDue = false;
  for (const [index, planned] of plan.toStart.entries()) {
    if (spacingDue && plan.spacingSeconds > 0) {
      deps.onProgress?.({ kind: 'waiting', seconds: plan.spacingSeconds, next: planned.date });
      await deps.sleep(plan.spacingSeconds * 1000);
    }
    spacingDue = false;
    try {
      const executionArn = await start(plan, planned, deps);
      const execution = { date: planned.date, name: planned.name, executionArn };
      started.push(execution);
      spacingDue = true;
      deps.onProgress?.({ kind: 'started', execution });
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists') {
        const execution = await describeExisting(plan, planned, deps.sfn);
        alreadyStarted.push(execution);
        deps.onProgress?.({ kind: 'already-started', execution });
        continue;
      }
      return {
        started,
        alreadyStarted,
        stopped: { date: planned.date, error: `${(error as Error).name}: ${(error as Error).message}` },
        notAttempted: plan.toStart.slice(index + 1).map((p) => p.date),
      };
    }
  }
  return { started, alreadyStarted, notAttempted: [] };
}

async function start(plan: BackfillPlan, planned: PlannedExecution, deps: RunBackfillDeps): Promise<string> {
  // the same shape the schedule sends, plus the date; "now" is stamped at the start itself
  const input: RunRequest = { scheduledTime: deps.now().toISOString(), ...planned.input };
  const result = await deps.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: plan.stateMachineArn,
      name: planned.name,
      input: JSON.stringify(input),
    }),
  );
  return result.executionArn ?? executionArnOf(plan.stateMachineArn, planned.name);
}

async function describeExisting(
  plan: BackfillPlan,
  planned: PlannedExecution,
  sfn: SFNClient,
): Promise<ExistingExecution> {
  const executionArn = executionArnOf(plan.stateMachineArn, planned.name);
  try {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return { date: planned.date, name: planned.name, executionArn, status };
  } catch {
    // the status only enriches the summary; not being allowed to read it changes nothing
    return { date: planned.date, name: planned.name, executionArn };
  }
}
