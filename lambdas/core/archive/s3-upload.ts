/**
 * Writes to the archive bucket: multipart uploads from a file or a stream, and small JSON objects.
 *
 * Multipart uploads follow lib-storage's protocol (one PutObject when everything fits in one part;
 * otherwise CreateMultipartUpload, UploadPart, CompleteMultipartUpload with every part's ETag and
 * checksum; AbortMultipartUpload on any failure), but fill a fixed set of part buffers used in turn.
 * lib-storage copies every part into a fresh Buffer, which V8 frees only at its next collection:
 * while the originals uploaded after the extraction, when little JavaScript runs, dead parts piled
 * up to tens of MB, and the archive step's peak RSS grew with the report's size (bench, stage (b)).
 *
 * Part buffers come from a `PartBuffers` pool that one run's uploads share. A stream upload can be
 * staged (`stageStream`): every part sent, nothing published, its buffers back in the pool. The
 * archive step stages its data object, uploads the originals from the same buffers, then completes.
 *
 * Every object is published write-once (`If-None-Match: *` on the PutObject or the completion):
 * its key is its attempt's own, so S3 answering 412 means another writer already holds the key,
 * which only a bug or a collision of attempt ids explains, and the run stops with
 * `ObjectExistsError` rather than replace bytes a manifest may name. The one key written with
 * another condition is the manifest (`putText`, see `publish.ts`).
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
import { ArchiveError } from '../errors.ts';

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
  /** part buffers (and so the part size) shared by the uploads to this target; default: each upload its own, of 8 MiB */
  readonly parts?: PartBuffers;
}

/**
 * Part buffers of one size, lent to uploads and returned once their parts are uploaded. A buffer
 * whose part failed is not returned: the request may still be reading it.
 */
export class PartBuffers {
  private readonly spare: Buffer[] = [];

  constructor(readonly partSize: number = DEFAULT_PART_SIZE_BYTES) {
    if (partSize < MIN_PART_SIZE_BYTES) {
      throw new Error(`part size ${partSize} is below S3's minimum of ${MIN_PART_SIZE_BYTES} bytes`);
    }
  }

  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.partSize);
  }

  give(buffer: Buffer): void {
    this.spare.push(buffer);
  }
}

/** A stream upload with every part sent and nothing published yet. */
export interface StagedUpload {
  /** publishes the object (CompleteMultipartUpload, or PutObject for one part) */
  complete(): Promise<StoredObject>;
  /** drops what was sent (AbortMultipartUpload); nothing after `complete()` */
  abort(): Promise<void>;
}

export interface StoredObject {
  readonly key: string;
  readonly versionId?: string;
}

/** A write-once key already holds an object (S3 answered 412 to `If-None-Match: *`). */
export class ObjectExistsError extends ArchiveError {
  override readonly name = 'ObjectExistsError';
  readonly retryable = false;
}

/** The condition of a write: a first write (`*`), or a replacement of the object with this ETag. */
export type WriteCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string };

/** The HTTP status of an S3 client error, if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return metadata?.httpStatusCode;
}

/** Sends a write-once request, naming the error when the key was taken. */
async function writeOnce<T>(key: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (httpStatusOf(error) !== 412) throw error;
    throw new ObjectExistsError(
      `${key} already holds an object (HTTP 412 to If-None-Match: *); expected a key of this attempt's own, written once`,
    );
  }
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
  const staged = await stageStream(target, key, body, contentType);
  try {
    return await staged.complete();
  } catch (error) {
    await staged.abort();
    throw error;
  }
}

/**
 * Sends `body` as parts as it is read, and resolves once it ended and every part is uploaded,
 * with the part buffers back in the pool. The object appears only at `complete()`; the caller
 * must call `abort()` if it does not complete. On a failure before that, the upload is aborted
 * here and `body` destroyed.
 */
export async function stageStream(
  target: S3Target,
  key: string,
  body: Readable,
  contentType: string,
): Promise<StagedUpload> {
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
    await upload.stage(part, used);
    return upload;
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
      if (used < part.length || position >= size) {
        await upload.stage(part, used);
        return await upload.complete();
      }
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
 * fills a buffer from `buffer()`, hands it to `send()`, ends with `stage()` then `complete()`, or
 * with `abort()`.
 */
class PartUpload implements StagedUpload {
  private readonly pool: PartBuffers;
  /** buffers taken from the pool and not given back */
  private taken = 0;
  /** of those, the ones no part is using */
  private readonly spare: Buffer[] = [];
  private readonly uploading = new Set<Promise<void>>();
  private readonly parts: CompletedPart[] = [];
  private partNumber = 0;
  private created?: Promise<string>;
  private failure?: { error: unknown };
  /** the whole object when it fits in one part: sent by `complete()` as a PutObject */
  private single?: { readonly buffer: Buffer; readonly length: number };
  private state: 'sending' | 'staged' | 'completing' | 'completed' | 'aborted' = 'sending';

  constructor(
    private readonly target: S3Target,
    private readonly key: string,
    private readonly contentType: string,
  ) {
    this.pool = target.parts ?? new PartBuffers();
  }

  /** An empty part buffer; waits while every buffer is uploading. */
  async buffer(): Promise<Buffer> {
    for (;;) {
      this.throwIfFailed();
      const spare = this.spare.pop();
      if (spare) return spare;
      if (this.taken < PARTS_IN_FLIGHT + 1) {
        this.taken++;
        return this.pool.take();
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
      throw new Error(`${this.key} needs more than ${MAX_PARTS} parts of ${this.pool.partSize} bytes`);
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

  /**
   * Sends what is left (`last[0, length)`) and waits for every part; gives the buffers back. An
   * object of one part keeps its buffer until `complete()`.
   */
  async stage(last: Buffer, length: number): Promise<void> {
    if (this.partNumber === 0) {
      this.single = { buffer: last, length };
    } else if (length > 0) {
      await this.send(last, length);
    }
    await Promise.all(this.uploading);
    this.throwIfFailed();
    this.state = 'staged';
    this.release();
  }

  async complete(): Promise<StoredObject> {
    if (this.state !== 'staged') throw new Error(`upload of ${this.key} is ${this.state}, not staged`);
    this.state = 'completing'; // a failure below leaves it to abort()
    const { s3, bucket } = this.target;
    let versionId: string | undefined;
    const single = this.single;
    if (single) {
      const body = single.buffer.subarray(0, single.length);
      ({ VersionId: versionId } = await writeOnce(this.key, () =>
        s3.send(new PutObjectCommand({ ...this.objectParams(), Body: body, IfNoneMatch: '*' })),
      ));
      this.single = undefined;
      this.pool.give(single.buffer);
    } else {
      const parts = [...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
      const uploadId = await this.uploadId();
      ({ VersionId: versionId } = await writeOnce(this.key, () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: this.key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: '*',
          }),
        ),
      ));
    }
    this.state = 'completed';
    return { key: this.key, versionId };
  }

  /** Stops: waits for parts under way, then aborts the multipart upload if one was started. */
  async abort(): Promise<void> {
    if (this.state === 'completed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.failure ??= { error: new Error('upload aborted') };
    this.single = undefined;
    await Promise.allSettled(this.uploading);
    this.release();
    if (!this.created) return;
    const uploadId = await this.created.catch(() => undefined);
    if (uploadId === undefined) return;
    await this.target.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.key, UploadId: uploadId }))
      .catch(() => undefined); // best effort: a bucket lifecycle rule removes incomplete uploads
  }

  /** Gives the idle buffers back to the pool; one a failed part may still be read from is dropped. */
  private release(): void {
    for (const buffer of this.spare) this.pool.give(buffer);
    this.spare.length = 0;
    this.taken = 0;
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

/** A small object (text, or bytes such as a signature) written under `condition`; the caller reads S3's 412 and 409 answers. */
export async function putText(
  target: S3Target,
  key: string,
  text: string | Uint8Array,
  contentType: string,
  condition: WriteCondition,
): Promise<StoredObject> {
  const output = await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: text,
      ContentType: contentType,
      ...encryption(target),
      ...('ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: condition.ifNoneMatch }),
    }),
  );
  return { key, versionId: output.VersionId };
}

/**
 * One try at creating `key` if it is absent (`If-None-Match: *`): `CREATED`; `EXISTS` on S3's 412;
 * `CONFLICT` on 409 (another conditional write of the key in flight), which the caller may try again.
 */
export async function createOnce(
  target: S3Target,
  key: string,
  text: string,
  contentType: string,
): Promise<'CREATED' | 'EXISTS' | 'CONFLICT'> {
  try {
    await putText(target, key, text, contentType, { ifNoneMatch: '*' });
    return 'CREATED';
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 412) return 'EXISTS';
    if (status === 409) return 'CONFLICT';
    throw error;
  }
}
