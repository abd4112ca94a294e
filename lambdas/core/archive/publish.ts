/**
 * Publishing a report: the manifest key is the only key two runs of one report contend for
 * (data and originals are at keys of each attempt's own), so a manifest is written only if it
 * is still the one the run saw when it started.
 *
 * 1. Before anything is downloaded, `readPublished` reads the manifest as it is: absent, or its
 *    ETag and the run that wrote it (one GET, so the two agree).
 * 2. After the data and originals are stored, `publishManifest` writes with `If-None-Match: *`
 *    when it was absent and `If-Match: <etag>` when it existed (a forced or recovering re-run
 *    replaces exactly the manifest it saw).
 * 3. S3 answers 412 when another run published in between: this run is SUPERSEDED. Its own
 *    objects stay as unreferenced write-once objects (never deleted: Object Lock keeps them, and
 *    nothing reads a data object no manifest names). S3 answers 409 while another conditional
 *    write to the key is in flight: the put is retried a few times, then decided by 412 as above.
 *    A 412 over a manifest that holds exactly this run's bytes is this run's own put, retried by
 *    the SDK after its answer was lost: PUBLISHED, not SUPERSEDED.
 */
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { ArchiveError } from '../errors.ts';
import { isAbsent } from '../s3-objects.ts';
import { parseStoredManifest } from './manifest.ts';
import { httpStatusOf, putText, type S3Target, type WriteCondition } from './s3-upload.ts';

/** A manifest as a run saw it. */
export interface PublishedManifest {
  readonly etag: string;
  /** the run that wrote it; null when it cannot be read (a damaged manifest is still replaced) */
  readonly runId: string | null;
}

export type PublishOutcome =
  | { readonly outcome: 'PUBLISHED'; readonly versionId: string | null }
  | { readonly outcome: 'SUPERSEDED'; readonly reason: string };

/** Puts answering 409 ConditionalRequestConflict, then the run gives up. */
export const MAX_MANIFEST_PUTS = 4;
const BACKOFF_MS = 100;

/** The manifest put kept answering 409: another conditional write to it never settled. */
export class ManifestConflictError extends ArchiveError {
  override readonly name = 'ManifestConflictError';
  readonly retryable = false;
}

/** The manifest at `key`, or null when there is none. */
export async function readPublished(target: S3Target, key: string): Promise<PublishedManifest | null> {
  const current = await readCurrent(target, key);
  if (!current) return null;
  if (!current.etag) throw new Error(`S3 returned no ETag for ${key}; a conditional write needs one`);
  return { etag: current.etag, runId: runIdOf(current.text) };
}

/** The object at `key` as it is now (one GET: its bytes, ETag and VersionId agree), or null. */
async function readCurrent(
  target: S3Target,
  key: string,
): Promise<{ text: string | undefined; etag?: string; versionId?: string } | null> {
  let output: GetObjectCommandOutput;
  try {
    output = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
  } catch (error) {
    if (await isAbsent(target, key, error)) return null;
    throw error;
  }
  const text = await output.Body?.transformToString('utf8');
  return { text, etag: output.ETag, versionId: output.VersionId };
}

function runIdOf(text: string | undefined): string | null {
  try {
    return text === undefined ? null : parseStoredManifest(text).run_id;
  } catch {
    return null;
  }
}

/** What to do after a manifest put answered `status` on the `put`-th try (1-based). */
export function afterManifestPut(status: number | undefined, put: number): 'superseded' | 'retry' | 'fail' {
  if (status === 412) return 'superseded';
  if (status === 409 && put < MAX_MANIFEST_PUTS) return 'retry';
  return 'fail';
}

/** Writes the manifest if it is still as `seen` (null: absent). */
export async function publishManifest(
  target: S3Target,
  key: string,
  text: string,
  seen: PublishedManifest | null,
): Promise<PublishOutcome> {
  const condition: WriteCondition = seen ? { ifMatch: seen.etag } : { ifNoneMatch: '*' };
  for (let put = 1; ; put++) {
    try {
      const stored = await putText(target, key, text, 'application/json', condition);
      return { outcome: 'PUBLISHED', versionId: stored.versionId ?? null };
    } catch (error) {
      const status = httpStatusOf(error);
      const next = afterManifestPut(status, put);
      if (next === 'superseded') return await afterPreconditionFailed(target, key, text);
      if (next === 'fail' && status === 409) {
        throw new ManifestConflictError(
          `${key}: S3 answered 409 ConditionalRequestConflict ${put} times; expected another run's write to settle`,
        );
      }
      if (next === 'fail') throw error;
      // Full jitter: two runs retrying together should not collide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_MS * 2 ** put));
    }
  }
}

/**
 * A 412 is this run's own write when the manifest now holds exactly its bytes (they name its
 * attempt, so no other run writes them): the SDK retried a put whose answer was lost, and the
 * retry's condition failed on the object the first try stored. Otherwise another run published.
 */
async function afterPreconditionFailed(target: S3Target, key: string, text: string): Promise<PublishOutcome> {
  const base = 'another run published this report first (manifest changed while this one ran: HTTP 412)';
  // Naming the winner is a courtesy: the outcome stands if the manifest cannot be read.
  const current = await readCurrent(target, key).catch(() => null);
  if (current?.text === text) return { outcome: 'PUBLISHED', versionId: current.versionId ?? null };
  const winner = current?.text === undefined ? null : runIdOf(current.text);
  return { outcome: 'SUPERSEDED', reason: winner ? `${base}; the manifest names run ${winner}` : base };
}
