/**
 * The publication log: one small object per manifest version published, at a key that sorts by
 * the time it was written, so the next digest finds what it must cover by listing after the last
 * key the previous digest covered (a listing of the day's publications, not of the archive).
 *
 *   publications/<yyyy-mm-ddThh-mm-ss.sssZ>-<8 hex>.json   {manifest_key, version_id, sha256, bytes}
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { httpStatusOf, putText } from '../core/archive/s3-upload.ts';
import { readBytes } from '../core/s3-objects.ts';

export const PUBLICATIONS_PREFIX = 'publications/';

export const PublicationSchema = z
  .object({
    manifest_key: z.string().min(1),
    /** the manifest's S3 version; null where the store has no versioning (the local S3) */
    version_id: z.string().min(1).nullable(),
    /** SHA-256 of the manifest's bytes as written */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().nonnegative(),
  })
  .strict();

export type Publication = z.infer<typeof PublicationSchema>;

/** The log key for a publication written at `at`: ISO time with `:` made key-safe, then a random tag. */
export function publicationKey(at: Date, tag: string = randomBytes(4).toString('hex')): string {
  return `${PUBLICATIONS_PREFIX}${at.toISOString().replace(/:/g, '-')}-${tag}.json`;
}

/** The time a publication key was written (its first 24 characters after the prefix). */
export function publicationTime(key: string): Date {
  const stamp = key.slice(PUBLICATIONS_PREFIX.length, PUBLICATIONS_PREFIX.length + 24);
  const iso = `${stamp.slice(0, 13)}:${stamp.slice(14, 16)}:${stamp.slice(17)}`;
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) throw new Error(`not a publication key: ${JSON.stringify(key)}`);
  return time;
}

export interface PublicationTarget {
  readonly s3: S3Client;
  readonly bucket: string;
  /** SSE-KMS with this key when set */
  readonly kmsKeyId?: string;
  readonly now: () => Date;
}

/**
 * Logs one published manifest version; written once (If-None-Match), never replaced. A 412 over
 * exactly these bytes is this call's own put, retried by the SDK after its answer was lost.
 */
export async function recordPublication(target: PublicationTarget, publication: Publication): Promise<string> {
  const key = publicationKey(target.now());
  const body = `${JSON.stringify(PublicationSchema.parse(publication))}\n`;
  try {
    await putText(target, key, body, 'application/json', { ifNoneMatch: '*' });
  } catch (error) {
    if (!(await holds(target, key, body, error))) throw error;
  }
  return key;
}

/** Whether `error` is a 412 on a key that holds exactly `body`. */
async function holds(target: PublicationTarget, key: string, body: string, error: unknown): Promise<boolean> {
  if (httpStatusOf(error) !== 412) return false;
  const stored = await readBytes(target, key).then(
    (bytes) => bytes.toString('utf8'),
    () => undefined,
  );
  return stored === body;
}
