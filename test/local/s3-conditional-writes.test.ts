/**
 * The local S3's conditional writes (scripts/local/conditional-writes.ts), through the AWS SDK
 * over loopback: the answers S3 documents for If-None-Match and If-Match on PutObject and
 * CompleteMultipartUpload (412 PreconditionFailed, 404 NoSuchKey, 409 ConditionalRequestConflict).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STAGING_DIRECTORY } from '../../scripts/local/atomic-store.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

describe('the local S3 honours conditional writes', () => {
  let dir: string;
  let s3: LocalS3;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-s3-conditions-'));
    s3 = await startLocalS3(dir);
  });
  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (Key: string, Body: string, conditions: { IfNoneMatch?: string; IfMatch?: string } = {}) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body, ...conditions }));
  const read = async (Key: string) =>
    (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key }))).Body?.transformToString();
  /** the error the SDK raised, as its name and HTTP status */
  const failure = async (sent: Promise<unknown>) => {
    const error = await sent.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(S3ServiceException);
    const { name, $metadata } = error as S3ServiceException;
    return { name, status: $metadata.httpStatusCode };
  };

  it('If-None-Match: * writes a new key once; the second write fails with 412 and changes nothing', async () => {
    // Act
    const first = await put('m/once', 'first', { IfNoneMatch: '*' });
    const second = await failure(put('m/once', 'second', { IfNoneMatch: '*' }));
    // Assess
    expect(first.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(second).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await read('m/once')).toBe('first');
  });

  it('If-Match writes over the ETag it names; a stale ETag fails with 412, a missing key with 404', async () => {
    // Prepare
    const { ETag: stale } = await put('m/match', 'v1');
    const { ETag: current } = await put('m/match', 'v2');
    // Act
    const staleWrite = await failure(put('m/match', 'from a stale read', { IfMatch: stale }));
    const missing = await failure(put('m/absent', 'x', { IfMatch: current }));
    const matched = await put('m/match', 'v3', { IfMatch: current });
    // Assess
    expect(staleWrite).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(missing).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(matched.ETag).not.toBe(current);
    expect(await read('m/match')).toBe('v3');
  });

  it('CompleteMultipartUpload with If-None-Match: * fails with 412 on an existing key', async () => {
    // Prepare
    await put('m/multipart', 'already here');
    const { UploadId } = await s3.client.send(
      new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'm/multipart' }),
    );
    const part = await s3.client.send(
      new UploadPartCommand({ Bucket: s3.bucket, Key: 'm/multipart', UploadId, PartNumber: 1, Body: 'replacement' }),
    );
    // Act
    const completed = await failure(
      s3.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: s3.bucket,
          Key: 'm/multipart',
          UploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      ),
    );
    // Assess
    expect(completed).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await read('m/multipart')).toBe('already here');
  });

  /** A conditional write whose body is still streaming: half sent, past its conditions. */
  const conditionalInFlight = async (Key: string) => {
    const body = new PassThrough();
    const sent = s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key, Body: body, ContentLength: 10, IfNoneMatch: '*' }),
    );
    body.write('01234');
    // past the conditions once its bytes are being staged
    const staging = join(dir, STAGING_DIRECTORY);
    await vi.waitFor(async () => expect(await readdir(staging)).not.toEqual([]), { timeout: 10_000, interval: 20 });
    return { body, sent };
  };

  it('a conditional write while another one of the key is in flight fails with 409; the first lands', async () => {
    // Prepare
    const { body, sent: first } = await conditionalInFlight('m/race');
    // Act
    const second = await failure(put('m/race', 'other', { IfNoneMatch: '*' }));
    body.end('56789');
    await first;
    // Assess
    expect(second).toEqual({ name: 'ConditionalRequestConflict', status: 409 });
    expect(await read('m/race')).toBe('0123456789');
  });
});
