/**
 * The RecordOutcome step: the last Task of every item the state machine runs, on every path.
 *
 * 1. The definition says how the item ended (its `ending`): archived (the manifest it published
 *    and its row count), skipped (the step's reason), or failed (the `{ Error, Cause }` the state
 *    machine caught or built).
 * 2. The step turns that into one outcome record (`outcome-record.ts`) and writes it once, at the
 *    key of this run and item: a retried invocation finds the record there and leaves it.
 * 3. A failure's reason is the cause's message. A Lambda error's Cause is a JSON string
 *    `{ errorType, errorMessage, trace }`: only `errorMessage` is kept, never the trace. The
 *    Cause of a `States.*` error (a timeout, a runtime error) is the service's own text and is
 *    kept as it is. Messages are already redacted where they are raised (the HTTP client names no
 *    query string, connectors no credential), and the record keeps at most REASON_MAX_CHARS.
 * 4. The call that writes the record also publishes it as metrics (`ReportsRecorded`, and
 *    `RowsArchived` for an archived item); a retried invocation that finds the record publishes
 *    nothing, so an item is counted once.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import type { S3Target } from '../core/archive/s3-upload.ts';
import { ConfigError } from '../core/errors.ts';
import { formatIssues } from '../core/zod-issues.ts';
import { type MetricsSink, publishReportRecorded } from './metrics.ts';
import { clipReason, type OutcomeRecord, outcomeRecordKey, writeOutcomeRecord } from './outcome-record.ts';

const EndingSchema = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('archived'),
    manifestKey: z.string().min(1),
    rowCount: z.number().int().nonnegative(),
    /** the vendor's bytes (the originals), for the `BytesArchived` metric; not part of the record */
    bytes: z.number().int().nonnegative(),
  }),
  z.object({ outcome: z.literal('skipped'), reason: z.string().nullable() }),
  z.object({
    outcome: z.literal('failed'),
    /** as Step Functions hands a caught error on (Cause may be absent or null) */
    error: z.object({ Error: z.string().min(1), Cause: z.string().nullish() }),
  }),
]);
export type Ending = z.infer<typeof EndingSchema>;

export const RecordOutcomeInputSchema = z.object({
  /** a constant of the state machine definition */
  vendor: z.string().min(1),
  /** `$$.Execution.Id`: the outcome key is named after it (`runName`) */
  runId: z.string().min(1),
  request: z.object({ tenant: z.string().min(1), report: z.string().min(1), date: z.string() }),
  ending: EndingSchema,
});
export type RecordOutcomeInput = z.input<typeof RecordOutcomeInputSchema>;

export interface RecordOutcomeDeps extends S3Target {
  /** the function's own vendor: it writes no record of another's */
  readonly vendor: string;
  readonly logger: Logger;
  readonly now: () => Date;
  /** where the ReportsRecorded and RowsArchived metrics go; default stdout (EMF) */
  readonly metrics?: MetricsSink;
}

export interface RecordOutcomeResult {
  readonly recorded: 'RECORDED' | 'ALREADY_RECORDED';
  readonly key: string;
}

const LambdaCauseSchema = z.object({ errorMessage: z.string().nullish() });

/** The sentence a record keeps of a failure's Cause (see 3. above). */
export function failureReason(error: { Error: string; Cause?: string | null | undefined }): string | null {
  const cause = error.Cause ?? null;
  if (cause === null || error.Error.startsWith('States.')) return clipReason(cause);
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return clipReason(cause); // a plain sentence: a failure the definition built, or a local run's
  }
  // JSON that is an object is a Lambda error's Cause: its message, or nothing (never the trace)
  if (typeof parsed !== 'object' || parsed === null) return clipReason(cause);
  return clipReason(LambdaCauseSchema.safeParse(parsed).data?.errorMessage);
}

/** The record of one item's ending. */
export function outcomeRecord(input: z.output<typeof RecordOutcomeInputSchema>, recordedAt: Date): OutcomeRecord {
  const { vendor, runId, request, ending } = input;
  const record: OutcomeRecord = {
    schema_version: 1,
    vendor,
    tenant: request.tenant,
    report: request.report,
    report_date: request.date,
    outcome: ending.outcome,
    error: null,
    reason: null,
    run_id: runId,
    recorded_at: recordedAt.toISOString(),
    manifest_key: null,
    row_count: null,
  };
  switch (ending.outcome) {
    case 'archived':
      return { ...record, manifest_key: ending.manifestKey, row_count: ending.rowCount };
    case 'skipped':
      return { ...record, reason: clipReason(ending.reason) };
    case 'failed':
      return { ...record, error: ending.error.Error, reason: failureReason(ending.error) };
  }
}

export async function recordOutcome(raw: RecordOutcomeInput, deps: RecordOutcomeDeps): Promise<RecordOutcomeResult> {
  const parsed = RecordOutcomeInputSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid RecordOutcome input: ${formatIssues(parsed.error)}`);
  const input = parsed.data;
  if (input.vendor !== deps.vendor) {
    throw new ConfigError(`the ${deps.vendor} function was asked to record a ${input.vendor} outcome`);
  }
  const recordedAt = deps.now();
  const record = outcomeRecord(input, recordedAt);
  const key = outcomeRecordKey(record);
  const recorded = await writeOutcomeRecord(record, deps);
  if (recorded === 'RECORDED') {
    const archived = input.ending.outcome === 'archived' ? input.ending : null;
    const volume = archived ? { rows: archived.rowCount, bytes: archived.bytes } : null;
    publishReportRecorded(record.vendor, record.outcome, volume, deps.metrics, recordedAt);
  }
  deps.logger.info('outcome recorded', {
    vendor: record.vendor,
    tenant: record.tenant,
    report: record.report,
    reportDate: record.report_date,
    executionId: record.run_id,
    outcome: record.outcome,
    error: record.error,
    key,
    recorded,
  });
  return { recorded, key };
}
