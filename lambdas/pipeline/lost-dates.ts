/**
 * Lost dates: days the vendor no longer serves that were never archived, recorded once each as a
 * `lost` outcome (outcome-record.ts) so coverage reads the loss as data, with its reason.
 *
 * 1. A date is lost when it is past the vendor's history (`cadence.historyDays`: a snapshot only
 *    on its own day, OpenAthens 30 days), within the tenant's `since`..`until`, within the
 *    plan's look-back (the manifest listing it already made, so no request per date), has no
 *    manifest, and is not planned by this run.
 * 2. Where the vendor does not document its history (`historyDays` null, CSP) nothing is ever
 *    lost: coverage says "retention unknown" instead.
 * 3. The record's key is one per date (`lostOutcomeKey`), written with `If-None-Match: *`: the
 *    first plan to see the loss records it, and a plan racing it gets 412 and leaves it as it is.
 *    Later plans list the vendor's outcome keys over the lost dates' span first (one listing, a
 *    page per 1,000 keys) and write only the dates not recorded yet: otherwise every plan would
 *    send one refused write per lost date of its look-back, tenant and report, every day.
 */

import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mapAtOnce } from '../core/at-once.ts';
import { addDays, dayNumber, fromDayNumber } from '../core/dates.ts';
import { LOST_OUTCOME_NAME, OUTCOMES_PREFIX } from '../core/layout.ts';
import type { BucketReader } from '../core/s3-objects.ts';
import type { Cadence, ConnectorDefinition } from '../core/types.ts';
import {
  clipReason,
  type OutcomeRecord,
  outcomeRecordKey,
  type RecordDeps,
  writeOutcomeRecord,
} from './outcome-record.ts';

/** Days past ageing out before a date is recorded lost: yesterday's execution may still archive it. */
export const SETTLING_DAYS = 1;

/** Record writes in flight at once: enough to hide S3's latency, few enough to stay polite. */
const WRITES_IN_FLIGHT = 8;

/** The days a tenant's reports are expected. */
export interface TenantRange {
  readonly since: string;
  readonly until?: string;
}

export function inTenantRange(range: TenantRange, date: string): boolean {
  return date >= range.since && (range.until === undefined || date <= range.until);
}

/**
 * Dates from `from` to the newest one the vendor no longer serves on `today`, oldest first, that
 * are in `range` and neither archived nor planned.
 */
export function lostDates(input: {
  readonly cadence: Cadence;
  readonly today: string;
  readonly from: string;
  readonly range: TenantRange;
  readonly archived: ReadonlySet<string>;
  readonly planned: ReadonlySet<string>;
}): string[] {
  const { historyDays } = input.cadence;
  if (historyDays === null) return [];
  // served through `today − historyDays`; the day before is gone, but an execution of the day
  // before may still be archiving it (executions run up to 23 hours): a day later it is settled
  const newestGone = addDays(input.today, -historyDays - 1 - SETTLING_DAYS);
  const first = dayNumber(input.from > input.range.since ? input.from : input.range.since) as number;
  const last = dayNumber(
    input.range.until !== undefined && input.range.until < newestGone ? input.range.until : newestGone,
  ) as number;
  const dates: string[] = [];
  for (let day = first; day <= last; day++) {
    const date = fromDayNumber(day);
    if (!input.archived.has(date) && !input.planned.has(date)) dates.push(date);
  }
  return dates;
}

/** Why `date` is lost, for people: what the vendor serves, and when the date stopped being served. */
export function lostReason(displayName: string, cadence: Cadence, date: string): string {
  const days = cadence.historyDays;
  if (days === 0) return `a snapshot can only be fetched on its own day; ${date} passed without a manifest`;
  if (days === null) return `${displayName} does not document how long it keeps data; ${date} has no manifest`;
  return `${displayName} serves ${days} days; ${date} aged out on ${addDays(date, days + 1)} without a manifest`;
}

/** The `lost` record of one date, by the run that found it. */
export function lostRecord(
  definition: Pick<ConnectorDefinition, 'displayName' | 'cadence'>,
  lost: { vendor: string; tenant: string; report: string; date: string; runId: string; recordedAt: Date },
): OutcomeRecord {
  return {
    schema_version: 1,
    vendor: lost.vendor,
    tenant: lost.tenant,
    report: lost.report,
    report_date: lost.date,
    outcome: 'lost',
    error: null,
    reason: clipReason(lostReason(definition.displayName, definition.cadence, lost.date)),
    run_id: lost.runId,
    recorded_at: lost.recordedAt.toISOString(),
    manifest_key: null,
    row_count: null,
  };
}

/**
 * Records each date not recorded yet (an earlier plan's record of the same date stays), at most
 * `limit` of them, oldest first; returns how many this call wrote.
 */
export async function recordLostDates(
  records: readonly OutcomeRecord[],
  deps: RecordDeps,
  limit = Number.POSITIVE_INFINITY,
): Promise<number> {
  if (records.length === 0) return 0;
  const recorded = await recordedLostKeys(deps, records);
  const missing = records
    .filter((record) => !recorded.has(outcomeRecordKey(record)))
    .sort((a, b) => a.report_date.localeCompare(b.report_date))
    .slice(0, limit);
  const outcomes = await mapAtOnce(missing, WRITES_IN_FLIGHT, (record) => writeOutcomeRecord(record, deps));
  return outcomes.filter((outcome) => outcome === 'RECORDED').length;
}

/** The `lost` keys already under the vendor's outcomes, from the oldest record's date to the newest's. */
async function recordedLostKeys(reader: BucketReader, records: readonly OutcomeRecord[]): Promise<Set<string>> {
  const vendor = (records[0] as OutcomeRecord).vendor;
  const dates = records.map((record) => record.report_date).sort();
  const prefix = `${OUTCOMES_PREFIX}/vendor=${vendor}/`;
  // keys sort by date: start just before the oldest, stop past the newest
  const end = `${prefix}dt=${dates[dates.length - 1]}/~`;
  const found = new Set<string>();
  let token: string | undefined;
  do {
    const page = await reader.s3.send(
      new ListObjectsV2Command({
        Bucket: reader.bucket,
        Prefix: prefix,
        StartAfter: token ? undefined : `${prefix}dt=${addDays(dates[0] as string, -1)}/~`,
        ContinuationToken: token,
      }),
    );
    const keys = (page.Contents ?? []).map((object) => object.Key ?? '');
    for (const key of keys) if (key.endsWith(`/${LOST_OUTCOME_NAME}.json`)) found.add(key);
    token = page.IsTruncated && !keys.some((key) => key > end) ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}
