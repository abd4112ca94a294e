/**
 * The local S3 (scripts/local/s3.ts) as the plan step lists manifests: a listing of more than one
 * page comes back whole (s3rver's continuation tokens need the legacy OpenSSL provider).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

describe('startLocalS3', () => {
  let dir: string;
  let s3: LocalS3;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-s3-'));
    s3 = await startLocalS3(dir);
  });
  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists a prefix page by page with continuation tokens', async () => {
    // Prepare
    const keys = ['m/1', 'm/2', 'm/3', 'm/4', 'm/5'];
    for (const key of keys) await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: key }));
    // Act
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await s3.client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'm/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages.push((page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // Assess
    expect(pages).toEqual([['m/1', 'm/2'], ['m/3', 'm/4'], ['m/5']]);
  });
});
