/**
 * Outcome records: how every planned item ended, kept in the archive beside what it produced.
 *
 * 1. One record per run and item (`archived`, `failed`, `skipped`) at `outcomeKey` (the run's
 *    name in the key), and one per date that aged out of the vendor's history unarchived (`lost`)
 *    at `lostOutcomeKey`. Keys are deterministic, so a retried write lands on the same key.
 * 2. Each is written once, with `If-None-Match: *`: S3's 412 means an earlier try of the same run
 *    (or an earlier plan, for `lost`) recorded it already, which is the answer wanted. A 409 (a
 *    conditional write of the same key in flight) is retried a few times.
 * 3. The record is one JSON line with a fixed schema (the `report_outcomes` table reads it); the
 *    reason is a sentence for people, never a secret: callers pass messages the HTTP client and
 *    connectors already redact, and it is cut to REASON_MAX_CHARS.
 *
 * Coverage, the status command and freshness signals read these records and nothing else for
 * failures, skips and losses; an archived item's manifest stays the proof of what it holds.
 */
import { z } from 'zod';
import { createOnce, type S3Target } from '../core/archive/s3-upload.ts';
import { isCalendarDate } from '../core/dates.ts';
import { lostOutcomeKey, outcomeKey } from '../core/layout.ts';

export const OUTCOMES = ['archived', 'failed', 'skipped', 'lost'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Longest reason kept; longer ones end with an ellipsis. */
export const REASON_MAX_CHARS = 1000;

const CONFLICT_ATTEMPTS = 4;
const CONFLICT_PAUSE_MS = 250;

export const OutcomeRecordSchema = z
  .object({
    schema_version: z.literal(1),
    vendor: z.string().min(1),
    tenant: z.string().min(1),
    report: z.string().min(1),
    report_date: z.string().refine(isCalendarDate, 'expected a calendar date as YYYY-MM-DD'),
    outcome: z.enum(OUTCOMES),
    /** the error's name, for `failed` */
    error: z.string().min(1).nullable(),
    /** why it failed, was skipped or was lost */
    reason: z.string().max(REASON_MAX_CHARS).nullable(),
    run_id: z.string().min(1),
    recorded_at: z.iso.datetime(),
    /** for `archived`: the manifest it published */
    manifest_key: z.string().min(1).nullable(),
    row_count: z.number().int().nonnegative().nullable(),
  })
  .strict();
export type OutcomeRecord = z.infer<typeof OutcomeRecordSchema>;

/** `reason` cut to the length a record keeps. */
export function clipReason(reason: string | null | undefined): string | null {
  if (reason === null || reason === undefined || reason.length === 0) return null;
  return reason.length <= REASON_MAX_CHARS ? reason : `${reason.slice(0, REASON_MAX_CHARS - 1)}…`;
}

/** The key a record is written at: per run, or the one `lost` key of its date. */
export function outcomeRecordKey(record: OutcomeRecord): string {
  const partition = { vendor: record.vendor, report: record.report, tenant: record.tenant, date: record.report_date };
  return record.outcome === 'lost' ? lostOutcomeKey(partition) : outcomeKey(partition, record.run_id);
}

export interface RecordDeps extends S3Target {
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Writes the record once. `RECORDED`: this call wrote it; `ALREADY_RECORDED`: the key holds a
 * record from an earlier try (kept as it is: the first word stands).
 */
export async function writeOutcomeRecord(
  record: OutcomeRecord,
  deps: RecordDeps,
): Promise<'RECORDED' | 'ALREADY_RECORDED'> {
  const checked = OutcomeRecordSchema.parse(record);
  const key = outcomeRecordKey(checked);
  const line = `${JSON.stringify(checked)}\n`;
  for (let attempt = 1; ; attempt++) {
    const outcome = await createOnce(deps, key, line, 'application/json');
    if (outcome === 'CREATED') return 'RECORDED';
    if (outcome === 'EXISTS') return 'ALREADY_RECORDED';
    if (attempt >= CONFLICT_ATTEMPTS) {
      throw new Error(
        `outcome record ${key}: S3 answered 409 ConditionalRequestConflict ${attempt} times; expected 200 or 412`,
      );
    }
    await (deps.sleep ?? pause)(CONFLICT_PAUSE_MS * attempt);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
