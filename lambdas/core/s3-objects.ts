/**
 * Reading the archive bucket by key: every key under a prefix (listings are paged at 1,000), one
 * object's bytes (the exact version, when one is given), and whether a failed read means absent.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf } from './archive/s3-upload.ts';

export interface BucketReader {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Every key under `prefix`, sorted; with `startAfter`, only the keys after it. */
export async function listKeys(reader: BucketReader, prefix: string, startAfter?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await reader.s3.send(
      new ListObjectsV2Command({
        Bucket: reader.bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
      }),
    );
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** One object's bytes, read whole: for the small objects (manifests, digests, log entries) only. */
export async function readBytes(reader: BucketReader, key: string, versionId?: string): Promise<Buffer> {
  const output = await reader.s3.send(
    new GetObjectCommand({ Bucket: reader.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
  );
  return Buffer.from((await output.Body?.transformToByteArray()) ?? new Uint8Array());
}

/**
 * Whether a GET of `key` that failed with `error` means the object does not exist. S3 answers 404
 * only to a caller allowed to list the bucket, and the pipeline's roles may list only their own
 * prefixes (an `s3:prefix` condition, which a GET request does not carry), so a missing object
 * may answer 403. A 403 is therefore checked with a listing of exactly that key, which those roles
 * may make: absent only when the listing does not show it.
 */
export async function isAbsent(reader: BucketReader, key: string, error: unknown): Promise<boolean> {
  const status = httpStatusOf(error);
  if (status === 404) return true;
  if (status !== 403) return false;
  try {
    const page = await reader.s3.send(new ListObjectsV2Command({ Bucket: reader.bucket, Prefix: key, MaxKeys: 1 }));
    return !(page.Contents ?? []).some((object) => object.Key === key);
  } catch {
    return false;
  }
}
