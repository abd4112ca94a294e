/**
 * Writes to the archive bucket: streamed multipart uploads (lib-storage), small JSON objects, and
 * best-effort removal of objects a failed run had already completed.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
/**
 * Parts in flight per upload, each a fresh part-size Buffer, plus the one being filled. Two: the
 * originals go up after the extraction, when 4 in flight put 20-30 MB more on the archive step's
 * peak RSS (bench, stage (b)) for an upload that needs a few MB/s per GB of CSV.
 */
const QUEUE_SIZE = 2;

export interface S3Target {
  readonly s3: S3Client;
  readonly bucket: string;
  /** SSE-KMS with this key when set */
  readonly kmsKeyId?: string;
  readonly partSizeBytes?: number;
}

export interface StoredObject {
  readonly key: string;
  readonly versionId?: string;
}

function encryption(target: S3Target) {
  return target.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: target.kmsKeyId } : {};
}

/**
 * Starts a streamed upload. It completes only when `body` ends; a `body` destroyed with an error
 * aborts it (`leavePartsOnError: false`), so nothing partial is published. No `ChecksumAlgorithm`:
 * with a stream body the SDK would frame it as aws-chunked, which S3-compatible test servers store verbatim.
 */
export function uploadStream(
  target: S3Target,
  key: string,
  body: Readable,
  contentType: string,
): Promise<StoredObject> {
  const upload = new Upload({
    client: target.s3,
    params: { Bucket: target.bucket, Key: key, Body: body, ContentType: contentType, ...encryption(target) },
    partSize: target.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
  });
  return upload.done().then((output) => ({ key, versionId: output.VersionId }));
}

export function uploadFile(target: S3Target, key: string, path: string, contentType: string): Promise<StoredObject> {
  return uploadStream(target, key, createReadStream(path, { highWaterMark: 1024 * 1024 }), contentType);
}

export async function putText(target: S3Target, key: string, text: string, contentType: string): Promise<StoredObject> {
  const output = await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: text,
      ContentType: contentType,
      ...encryption(target),
    }),
  );
  return { key, versionId: output.VersionId };
}
