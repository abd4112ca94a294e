/**
 * Which dates a backfill starts, skips and refuses. Reads only: nothing is started here.
 *
 * 1. Refuse a vendor whose connector cannot fetch past dates (its reports are snapshots).
 * 2. Check the arguments: real dates, from ≤ to, known tenants.
 * 3. Refuse dates that are not over yet (today or later, UTC) or older than the vendor's history.
 * 4. Find the bucket and state machine from the stack outputs.
 * 5. Skip dates whose manifest exists for every selected tenant and report, unless `force`.
 * 6. Name each execution after a hash of its input, so re-running the backfill starts nothing twice.
 */
import { createHash } from 'node:crypto';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { addDays, datesBetween, isCalendarDate, utcDate } from '../../lambdas/core/dates.ts';
import type { ConnectorDefinition } from '../../lambdas/core/types.ts';
import { formatIssues } from '../../lambdas/core/zod-issues.ts';
import { archivedDates } from '../../lambdas/pipeline/plan.ts';
import { BackfillError } from './errors.ts';
import { findDeployment } from './stack.ts';

/** A typo such as 2002 for 2025 should not start thousands of executions. */
export const MAX_BACKFILL_DAYS = 366;

export interface BackfillRequest {
  readonly from: string;
  readonly to: string;
  /** default: every configured tenant */
  readonly tenants?: readonly string[];
  readonly force?: boolean;
}

/** The execution input without `scheduledTime`, which is stamped when the execution starts. */
export interface BackfillInput {
  readonly date: string;
  readonly tenants?: string[];
  readonly force?: true;
}

export interface PlannedExecution {
  readonly date: string;
  readonly name: string;
  readonly input: BackfillInput;
  /** tenant × report pairs already archived for this date (the run's plan step skips them) */
  readonly archivedPairs: number;
}

export interface RefusedDate {
  readonly date: string;
  readonly reason: string;
}

export interface BackfillPlan {
  readonly vendor: string;
  readonly stackName: string;
  readonly bucket: string;
  readonly stateMachineArn: string;
  readonly spacingSeconds: number;
  readonly tenants: readonly string[];
  readonly reports: readonly string[];
  /** date order, oldest first */
  readonly toStart: readonly PlannedExecution[];
  /** dates archived for every selected tenant and report */
  readonly skippedArchived: readonly string[];
  readonly refused: readonly RefusedDate[];
}

export interface PlanBackfillDeps {
  readonly connector: ConnectorDefinition;
  /** the vendor's config section (enabled) */
  readonly section: unknown;
  readonly stackName: string;
  readonly cfn: CloudFormationClient;
  readonly s3: S3Client;
  readonly now: () => Date;
}

const SectionSchema = z.looseObject({
  tenants: z.array(z.looseObject({ id: z.string() })).min(1),
  reports: z.array(z.string()).min(1),
});

function checkDate(flag: string, value: string): string {
  if (!isCalendarDate(value)) {
    throw new BackfillError(`${flag} must be a date as YYYY-MM-DD; received ${JSON.stringify(value)}`);
  }
  return value;
}

/** SFN execution names: 1–80 characters; A–Z, a–z, 0–9, `-` and `_` are safe everywhere (logs, X-Ray). */
export function executionName(input: BackfillInput): string {
  const canonical = JSON.stringify({
    date: input.date,
    tenants: input.tenants ? [...input.tenants].sort() : null,
    force: input.force ?? false,
  });
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12);
  return `backfill-${input.date}-${hash}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

export async function planBackfill(request: BackfillRequest, deps: PlanBackfillDeps): Promise<BackfillPlan> {
  const { connector } = deps;
  const vendor = connector.vendor;
  if (!connector.backfill) {
    throw new BackfillError(
      `${connector.displayName} (${vendor}) does not support backfill: its reports are snapshots of the current state, so a past date cannot be fetched`,
    );
  }
  const { tenants, reports, dates } = backfillScope(request, deps);
  const { refused, candidates } = servedDates(dates, connector, utcDate(deps.now()));
  const { bucket, stateMachineArn } = await findDeployment(deps.cfn, deps.stackName, vendor);
  // listing is skipped when nothing can be skipped
  const first = candidates[0];
  const archivedByDate =
    first !== undefined && !request.force
      ? await archivedPairsByDate(deps, bucket, { tenants, reports, from: first })
      : new Map<string, number>();

  const pairs = tenants.length * reports.length;
  const skippedArchived: string[] = [];
  const toStart: PlannedExecution[] = [];
  for (const date of candidates) {
    const archivedPairs = archivedByDate.get(date) ?? 0;
    if (archivedPairs >= pairs) {
      skippedArchived.push(date);
      continue;
    }
    const input: BackfillInput = {
      date,
      ...(request.tenants && request.tenants.length > 0 ? { tenants } : {}),
      ...(request.force ? { force: true as const } : {}),
    };
    toStart.push({ date, name: executionName(input), input, archivedPairs });
  }
  const { spacingSeconds } = connector.backfill;
  return {
    vendor,
    stackName: deps.stackName,
    bucket,
    stateMachineArn,
    spacingSeconds,
    tenants,
    reports,
    toStart,
    skippedArchived,
    refused,
  };
}

/** The tenants, reports and dates a request covers, checked against the vendor's section. */
function backfillScope(
  request: BackfillRequest,
  deps: PlanBackfillDeps,
): { tenants: string[]; reports: string[]; dates: string[] } {
  const vendor = deps.connector.vendor;
  const section = SectionSchema.safeParse(deps.section);
  if (!section.success) {
    throw new BackfillError(`vendors.${vendor} must have tenants and reports; ${formatIssues(section.error)}`);
  }
  const from = checkDate('--from', request.from);
  const to = checkDate('--to', request.to);
  if (from > to) throw new BackfillError(`--from must not be after --to; received --from ${from} --to ${to}`);

  const configured = section.data.tenants.map((t) => t.id);
  const unknown = (request.tenants ?? []).filter((t) => !configured.includes(t));
  if (unknown.length > 0) {
    throw new BackfillError(
      `unknown tenant ${unknown.map((t) => `"${t}"`).join(', ')} for ${vendor}; expected one of: ${configured.join(', ')}`,
    );
  }
  const tenants = request.tenants && request.tenants.length > 0 ? [...new Set(request.tenants)] : configured;
  const dates = datesBetween(from, to);
  if (dates.length > MAX_BACKFILL_DAYS) {
    throw new BackfillError(`--from ${from} --to ${to} covers more than ${MAX_BACKFILL_DAYS} days; split it`);
  }
  return { tenants, reports: section.data.reports, dates };
}

/** Splits dates into those the vendor can serve and those refused (not over yet, aged out). */
function servedDates(
  dates: readonly string[],
  connector: PlanBackfillDeps['connector'],
  today: string,
): { refused: RefusedDate[]; candidates: string[] } {
  const { historyDays } = connector.cadence;
  const oldest = historyDays === null ? undefined : addDays(today, -historyDays);
  const refused: RefusedDate[] = [];
  const candidates: string[] = [];
  for (const date of dates) {
    if (date >= today) {
      refused.push({
        date,
        reason: `not over yet (today is ${today}, UTC); the latest complete day is ${addDays(today, -1)}`,
      });
    } else if (oldest !== undefined && date < oldest) {
      refused.push({
        date,
        reason: `older than ${historyDays} days (oldest served: ${oldest}); ${connector.displayName} no longer serves it`,
      });
    } else {
      candidates.push(date);
    }
  }
  return { refused, candidates };
}

/** How many of the tenant × report pairs are archived, per date from `from` on. */
async function archivedPairsByDate(
  deps: PlanBackfillDeps,
  bucket: string,
  scope: { tenants: readonly string[]; reports: readonly string[]; from: string },
): Promise<Map<string, number>> {
  const byDate = new Map<string, number>();
  for (const report of scope.reports) {
    const archived = await archivedDates(deps.s3, bucket, deps.connector.vendor, report, scope.from);
    for (const tenant of scope.tenants) {
      for (const date of archived.get(tenant) ?? []) byDate.set(date, (byDate.get(date) ?? 0) + 1);
    }
  }
  return byDate;
}
