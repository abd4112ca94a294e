/**
 * Reading the archive bucket by key: every key under a prefix (listings are paged at 1,000), and
 * one object's bytes (the exact version, when one is given).
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

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
