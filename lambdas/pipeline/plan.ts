/**
 * The plan step: which tenant × report × date items a run covers.
 *
 * 1. Read the run request (the schedule's time, or a date given by hand for a backfill). A
 *    schedule's delivery first claims its scheduled time (claim.ts): a duplicate delivery plans
 *    nothing. The claim is here, in the run's first step, so no other step starts before it and
 *    no extra function is needed; a retried PlanRun finds its own claim and goes on.
 * 2. For each selected tenant and report, list the dates already archived (from the manifests,
 *    which are written last and so mark complete reports).
 * 3. Ask the connector's definition for the dates to fetch (default: the requested date, else
 *    yesterday UTC); keep those within the tenant's `since`..`until` (the others are counted, so a
 *    `--date` outside it is reported, not silently dropped; a past `--date` the vendor cannot serve
 *    is kept, for the start step to skip with its reason, served-date.ts); drop the ones already
 *    archived unless `force`.
 * 4. Report dates about to age out of the vendor's history so an alarm can fire in time, and
 *    record once each date that did age out unarchived (lost-dates.ts).
 * 5. Keep the vendor's expectations (every tenant × report of its section, expectations.ts) in
 *    the archive for coverage, writing them only when the config changed them.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { addDays, isCalendarDate, utcDate } from '../core/dates.ts';
import { ConfigError } from '../core/errors.ts';
import { MANIFEST_FILE_NAME, manifestReportPrefix } from '../core/layout.ts';
import type { ConnectorDefinition } from '../core/types.ts';
import { formatIssues } from '../core/zod-issues.ts';
import { claimScheduledRun, isScheduleDelivery, type RunClaim } from './claim.ts';
import { expectationRows, writeExpectations } from './expectations.ts';
import { inTenantRange, lostDates, lostRecord, recordLostDates } from './lost-dates.ts';
import type { OutcomeRecord } from './outcome-record.ts';
import { pastDateNotServed } from './served-date.ts';

const IsoDate = z.string().refine(isCalendarDate, 'expected a calendar date as YYYY-MM-DD');

export const RunRequestSchema = z.object({
  scheduledTime: z.iso.datetime({ offset: true }),
  date: IsoDate.optional(),
  tenants: z.array(z.string()).min(1).optional(),
  reports: z.array(z.string()).min(1).optional(),
  force: z.boolean().optional(),
});

export const PlanInputSchema = z.object({
  vendor: z.string(),
  section: z
    .object({
      tenants: z.array(z.object({ id: z.string(), since: IsoDate, until: IsoDate.optional() }).passthrough()).min(1),
      reports: z.array(z.string()).min(1),
    })
    .passthrough(),
  request: RunRequestSchema,
  runId: z.string().min(1),
});
export type PlanInput = z.input<typeof PlanInputSchema>;
type PlanTenant = z.infer<typeof PlanInputSchema>['section']['tenants'][number];

/**
 * One report to fetch. Kept small: a run's items, and the Map's outcomes of them, must fit the
 * state machine's 256 KiB state (`States.DataLimitExceeded` cannot be caught), so the vendor's
 * settings and the run id are added per item by the Map's ItemSelector, not repeated here.
 */
export interface PlanItem {
  /** the tenant's config entry (its secret's name, never the secret) */
  readonly tenant: Record<string, unknown> & { id: string };
  readonly report: string;
  readonly date: string;
}

/**
 * The plan is the PlanRun function's result and stays in the run's state, so it is bounded: the
 * items with their outcomes take at most ITEMS_BUDGET_BYTES, and what was skipped is counted, not
 * listed (a 30-day backlog of many tenants would not fit).
 */
export interface PlanResult {
  readonly items: PlanItem[];
  /** how many tenant × report × date were already in the archive and so skipped */
  readonly alreadyArchived: number;
  /** how many items did not fit this run (the newest dates); the next run plans them again */
  readonly deferred: number;
  /** `tenant/report/date` about to age out of the vendor's history unarchived */
  readonly atRisk: string[];
  /**
   * How many tenant × report × date were not planned because the date is outside the tenant's
   * `since`..`until`: a requested date, or one the connector would have caught up
   */
  readonly outsideTenantRange: number;
  /** how many dates of the look-back aged out of the vendor's history unarchived (each recorded as `lost`) */
  readonly lost: number;
  /** bookkeeping that failed this run (expectations, lost records), for the log: it never stops collection */
  readonly bookkeeping: string[];
  /** the claim of the run that already took this scheduled time: this run is a duplicate delivery */
  readonly duplicateOf: RunClaim | null;
}

/**
 * What a run's items may take of its state (256 KiB): each item, and its outcome in the Map's
 * output, with room left for the config section, the request and the summary.
 */
export const ITEMS_BUDGET_BYTES = 160 * 1024;
/** an outcome in the Map's output: `{outcome, request: {tenant, report, date}}` plus a skip reason or error name */
const OUTCOME_BYTES = 320;

export interface PlanDeps {
  /** the vendor's definition: its date planning (the plan never loads runtime code) */
  readonly definition: ConnectorDefinition;
  readonly s3: S3Client;
  readonly bucket: string;
  /** how far back the archive listing looks for gap detection */
  readonly lookbackDays?: number;
  /** days ahead that count as "about to age out" */
  readonly riskHorizonDays?: number;
  /** lost records one plan writes at most (default MAX_LOST_RECORDS) */
  readonly maxLostRecords?: number;
  /** the key new objects (the run claim) are encrypted with */
  readonly kmsKeyId?: string;
  readonly now?: () => Date;
}

/** Dates (per tenant) that have a manifest, from `startDate` on. */
export async function archivedDates(
  s3: S3Client,
  bucket: string,
  vendor: string,
  report: string,
  startDate: string,
): Promise<Map<string, Set<string>>> {
  const prefix = manifestReportPrefix(vendor, report);
  const byTenant = new Map<string, Set<string>>();
  const pattern = /dt=(\d{4}-\d{2}-\d{2})\/tenant=([^/]+)\/(.+)$/;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        // keys sort by date, so start just before the first date of interest
        StartAfter: token ? undefined : `${prefix}dt=${addDays(startDate, -1)}/~`,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) {
      const [, date, tenant, file] = object.Key?.slice(prefix.length).match(pattern) ?? [];
      if (!date || !tenant || file !== MANIFEST_FILE_NAME) continue;
      if (!byTenant.has(tenant)) byTenant.set(tenant, new Set());
      byTenant.get(tenant)?.add(date);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return byTenant;
}

function pick<T extends { id: string } | string>(
  all: readonly T[],
  wanted: readonly string[] | undefined,
  what: string,
): T[] {
  if (!wanted) return [...all];
  const ids = all.map((x) => (typeof x === 'string' ? x : x.id));
  const unknown = wanted.filter((w) => !ids.includes(w));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown ${what} ${unknown.map((u) => `"${u}"`).join(', ')}; expected one of: ${ids.join(', ')}`,
    );
  }
  return all.filter((x) => wanted.includes(typeof x === 'string' ? x : x.id));
}

export async function planRun(rawInput: PlanInput, deps: PlanDeps): Promise<PlanResult> {
  const parsed = PlanInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw new ConfigError(`invalid run request: ${formatIssues(parsed.error)}`);
  }
  const { vendor, section, request, runId } = parsed.data;
  // Judged on the input as received: the schema drops fields it does not know, and an input
  // with any field but `scheduledTime` was not written by the schedule.
  if (isScheduleDelivery(rawInput.request)) {
    const claimed = await claimScheduledRun(vendor, request.scheduledTime, runId, deps);
    if (claimed.status === 'DUPLICATE') {
      return { ...NOTHING_PLANNED, duplicateOf: claimed.claim };
    }
  }
  const { definition } = deps;
  const scheduledTime = new Date(request.scheduledTime);
  const tenants = pick(section.tenants, request.tenants, 'tenant');
  const reports = pick(section.reports, request.reports, 'report');
  const now = (deps.now ?? (() => new Date()))();
  const target = { s3: deps.s3, bucket: deps.bucket, kmsKeyId: deps.kmsKeyId };
  const bookkeeping: string[] = [];
  await keepBooks(bookkeeping, 'expectations', () =>
    writeExpectations(vendor, expectationRows(vendor, section, definition.cadence, now), target),
  );

  const lookbackStart = addDays(utcDate(scheduledTime), -(deps.lookbackDays ?? 60));
  const startDate = request.date ?? lookbackStart;
  const context: TenantReportContext = {
    definition,
    scheduledTime,
    request,
    horizonDays: deps.riskHorizonDays ?? 3,
    now,
    lostFrom: startDate > lookbackStart ? startDate : lookbackStart,
  };

  const items: PlanItem[] = [];
  const atRisk: string[] = [];
  const lost: OutcomeRecord[] = [];
  let alreadyArchived = 0;
  let outsideTenantRange = 0;
  for (const report of reports) {
    const archived = await archivedDates(deps.s3, deps.bucket, vendor, report, startDate);
    for (const tenant of tenants) {
      const plan = planTenantReport(context, tenant, report, archived.get(tenant.id) ?? new Set());
      items.push(...plan.items);
      atRisk.push(...plan.atRisk.map((date) => `${tenant.id}/${report}/${date}`));
      alreadyArchived += plan.alreadyArchived;
      outsideTenantRange += plan.outsideTenantRange;
      const item = { vendor, tenant: tenant.id, report, runId, recordedAt: now };
      lost.push(...plan.lost.map((date) => lostRecord(definition, { ...item, date })));
    }
  }
  await keepBooks(bookkeeping, 'lost records', () =>
    recordLostDates(lost, target, deps.maxLostRecords ?? MAX_LOST_RECORDS),
  );
  const planned = withinBudget(items);
  return {
    items: planned,
    alreadyArchived,
    deferred: items.length - planned.length,
    atRisk,
    outsideTenantRange,
    lost: lost.length,
    bookkeeping,
    duplicateOf: null,
  };
}

/**
 * Lost records one plan writes at most, oldest first; the next plan writes the rest. Coverage
 * derives a lost day from the vendor's history without its record, so this bounds the plan's
 * time (a first plan of many tenants, or a `since` far back) without hiding anything.
 */
export const MAX_LOST_RECORDS = 500;

/**
 * The plan's bookkeeping (the expectations file, the lost records) never stops collection: a
 * failure is kept as a sentence for the log and the run goes on to archive.
 */
async function keepBooks(failures: string[], what: string, task: () => Promise<unknown>): Promise<void> {
  try {
    await task();
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    failures.push(`${what} not recorded: ${message}`);
  }
}

/** What a duplicate delivery returns: it looked at nothing. */
const NOTHING_PLANNED = {
  items: [],
  alreadyArchived: 0,
  deferred: 0,
  atRisk: [],
  outsideTenantRange: 0,
  lost: 0,
  bookkeeping: [],
};

/** What every tenant and report of one run share. */
interface TenantReportContext {
  readonly definition: ConnectorDefinition;
  readonly scheduledTime: Date;
  readonly request: z.infer<typeof RunRequestSchema>;
  readonly horizonDays: number;
  /** the plan's clock, by which a requested date the vendor cannot serve is judged */
  readonly now: Date;
  /** the oldest date a lost record may be written for: the listing saw every manifest from it on */
  readonly lostFrom: string;
}

/**
 * One tenant's report: the connector's dates within the tenant's `since`..`until` (a requested
 * date outside it is not even offered to the connector, which may refuse it; a past date the
 * vendor cannot serve is planned all the same, as it cannot be fetched either way), less the archived
 * ones unless `force`; the unarchived ones about to age out; and the ones that did.
 */
function planTenantReport(context: TenantReportContext, tenant: PlanTenant, report: string, done: Set<string>) {
  const { definition, scheduledTime, request } = context;
  const range = { since: tenant.since, until: tenant.until };
  let outsideTenantRange = 0;
  let dates: string[];
  if (request.date !== undefined && !inTenantRange(range, request.date)) {
    // A past date the vendor cannot serve (a snapshot's, or older than its history) could not be
    // fetched inside the range either: planned, so that the start step skips it with that reason
    // and it is recorded like any skip, not just counted.
    const unservable = pastDateNotServed(definition, request.date, context.now);
    if (!unservable) outsideTenantRange++;
    dates = unservable ? [request.date] : [];
  } else {
    const offered = definition.planDates
      ? definition.planDates({ scheduledTime, requestedDate: request.date, archived: done })
      : [request.date ?? addDays(utcDate(scheduledTime), -1)];
    dates = offered.filter((date) => inTenantRange(range, date));
    outsideTenantRange += offered.length - dates.length;
  }
  const items: PlanItem[] = [];
  let alreadyArchived = 0;
  for (const date of dates) {
    if (done.has(date) && !request.force) alreadyArchived++;
    else items.push({ tenant, report, date });
  }
  // the ones this run is about to fetch still count: they are at risk until archived
  const atRisk = (
    definition.datesAtRisk?.({ now: scheduledTime, archived: done, horizonDays: context.horizonDays }) ?? []
  ).filter((date) => inTenantRange(range, date));
  const lost = lostDates({
    cadence: definition.cadence,
    today: utcDate(scheduledTime),
    from: context.lostFrom,
    range,
    archived: done,
    planned: new Set(dates),
  });
  return { items, alreadyArchived, outsideTenantRange, atRisk, lost };
}

/**
 * The items as planned when they fit the budget; otherwise the oldest dates that fit (they age out
 * of a vendor's history first), and the newest wait for the next run.
 */
function withinBudget(items: PlanItem[]): PlanItem[] {
  const costs = items.map((item) => Buffer.byteLength(JSON.stringify(item)) + OUTCOME_BYTES);
  if (costs.reduce((sum, cost) => sum + cost, 0) <= ITEMS_BUDGET_BYTES) return items;
  const oldestFirst = items.map((_, i) => i).sort((a, b) => items[a]!.date.localeCompare(items[b]!.date));
  const kept = new Set<number>();
  let used = 0;
  for (const i of oldestFirst) {
    used += costs[i]!;
    if (used > ITEMS_BUDGET_BYTES) break;
    kept.add(i);
  }
  return items.filter((_, i) => kept.has(i));
}
