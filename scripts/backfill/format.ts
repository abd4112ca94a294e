/** What the backfill prints: the plan before anything starts, and the summary after the run. */
import type { BackfillPlan } from './plan.ts';
import type { BackfillSummary } from './run.ts';

export function formatPlan(plan: BackfillPlan, options: { force: boolean; dryRun: boolean }): string {
  const pairs = plan.tenants.length * plan.reports.length;
  const rows: [string, string, string][] = [
    ...plan.toStart.map((p): [string, string, string] => [
      p.date,
      'start',
      p.archivedPairs > 0 ? `${p.name} (${p.archivedPairs}/${pairs} already archived; the run skips them)` : p.name,
    ]),
    ...plan.skippedArchived.map((date): [string, string, string] => [
      date,
      'skip',
      'archived for every tenant and report',
    ]),
    ...plan.refused.map((r): [string, string, string] => [r.date, 'refuse', r.reason]),
  ].sort((a, b) => a[0].localeCompare(b[0]));
  const minutes = Math.ceil((Math.max(0, plan.toStart.length - 1) * plan.spacingSeconds) / 60);
  return [
    `backfill ${plan.vendor}${options.dryRun ? ' (dry run: nothing will be started)' : ''}`,
    `  stack ${plan.stackName}, state machine ${plan.stateMachineArn}`,
    `  tenants ${plan.tenants.join(', ')}; reports ${plan.reports.join(', ')}${options.force ? '; force: archive again' : ''}`,
    `  ${plan.toStart.length} to start, ${plan.spacingSeconds} s apart (about ${minutes} min)`,
    ...rows.map(([date, action, detail]) => `  ${date}  ${action.padEnd(6)}  ${detail}`),
  ].join('\n');
}

export function formatSummary(plan: BackfillPlan, summary: BackfillSummary): string {
  const lines = [
    `started ${summary.started.length}, already started ${summary.alreadyStarted.length}, skipped (archived) ${plan.skippedArchived.length}, refused ${plan.refused.length}`,
  ];
  for (const e of summary.alreadyStarted) {
    const failed = e.status !== undefined && !['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE'].includes(e.status);
    lines.push(
      `  ${e.date}  already started as ${e.name} (${e.status ?? 'status unknown'})${
        failed ? `: aws stepfunctions redrive-execution --execution-arn ${e.executionArn}` : ''
      }`,
    );
  }
  for (const r of plan.refused) lines.push(`  ${r.date}  refused: ${r.reason}`);
  if (summary.stopped) {
    lines.push(`stopped at ${summary.stopped.date}: ${summary.stopped.error}`);
    if (summary.notAttempted.length > 0) lines.push(`  not attempted: ${summary.notAttempted.join(', ')}`);
  }
  return lines.join('\n');
}
