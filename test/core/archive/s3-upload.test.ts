import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadFile } from '../../../lambdas/core/archive/s3-upload.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB; // S3's smallest part

describe('uploadFile', () => {
  const s3 = mockClient(S3Client);
  let tmpDir: string;
  let path: string;
  beforeEach(async () => {
    s3.reset();
    tmpDir = await mkdtemp(join(tmpdir(), 's3-upload-'));
    path = join(tmpDir, 'report.zip');
    await writeFile(path, randomBytes(6 * PART + 123));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v1' });
    s3.on(AbortMultipartUploadCommand).resolves({});
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  /** Parts take a while to upload; records how many were in flight at once. */
  function slowParts(failPart?: number) {
    const seen = { inFlight: 0, most: 0, bytes: 0 };
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber: number; Body: Uint8Array }) => {
      seen.inFlight++;
      seen.most = Math.max(seen.most, seen.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 15));
      seen.inFlight--;
      if (input.PartNumber === failPart) throw new Error('part rejected');
      seen.bytes += input.Body.byteLength;
      return { ETag: `"etag-${input.PartNumber}"` };
    });
    return seen;
  }

  it('uploads a file in parts, at most two in flight (each is a part-size Buffer)', async () => {
    const seen = slowParts();
    const target = { s3: new S3Client({ region: 'eu-west-1' }), bucket: 'archive', partSizeBytes: PART };
    const stored = await uploadFile(target, 'vendor=v/original/report.zip', path, 'application/zip');
    expect(stored).toEqual({ key: 'vendor=v/original/report.zip', versionId: 'v1' });
    expect(seen.bytes).toBe(6 * PART + 123);
    expect(seen.most).toBe(2);
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(complete.MultipartUpload?.Parts?.map((part) => part.PartNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('aborts the upload when a part fails, leaving nothing behind', async () => {
    slowParts(3);
    const target = { s3: new S3Client({ region: 'eu-west-1' }), bucket: 'archive', partSizeBytes: PART };
    await expect(uploadFile(target, 'k', path, 'application/zip')).rejects.toThrow(/part rejected/);
    expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });
});
