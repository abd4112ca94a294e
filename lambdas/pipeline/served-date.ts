/**
 * Which report dates a vendor can still serve, judged without calling it: the plan step plans a
 * requested date it cannot serve (so the start step skips it with this reason and the skip is
 * recorded), and the start step refuses it.
 *
 * 1. A snapshot report is the vendor's state at the moment it is fetched, so it may only be
 *    archived under the UTC date it is fetched on. A run asked for another date (`--date`, a
 *    backfill) or started by hand with a stale scheduled time would otherwise label today's state
 *    with another day's date. An hour's grace past midnight lets a schedule delivered a little
 *    late (Scheduler's flexible window, retries) keep the date it was planned for.
 * 2. An event log with a documented history (`historyDays`) serves no day older than that: at
 *    `now` the oldest is today − historyDays (UTC), as OpenAthens' "30 days ago".
 */
import { addDays, DAY_MS, utcDate } from '../core/dates.ts';
import type { Cadence, ConnectorDefinition } from '../core/types.ts';

const SNAPSHOT_GRACE_MS = 60 * 60_000;

/** Why a snapshot cannot be archived as `date` at `now`, or undefined when it can. */
export function snapshotDateRefusal(cadence: Cadence, date: string, now: Date): string | undefined {
  if (cadence.kind !== 'snapshot') return undefined;
  const start = Date.parse(`${date}T00:00:00Z`);
  const at = now.getTime();
  if (at >= start && at < start + DAY_MS + SNAPSHOT_GRACE_MS) return undefined;
  return `the report is a snapshot of the vendor's state now (${utcDate(now)}, UTC), so it cannot be archived as ${date}`;
}

/** Why the vendor no longer serves `date` at `now` (older than its history), or undefined. */
function historyRefusal(definition: VendorDates, date: string, now: Date): string | undefined {
  const { kind, historyDays } = definition.cadence;
  if (kind === 'snapshot' || historyDays === null) return undefined;
  const oldest = addDays(utcDate(now), -historyDays);
  if (date >= oldest) return undefined;
  return `${definition.displayName} serves ${historyDays} days back (the oldest is ${oldest}, UTC), so ${date} can no longer be fetched`;
}

type VendorDates = Pick<ConnectorDefinition, 'cadence' | 'displayName'>;

/** Why the vendor cannot serve `date` at `now`, or undefined when it may. */
export function servedDateRefusal(definition: VendorDates, date: string, now: Date): string | undefined {
  return snapshotDateRefusal(definition.cadence, date, now) ?? historyRefusal(definition, date, now);
}

/**
 * A past date the vendor cannot serve: only past dates, as a refusal of one only grows firmer
 * with time, so the start step, which judges it later, cannot disagree with the plan.
 */
export function pastDateNotServed(definition: VendorDates, date: string, now: Date): boolean {
  return date < utcDate(now) && servedDateRefusal(definition, date, now) !== undefined;
}
