/**
 * The run claim: one run per scheduled time, however often the schedule delivers it.
 *
 * 1. EventBridge Scheduler delivers at least once and cannot name executions, so two executions
 *    may start for one scheduled time. Only such a delivery claims: its input is exactly
 *    `{scheduledTime}`. A hand-started run (`date`, `force`, `tenants` or `reports`) never does.
 * 2. The claim is `runs/vendor=<v>/scheduled=<ISO time>/claim.json`, written with
 *    `If-None-Match: *`: S3 creates it once and answers 412 PreconditionFailed ever after (409
 *    ConditionalRequestConflict while another conditional write of it is in flight: try again).
 * 3. On 412 the claim is read: this run's own (its PlanRun retried, or the execution redriven)
 *    goes on; another run's makes this one a duplicate, which plans and archives nothing.
 *
 * Claims sit under the bucket's Object Lock like every object: a few hundred bytes, one per
 * vendor per scheduled time.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { createOnce } from '../core/archive/s3-upload.ts';

/** Where claims live in the archive bucket (beside the data, originals and manifests prefixes). */
export const RUNS_PREFIX = 'runs';
export const CLAIM_FILE_NAME = 'claim.json';

/** Tries of the conditional write while S3 answers 409 (another write of the same key in flight). */
const CONFLICT_ATTEMPTS = 4;
const CONFLICT_PAUSE_MS = 250;

const RunClaimSchema = z.object({
  run_id: z.string().min(1),
  claimed_at: z.string(),
  scheduled_time: z.string(),
});
export type RunClaim = z.infer<typeof RunClaimSchema>;

/** The fields of a run request that make it a hand-started run rather than a schedule's delivery. */
export interface RequestShape {
  readonly scheduledTime: string;
  readonly date?: string;
  readonly tenants?: readonly string[];
  readonly reports?: readonly string[];
  readonly force?: boolean;
}

export interface ClaimDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly now?: () => Date;
  /** pause between tries after a 409 */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type ClaimResult =
  | { readonly status: 'CLAIMED'; readonly claim: RunClaim }
  | { readonly status: 'DUPLICATE'; readonly claim: RunClaim };

/** A schedule's delivery: the scheduled time and nothing a person adds to start a run by hand. */
export function isScheduleDelivery(request: RequestShape): boolean {
  const { scheduledTime: _time, ...rest } = request;
  return Object.values(rest).every((value) => value === undefined);
}

/** One key per vendor and instant, whatever ISO spelling the time came in. */
export function claimKey(vendor: string, scheduledTime: string): string {
  return `${RUNS_PREFIX}/vendor=${vendor}/scheduled=${new Date(scheduledTime).toISOString()}/${CLAIM_FILE_NAME}`;
}

/** Claims `scheduledTime` for `runId`, or names the run that claimed it first. */
export async function claimScheduledRun(
  vendor: string,
  scheduledTime: string,
  runId: string,
  deps: ClaimDeps,
): Promise<ClaimResult> {
  const key = claimKey(vendor, scheduledTime);
  const claim: RunClaim = {
    run_id: runId,
    claimed_at: (deps.now ?? (() => new Date()))().toISOString(),
    scheduled_time: new Date(scheduledTime).toISOString(),
  };
  for (let attempt = 1; ; attempt++) {
    const outcome = await createOnce(deps, key, `${JSON.stringify(claim)}\n`, 'application/json');
    if (outcome === 'CREATED') return { status: 'CLAIMED', claim };
    if (outcome === 'EXISTS') break;
    if (attempt >= CONFLICT_ATTEMPTS) {
      throw new Error(`claim ${key}: S3 answered 409 ConditionalRequestConflict ${attempt} times; expected 200 or 412`);
    }
    await (deps.sleep ?? pause)(CONFLICT_PAUSE_MS * attempt);
  }
  const existing = await readClaim(key, deps);
  // our own claim, from an earlier try of this same execution
  if (existing.run_id === runId) return { status: 'CLAIMED', claim: existing };
  return { status: 'DUPLICATE', claim: existing };
}

async function readClaim(key: string, deps: ClaimDeps): Promise<RunClaim> {
  const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
  const text = (await object.Body?.transformToString()) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = RunClaimSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`claim ${key}: expected {run_id, claimed_at, scheduled_time}; received ${text.slice(0, 200)}`);
  }
  return parsed.data;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
