/**
 * Reading what the pipeline recorded, for the operations side (freshness, status): a vendor's
 * outcome records over a range of days, and its expectations object.
 *
 * 1. Outcome records are listed one `dt=` partition at a time (`outcomes/vendor=<v>/dt=<d>/`), so
 *    a window of days reads only those days, however long the archive's history is.
 * 2. Each record is read and parsed with `OutcomeRecordSchema`. A record that does not parse, or
 *    that sits under another vendor's or another day's key, is an error naming its key: a reader
 *    that dropped it would report a tenant stale (or fresh) on evidence it never looked at.
 * 3. The expectations object is absent until a vendor's first plan: that reads as no rows.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { mapAtOnce } from '../core/at-once.ts';
import { datesBetween, dayNumber, isCalendarDate } from '../core/dates.ts';
import { expectationsKey, OUTCOMES_PREFIX } from '../core/layout.ts';
import { isAbsent, listKeys, readBytes } from '../core/s3-objects.ts';
import { formatIssues } from '../core/zod-issues.ts';
import type { ExpectationRow } from '../pipeline/expectations.ts';
import { type OutcomeRecord, OutcomeRecordSchema } from '../pipeline/outcome-record.ts';

/** Records read at once: enough to hide S3's latency, few enough for one small function. */
const READ_CONCURRENCY = 16;
/** Longest range `readOutcomes` accepts: a guard against a swapped or mistyped bound. */
export const MAX_OUTCOME_DAYS = 400;

const VENDOR = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** One line of `expectations/<v>.jsonl`, as `expectations.ts` writes it. */
export const ExpectationRowSchema = z.object({
  vendor: z.string().min(1),
  tenant: z.string().min(1),
  report: z.string().min(1),
  since: z.string().refine(isCalendarDate, 'expected a calendar date as YYYY-MM-DD'),
  until: z.string().refine(isCalendarDate, 'expected a calendar date as YYYY-MM-DD').nullable(),
  cadence: z.enum(['event-log', 'snapshot']),
  history_days: z.number().int().nonnegative().nullable(),
  written_at: z.iso.datetime(),
}) satisfies z.ZodType<ExpectationRow>;

export class UnreadableRecordError extends Error {
  override readonly name = 'UnreadableRecordError';
}

/** The prefix of one vendor's outcome records of one day. */
export function outcomeDayPrefix(vendor: string, date: string): string {
  return `${OUTCOMES_PREFIX}/vendor=${vendor}/dt=${date}/`;
}

/** Every outcome record of `vendor` whose day is in [from, to] (inclusive), in key order. */
export async function readOutcomes(
  s3: S3Client,
  bucket: string,
  vendor: string,
  from: string,
  to: string,
): Promise<OutcomeRecord[]> {
  const days = daysBetween(vendor, from, to);
  const keys: string[] = [];
  for (const day of days) keys.push(...(await listKeys({ s3, bucket }, outcomeDayPrefix(vendor, day))));
  return mapAtOnce(keys, READ_CONCURRENCY, async (key) => {
    const text = (await readBytes({ s3, bucket }, key)).toString('utf8');
    return parseOutcome(key, text, vendor);
  });
}

/** The vendor's expected tenant reports; none when the object does not exist yet. */
export async function readExpectations(s3: S3Client, bucket: string, vendor: string): Promise<ExpectationRow[]> {
  const key = expectationsKey(vendor);
  let text: string;
  try {
    text = (await readBytes({ s3, bucket }, key)).toString('utf8');
  } catch (error) {
    if (await isAbsent({ s3, bucket }, key, error)) return [];
    throw error;
  }
  const rows: ExpectationRow[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    rows.push(parseLine(`${key} line ${index + 1}`, line, ExpectationRowSchema));
  });
  return rows;
}

/** A record's text, parsed and checked against the partition its key names. */
export function parseOutcome(key: string, text: string, vendor: string): OutcomeRecord {
  const record = parseLine(key, text.trim(), OutcomeRecordSchema);
  const day = /\/dt=([^/]+)\//.exec(key)?.[1];
  if (record.vendor !== vendor || record.report_date !== day) {
    throw new UnreadableRecordError(
      `outcome record ${key}: holds vendor ${record.vendor} and report_date ${record.report_date}; expected ${vendor} and ${day} as its key says`,
    );
  }
  return record;
}

function parseLine<T>(where: string, line: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new UnreadableRecordError(`${where}: not JSON (${(error as Error).message}); expected one JSON object`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UnreadableRecordError(`${where}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

function daysBetween(vendor: string, from: string, to: string): string[] {
  if (!VENDOR.test(vendor)) throw new Error(`vendor must match ${VENDOR}; received ${JSON.stringify(vendor)}`);
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isCalendarDate(value)) {
      throw new Error(`${name} must be a calendar date as YYYY-MM-DD; received ${JSON.stringify(value)}`);
    }
  }
  if (from > to) throw new Error(`from must not be after to; received ${from} to ${to}`);
  if ((dayNumber(to) as number) - (dayNumber(from) as number) + 1 > MAX_OUTCOME_DAYS) {
    throw new Error(`outcomes of at most ${MAX_OUTCOME_DAYS} days are read at once; received ${from} to ${to}`);
  }
  return datesBetween(from, to);
}
