/**
 * What `npm run status` says of one vendor, decided from its runs, its outcome records and its
 * expectations alone (pure: the readers are local.ts and deployed.ts): the last runs with their
 * archived / failed / skipped counts, the failed and skipped items of the latest run, the deferred
 * backlog and the dates at risk of the latest plan, freshness per tenant (lambdas/ops/freshness.ts,
 * the function behind the freshness alarms), and what of it needs attention.
 */
import {
  type FreshnessSettings,
  freshnessWindow,
  type VendorFreshness,
  vendorFreshness,
} from '../../lambdas/ops/freshness.ts';
import type { ExpectationRow } from '../../lambdas/pipeline/expectations.ts';
import type { OutcomeRecord } from '../../lambdas/pipeline/outcome-record.ts';

/** One execution, local (runs.jsonl) or deployed (Step Functions); newest first in a list. */
export interface RunInfo {
  readonly vendor: string;
  /** the execution's name: its run id's last part */
  readonly execution: string;
  readonly startedAt: string;
  /** null while it runs */
  readonly stoppedAt: string | null;
  /** SUCCEEDED, FAILED, RUNNING, TIMED_OUT, ABORTED… as Step Functions says */
  readonly status: string;
  readonly error: string | null;
  readonly cause: string | null;
  /** from the run's plan; null when it is not known (no plan, or not read) */
  readonly planned: number | null;
  readonly deferred: number | null;
  readonly atRisk: readonly string[];
}

export interface RunStatus extends RunInfo {
  /** the outcome records this run wrote, within the days read */
  readonly archived: number;
  readonly failed: number;
  readonly skipped: number;
  /**
   * items the run planned with no outcome record among those read: a report date older than the
   * days read (`--days`), or an item not recorded (yet); null when `planned` is unknown
   */
  readonly unrecorded: number | null;
}

export interface ItemIssue {
  readonly tenant: string;
  readonly report: string;
  readonly date: string;
  readonly outcome: 'failed' | 'skipped';
  readonly error: string | null;
  readonly reason: string | null;
}

export interface VendorStatus {
  readonly vendor: string;
  readonly runs: RunStatus[];
  /** the failed and skipped items of the latest run */
  readonly latestIssues: ItemIssue[];
  /** items the latest plan left for the next run; null when unknown */
  readonly deferred: number | null;
  /** `tenant/report/date` the latest plan found about to age out, still unarchived */
  readonly datesAtRisk: readonly string[];
  readonly settings: FreshnessSettings;
  readonly freshness: VendorFreshness;
  /** what needs attention, one short phrase each; empty when healthy */
  readonly attention: string[];
}

export interface StatusReport {
  readonly source: string;
  readonly generatedAt: string;
  /** the outcome records read: report dates from..to */
  readonly days: { readonly from: string; readonly to: string };
  readonly healthy: boolean;
  readonly vendors: VendorStatus[];
}

export interface VendorInput {
  readonly vendor: string;
  readonly runs: readonly RunInfo[];
  readonly records: readonly OutcomeRecord[];
  readonly expectations: readonly ExpectationRow[];
  readonly now: Date;
  readonly settings: FreshnessSettings;
}

/** The execution name a run id (an execution ARN) ends with. */
export function executionNameOf(runId: string): string {
  return runId.slice(runId.lastIndexOf(':') + 1);
}

export function vendorStatus(input: VendorInput): VendorStatus {
  const byRun = new Map<string, OutcomeRecord[]>();
  for (const record of input.records) {
    const name = executionNameOf(record.run_id);
    byRun.set(name, [...(byRun.get(name) ?? []), record]);
  }
  const count = (records: readonly OutcomeRecord[], outcome: string) =>
    records.filter((r) => r.outcome === outcome).length;
  const runs = input.runs.map((run) => {
    const records = byRun.get(run.execution) ?? [];
    const archived = count(records, 'archived');
    const failed = count(records, 'failed');
    const skipped = count(records, 'skipped');
    const unrecorded = run.planned === null ? null : Math.max(0, run.planned - archived - failed - skipped);
    return { ...run, archived, failed, skipped, unrecorded };
  });
  const latest = input.runs[0];
  const latestIssues = (latest ? (byRun.get(latest.execution) ?? []) : [])
    .filter(
      (r): r is OutcomeRecord & { outcome: 'failed' | 'skipped' } => r.outcome === 'failed' || r.outcome === 'skipped',
    )
    .map((r) => ({
      tenant: r.tenant,
      report: r.report,
      date: r.report_date,
      outcome: r.outcome,
      error: r.error,
      reason: r.reason,
    }))
    .sort(
      (a, b) => a.outcome.localeCompare(b.outcome) || a.tenant.localeCompare(b.tenant) || a.date.localeCompare(b.date),
    );
  // only the records the freshness check reads: a report date older than its window, archived
  // recently (a backfill), makes a tenant fresh for neither
  const { from } = freshnessWindow(input.now, input.settings);
  const windowRecords = input.records.filter((record) => record.report_date >= from);
  const freshness = vendorFreshness(input.vendor, input.expectations, windowRecords, input.now, input.settings);
  const status = {
    vendor: input.vendor,
    runs,
    latestIssues,
    deferred: latest?.deferred ?? null,
    datesAtRisk: latest?.atRisk ?? [],
    settings: input.settings,
    freshness,
  };
  return { ...status, attention: attentionOf(status, latest) };
}

function attentionOf(status: Omit<VendorStatus, 'attention'>, latest: RunInfo | undefined): string[] {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const attention: string[] = [];
  if (!latest) attention.push('no run found');
  else if (latest.status !== 'SUCCEEDED' && latest.status !== 'RUNNING') {
    attention.push(`latest run ${latest.status}${latest.error ? ` (${latest.error})` : ''}`);
  }
  const failed = status.latestIssues.filter((i) => i.outcome === 'failed').length;
  if (failed > 0) attention.push(plural(failed, 'failed item'));
  if (status.freshness.staleTenants > 0) attention.push(plural(status.freshness.staleTenants, 'stale tenant'));
  if (status.datesAtRisk.length > 0) attention.push(`${plural(status.datesAtRisk.length, 'date')} at risk`);
  return attention;
}
