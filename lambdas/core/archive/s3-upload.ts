/**
 * Writes to the archive bucket: multipart uploads from a file or a stream, and small JSON objects.
 *
 * Multipart uploads follow lib-storage's protocol (one PutObject when everything fits in one part;
 * otherwise CreateMultipartUpload, UploadPart, CompleteMultipartUpload with every part's ETag and
 * checksum; AbortMultipartUpload on any failure), but fill a fixed set of part buffers used in turn.
 * lib-storage copies every part into a fresh Buffer, which V8 frees only at its next collection:
 * while the originals uploaded after the extraction, when little JavaScript runs, dead parts piled
 * up to tens of MB, and the archive step's peak RSS grew with the report's size (bench, stage (b)).
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
/** S3's smallest part (all but the last) */
const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Parts uploading at once; one more buffer is being filled meanwhile. */
const PARTS_IN_FLIGHT = 2;

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
 * Uploads `body` as it is read; completes when it ends. A `body` destroyed with an error aborts
 * the upload, so nothing partial is published. Checksums follow the client's own setting: parts
 * are Buffers, which the SDK checksums as they are (a stream body would be framed as aws-chunked,
 * which S3-compatible test servers store verbatim).
 */
export async function uploadStream(
  target: S3Target,
  key: string,
  body: Readable,
  contentType: string,
): Promise<StoredObject> {
  const upload = new PartUpload(target, key, contentType);
  try {
    let part = await upload.buffer();
    let used = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        // A full part goes only once more data follows: the last part may be a full one.
        if (used === part.length) {
          await upload.send(part, used);
          part = await upload.buffer();
          used = 0;
        }
        const n = chunk.copy(part, used, offset);
        used += n;
        offset += n;
      }
    }
    return await upload.finish(part, used);
  } catch (error) {
    await upload.abort();
    body.destroy();
    throw error;
  }
}

/** Uploads the file at `path`, reading each part straight into its buffer. */
export async function uploadFile(
  target: S3Target,
  key: string,
  path: string,
  contentType: string,
): Promise<StoredObject> {
  const upload = new PartUpload(target, key, contentType);
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    let position = 0;
    for (;;) {
      const part = await upload.buffer();
      const used = await readFully(fh, part, position);
      position += used;
      if (used < part.length || position >= size) return await upload.finish(part, used);
      await upload.send(part, used);
    }
  } catch (error) {
    await upload.abort();
    throw error;
  } finally {
    await fh?.close();
  }
}

async function readFully(fh: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let used = 0;
  while (used < buffer.length) {
    const { bytesRead } = await fh.read(buffer, used, buffer.length - used, position + used);
    if (bytesRead === 0) break;
    used += bytesRead;
  }
  return used;
}

/**
 * One object's upload from part buffers that are reused once their part is uploaded. The caller
 * fills a buffer from `buffer()`, hands it to `send()`, and ends with `finish()` (or `abort()`).
 */
class PartUpload {
  private readonly partSize: number;
  private readonly spare: Buffer[] = [];
  private buffers = 0;
  private readonly uploading = new Set<Promise<void>>();
  private readonly parts: CompletedPart[] = [];
  private partNumber = 0;
  private created?: Promise<string>;
  private failure?: { error: unknown };

  constructor(
    private readonly target: S3Target,
    private readonly key: string,
    private readonly contentType: string,
  ) {
    this.partSize = target.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    if (this.partSize < MIN_PART_SIZE_BYTES) {
      throw new Error(`part size ${this.partSize} is below S3's minimum of ${MIN_PART_SIZE_BYTES} bytes`);
    }
  }

  /** An empty part buffer; waits while every buffer is uploading. */
  async buffer(): Promise<Buffer> {
    for (;;) {
      this.throwIfFailed();
      const spare = this.spare.pop();
      if (spare) return spare;
      if (this.buffers < PARTS_IN_FLIGHT + 1) {
        this.buffers++;
        return Buffer.allocUnsafe(this.partSize);
      }
      await Promise.race(this.uploading);
    }
  }

  /**
   * Starts uploading `part[0, length)` as the next part (a full one: only the last may be
   * smaller), once fewer than PARTS_IN_FLIGHT are under way.
   */
  async send(part: Buffer, length: number): Promise<void> {
    while (this.uploading.size >= PARTS_IN_FLIGHT) {
      this.throwIfFailed();
      await Promise.race(this.uploading);
    }
    this.throwIfFailed();
    const partNumber = ++this.partNumber;
    if (partNumber > MAX_PARTS)
      throw new Error(`${this.key} needs more than ${MAX_PARTS} parts of ${this.partSize} bytes`);
    const uploading: Promise<void> = this.uploadPart(partNumber, part.subarray(0, length)).then(
      (completed) => {
        this.parts.push(completed);
        this.spare.push(part);
      },
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    this.uploading.add(uploading);
    void uploading.finally(() => this.uploading.delete(uploading));
  }

  /** Uploads what is left and completes the object. */
  async finish(last: Buffer, length: number): Promise<StoredObject> {
    const { s3, bucket } = this.target;
    if (this.partNumber === 0) {
      const output = await s3.send(new PutObjectCommand({ ...this.objectParams(), Body: last.subarray(0, length) }));
      return { key: this.key, versionId: output.VersionId };
    }
    if (length > 0) await this.send(last, length);
    await Promise.all(this.uploading);
    this.throwIfFailed();
    const parts = [...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
    const output = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: this.key,
        UploadId: await this.uploadId(),
        MultipartUpload: { Parts: parts },
      }),
    );
    return { key: this.key, versionId: output.VersionId };
  }

  /** Stops: waits for parts under way, then aborts the multipart upload if one was started. */
  async abort(): Promise<void> {
    this.failure ??= { error: new Error('upload aborted') };
    await Promise.allSettled(this.uploading);
    if (!this.created) return;
    const uploadId = await this.created.catch(() => undefined);
    if (uploadId === undefined) return;
    await this.target.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.key, UploadId: uploadId }))
      .catch(() => undefined); // best effort: a bucket lifecycle rule removes incomplete uploads
  }

  private async uploadPart(partNumber: number, body: Buffer): Promise<CompletedPart> {
    const output = await this.target.s3.send(
      new UploadPartCommand({
        Bucket: this.target.bucket,
        Key: this.key,
        UploadId: await this.uploadId(),
        PartNumber: partNumber,
        Body: body,
      }),
    );
    if (!output.ETag) throw new Error(`part ${partNumber} of ${this.key}: S3 returned no ETag`);
    return {
      PartNumber: partNumber,
      ETag: output.ETag,
      ...(output.ChecksumCRC32 && { ChecksumCRC32: output.ChecksumCRC32 }),
      ...(output.ChecksumCRC32C && { ChecksumCRC32C: output.ChecksumCRC32C }),
      ...(output.ChecksumCRC64NVME && { ChecksumCRC64NVME: output.ChecksumCRC64NVME }),
      ...(output.ChecksumSHA1 && { ChecksumSHA1: output.ChecksumSHA1 }),
      ...(output.ChecksumSHA256 && { ChecksumSHA256: output.ChecksumSHA256 }),
    };
  }

  private uploadId(): Promise<string> {
    this.created ??= (async () => {
      // As lib-storage: when the client checksums what it sends, the upload is declared CRC32, so
      // that S3 accepts the parts' checksums and the completion listing them.
      const checksums = await this.target.s3.config.requestChecksumCalculation();
      const output = await this.target.s3.send(
        new CreateMultipartUploadCommand({
          ...this.objectParams(),
          ...(checksums === 'WHEN_SUPPORTED' ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
        }),
      );
      if (!output.UploadId) throw new Error(`S3 started no multipart upload for ${this.key}`);
      return output.UploadId;
    })();
    return this.created;
  }

  private objectParams() {
    return { Bucket: this.target.bucket, Key: this.key, ContentType: this.contentType, ...encryption(this.target) };
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
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
