import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartBuffers, stageStream, uploadFile, uploadStream } from '../../../lambdas/core/archive/s3-upload.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB; // S3's smallest part

function crc(data: Buffer): string {
  return createHash('md5').update(data).digest('base64'); // any per-part value S3 would echo back
}

describe('multipart uploads', () => {
  const s3 = mockClient(S3Client);
  // the mock patches the SDK class itself: undo that for the next file in this worker
  afterAll(() => s3.restore());
  let tmpDir: string;
  beforeEach(async () => {
    s3.reset();
    tmpDir = await mkdtemp(join(tmpdir(), 's3-upload-'));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v-multi' });
    s3.on(PutObjectCommand).resolves({ VersionId: 'v-single' });
    s3.on(AbortMultipartUploadCommand).resolves({});
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  function target(checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' = 'WHEN_REQUIRED') {
    return {
      s3: new S3Client({ region: 'eu-west-1', requestChecksumCalculation: checksums }),
      bucket: 'archive',
      kmsKeyId: 'key-1',
      parts: new PartBuffers(PART),
    };
  }

  async function file(bytes: number): Promise<{ path: string; data: Buffer }> {
    const data = randomBytes(bytes);
    const path = join(tmpDir, `f-${bytes}`);
    await writeFile(path, data);
    return { path, data };
  }

  /**
   * S3 taking a while per part. Records what each part held when it was sent and checks that its
   * buffer was not touched before the part finished; counts parts in flight and distinct buffers.
   */
  function slowParts(failPart?: number) {
    const seen = {
      inFlight: 0,
      most: 0,
      sent: new Map<number, Buffer>(),
      buffers: new Set<ArrayBufferLike>(),
      overwritten: 0,
    };
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber: number; Body: Buffer }) => {
      const copy = Buffer.from(input.Body);
      seen.buffers.add(input.Body.buffer);
      seen.inFlight++;
      seen.most = Math.max(seen.most, seen.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 15));
      seen.inFlight--;
      if (!copy.equals(input.Body)) seen.overwritten++;
      if (input.PartNumber === failPart) throw new Error('part rejected');
      seen.sent.set(input.PartNumber, copy);
      return { ETag: `"etag-${input.PartNumber}"`, ChecksumCRC32: crc(copy) };
    });
    return seen;
  }

  function uploaded(seen: ReturnType<typeof slowParts>): Buffer {
    return Buffer.concat([...seen.sent.keys()].sort((a, b) => a - b).map((n) => seen.sent.get(n)!));
  }

  it('uploads a file in parts from three reused buffers, two parts in flight', async () => {
    const { path, data } = await file(6 * PART + 123);
    const seen = slowParts();
    const stored = await uploadFile(target(), 'vendor=v/original/report.zip', path, 'application/zip');
    expect(stored).toEqual({ key: 'vendor=v/original/report.zip', versionId: 'v-multi' });
    expect(uploaded(seen).equals(data)).toBe(true);
    expect(seen.overwritten).toBe(0);
    expect(seen.most).toBe(2);
    expect(seen.buffers.size).toBe(3);
    const create = s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input;
    expect(create).toMatchObject({
      Bucket: 'archive',
      Key: 'vendor=v/original/report.zip',
      ContentType: 'application/zip',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'key-1',
    });
    expect(create.ChecksumAlgorithm).toBeUndefined();
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(complete.UploadId).toBe('upload-1');
    expect(complete.MultipartUpload?.Parts?.map((part) => part.PartNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('declares CRC32 and lists every part checksum when the client checksums what it sends', async () => {
    const { path } = await file(2 * PART + 1);
    const seen = slowParts();
    await uploadFile(target('WHEN_SUPPORTED'), 'k', path, 'application/zip');
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input.ChecksumAlgorithm).toBe('CRC32');
    const parts = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload?.Parts;
    expect(parts).toEqual(
      [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"etag-${n}"`, ChecksumCRC32: crc(seen.sent.get(n)!) })),
    );
  });

  it('puts a file of one part, or none, as a single object', async () => {
    for (const bytes of [0, 1000, PART]) {
      s3.resetHistory();
      const { path, data } = await file(bytes);
      const stored = await uploadFile(target(), `k-${bytes}`, path, 'application/zip');
      expect(stored.versionId).toBe('v-single');
      const put = s3.commandCalls(PutObjectCommand);
      expect(put).toHaveLength(1);
      expect(Buffer.from(put[0]!.args[0].input.Body as Buffer).equals(data)).toBe(true);
      expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    }
  });

  it('sends no empty last part when a file is an exact number of parts', async () => {
    const { path, data } = await file(3 * PART);
    const seen = slowParts();
    await uploadFile(target(), 'k', path, 'application/zip');
    expect(uploaded(seen).equals(data)).toBe(true);
    expect([...seen.sent.keys()].sort()).toEqual([1, 2, 3]);
  });

  it('uploads a stream of uneven chunks in order', async () => {
    const data = randomBytes(4 * PART + 777);
    const chunks: Buffer[] = [];
    for (let offset = 0, i = 0; offset < data.length; i++) {
      const size = [1, 65536, 3 * MiB + 5, 100][i % 4]!;
      chunks.push(data.subarray(offset, offset + size));
      offset += size;
    }
    const seen = slowParts();
    const stored = await uploadStream(target(), 'data.jsonl.gz', Readable.from(chunks), 'application/x-ndjson');
    expect(stored.versionId).toBe('v-multi');
    expect(uploaded(seen).equals(data)).toBe(true);
    expect(seen.overwritten).toBe(0);
    expect(seen.most).toBeLessThanOrEqual(2);
  });

  it('puts a stream of exactly one part as a single object', async () => {
    const data = randomBytes(PART);
    const stored = await uploadStream(
      target(),
      'k',
      Readable.from([data.subarray(0, 100), data.subarray(100)]),
      'text/plain',
    );
    expect(stored.versionId).toBe('v-single');
    expect(Buffer.from(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as Buffer).equals(data)).toBe(true);
  });

  it('aborts when a part fails, and completes nothing', async () => {
    const { path } = await file(6 * PART);
    slowParts(3);
    await expect(uploadFile(target(), 'k', path, 'application/zip')).rejects.toThrow(/part rejected/);
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'archive',
      Key: 'k',
      UploadId: 'upload-1',
    });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts when the stream fails midway, and completes nothing', async () => {
    slowParts();
    const body = new Readable({ read() {} });
    body.push(randomBytes(2 * PART + 10));
    setTimeout(() => body.destroy(new Error('gzip failed')), 30);
    await expect(uploadStream(target(), 'k', body, 'application/x-ndjson')).rejects.toThrow(/gzip failed/);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('stages a stream: every part sent, nothing published until complete()', async () => {
    const data = randomBytes(3 * PART + 5);
    const seen = slowParts();
    const staged = await stageStream(target(), 'k', Readable.from([data]), 'application/x-ndjson');
    expect(uploaded(seen).equals(data)).toBe(true);
    expect(seen.inFlight).toBe(0);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    const stored = await staged.complete();
    expect(stored.versionId).toBe('v-multi');
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(1);
    await staged.abort(); // after completion: nothing to drop
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('holds a staged object of one part back until complete()', async () => {
    const staged = await stageStream(target(), 'k', Readable.from([Buffer.from('one line\n')]), 'text/plain');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    await staged.complete();
    expect(Buffer.from(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as Buffer).toString()).toBe(
      'one line\n',
    );
  });

  it('aborts a staged upload that is dropped instead of completed', async () => {
    slowParts();
    const staged = await stageStream(target(), 'k', Readable.from([randomBytes(2 * PART)]), 'text/plain');
    await staged.abort();
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    await expect(staged.complete()).rejects.toThrow(/aborted, not staged/);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts when completing fails', async () => {
    slowParts();
    s3.on(CompleteMultipartUploadCommand).rejects(new Error('InvalidPart'));
    await expect(uploadStream(target(), 'k', Readable.from([randomBytes(2 * PART)]), 'text/plain')).rejects.toThrow(
      /InvalidPart/,
    );
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it("lends a staged upload's part buffers to the next upload of the same pool", async () => {
    const seen = slowParts();
    const parts = new PartBuffers(PART);
    const shared = { ...target(), parts };
    const staged = await stageStream(shared, 'data', Readable.from([randomBytes(4 * PART + 1)]), 'text/plain');
    expect(seen.buffers.size).toBe(3);
    const { path, data } = await file(5 * PART);
    seen.sent.clear();
    await uploadFile(shared, 'original', path, 'application/zip');
    await staged.complete();
    expect(uploaded(seen).equals(data)).toBe(true);
    expect(seen.overwritten).toBe(0);
    expect(seen.buffers.size).toBe(3); // the file went up through the data upload's buffers
  });

  it('does not lend a buffer whose part failed', async () => {
    slowParts(2);
    const parts = new PartBuffers(PART);
    const { path } = await file(4 * PART);
    await expect(uploadFile({ ...target(), parts }, 'k', path, 'application/zip')).rejects.toThrow(/part rejected/);
    const lent = new Set([parts.take(), parts.take(), parts.take()].map((buffer) => buffer.buffer));
    const bodyOf = (n: number) =>
      (
        s3.commandCalls(UploadPartCommand).find((call) => call.args[0].input.PartNumber === n)!.args[0].input
          .Body as Buffer
      ).buffer;
    const sent = s3.commandCalls(UploadPartCommand).map((call) => call.args[0].input.PartNumber!);
    // a buffer whose part went up is lent again; the failed part's is not
    expect(sent.filter((n) => n !== 2).some((n) => lent.has(bodyOf(n)))).toBe(true);
    expect(lent.has(bodyOf(2))).toBe(false);
  });

  it("refuses a part size below S3's minimum", () => {
    expect(() => new PartBuffers(5 * MiB - 1)).toThrow(/below S3's minimum/);
  });
});
