/**
 * Which date a snapshot may be archived under.
 *
 * A snapshot report is the vendor's state at the moment it is fetched, so it may only be archived
 * under the UTC date it is fetched on. A run asked for another date (`--date`, a backfill) or
 * started by hand with a stale scheduled time would otherwise label today's state with another
 * day's date. An hour's grace past midnight lets a schedule delivered a little late (Scheduler's
 * flexible window, retries) keep the date it was planned for.
 */
import { DAY_MS, utcDate } from '../core/dates.ts';
import type { Cadence } from '../core/types.ts';

const SNAPSHOT_GRACE_MS = 60 * 60_000;

/** Why a snapshot cannot be archived as `date` at `now`, or undefined when it can. */
export function snapshotDateRefusal(cadence: Cadence, date: string, now: Date): string | undefined {
  if (cadence.kind !== 'snapshot') return undefined;
  const start = Date.parse(`${date}T00:00:00Z`);
  const at = now.getTime();
  if (at >= start && at < start + DAY_MS + SNAPSHOT_GRACE_MS) return undefined;
  return `the report is a snapshot of the vendor's state now (${utcDate(now)}, UTC), so it cannot be archived as ${date}`;
}
