/**
 * The local S3's objects appear whole or not at all (scripts/local/atomic-store.ts): a body cut
 * off mid-stream leaves nothing, and what a killed process left half-moved is finished or undone
 * when the next local S3 starts on the directory.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STAGING_DIRECTORY } from '../../scripts/local/atomic-store.ts';
import { LOCAL_BUCKET, type LocalS3, S3RVER_SUFFIX, startLocalS3 } from '../../scripts/local/s3.ts';

describe('the local S3 writes objects atomically', () => {
  let dir: string;
  let s3: LocalS3 | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-s3-atomic-'));
  });
  afterEach(async () => {
    await s3?.close();
    s3 = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const staged = async () => readdir(join(dir, STAGING_DIRECTORY)).catch(() => []);
  const objectFiles = async () =>
    (await readdir(join(dir, LOCAL_BUCKET), { recursive: true })).filter((name) => name.endsWith(S3RVER_SUFFIX));

  it('a PUT whose connection drops mid-body leaves no object, on disk or in a listing', async () => {
    // Prepare
    s3 = await startLocalS3(dir);
    const url = new URL(`${s3.endpoint}/${s3.bucket}/manifests/manifest.json`);
    const put = request(url, { method: 'PUT', headers: { 'content-length': '1000' } });
    put.on('error', () => {}); // the connection is cut on purpose
    put.write(Buffer.alloc(100, 'x'));
    // Act: cut it once the server is writing the body (staged, or in place as s3rver alone does)
    const writing = async () => (await staged()).length + (await objectFiles()).length;
    await vi.waitFor(async () => expect(await writing()).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    put.destroy();
    await vi.waitFor(async () => expect(await staged()).toEqual([]), { timeout: 10_000, interval: 20 });
    // Assess
    const head = s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'manifests/manifest.json' }));
    await expect(head).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    expect(listed.KeyCount).toBe(0);
    expect(await objectFiles()).toEqual([]);
  });

  it('a copy is written as a new object: bytes, ETag and metadata of its source, or the metadata it replaces', async () => {
    // Prepare
    s3 = await startLocalS3(dir);
    const client = s3.client;
    const source = await client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: 'c/source', Body: 'copied bytes', ContentType: 'text/source' }),
    );
    // Act
    const copy = (Key: string, replaced?: string) =>
      client.send(
        new CopyObjectCommand({
          Bucket: LOCAL_BUCKET,
          Key,
          CopySource: `${LOCAL_BUCKET}/c/source`,
          ...(replaced ? { MetadataDirective: 'REPLACE', ContentType: replaced } : {}),
        }),
      );
    await copy('c/kept');
    await copy('c/replaced', 'text/replaced');
    // Assess
    const get = async (Key: string) => {
      const got = await client.send(new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key }));
      return { body: await got.Body?.transformToString(), type: got.ContentType, etag: got.ETag };
    };
    expect(await get('c/kept')).toEqual({ body: 'copied bytes', type: 'text/source', etag: source.ETag });
    expect(await get('c/replaced')).toEqual({ body: 'copied bytes', type: 'text/replaced', etag: source.ETag });
    expect(await staged()).toEqual([]);
  });

  it('at start, finishes a write killed after its object moved in, and drops one killed before', async () => {
    // Prepare: two objects, then what a kill leaves of an overwrite of each
    s3 = await startLocalS3(dir);
    const send = (Key: string, Body: string, ContentType: string) =>
      s3?.client.send(new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key, Body, ContentType }));
    await send('k/committed', 'old bytes', 'text/old');
    await send('k/uncommitted', 'kept bytes', 'text/kept');
    const newEtag = (await send('k/etag-of-new', 'new bytes', 'text/new'))?.ETag;
    await s3.close();
    const bucketDir = join(dir, LOCAL_BUCKET, 'k');
    // killed between moving the object in and moving its metadata and MD5
    const committed = join(dir, STAGING_DIRECTORY, 'aaaa');
    await mkdir(committed, { recursive: true });
    await writeFile(join(committed, 'target.json'), JSON.stringify({ bucket: LOCAL_BUCKET, key: 'k/committed' }));
    await writeFile(join(committed, 'metadata.json'), JSON.stringify({ 'content-type': 'text/new' }));
    await writeFile(join(committed, 'object.md5'), String(newEtag).replaceAll('"', ''));
    await writeFile(join(bucketDir, `committed${S3RVER_SUFFIX}`), 'new bytes');
    // killed while the body was still being written
    const uncommitted = join(dir, STAGING_DIRECTORY, 'bbbb');
    await mkdir(uncommitted, { recursive: true });
    await writeFile(join(uncommitted, 'target.json'), JSON.stringify({ bucket: LOCAL_BUCKET, key: 'k/uncommitted' }));
    await writeFile(join(uncommitted, `uncommitted${S3RVER_SUFFIX}`), 'half a bo');
    // Act
    s3 = await startLocalS3(dir);
    // Assess
    const get = async (Key: string) => {
      const got = await s3?.client.send(new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key }));
      return { body: await got?.Body?.transformToString(), type: got?.ContentType, etag: got?.ETag };
    };
    expect(await get('k/committed')).toEqual({ body: 'new bytes', type: 'text/new', etag: newEtag });
    expect(await get('k/uncommitted')).toMatchObject({ body: 'kept bytes', type: 'text/kept' });
    expect(await staged()).toEqual([]);
  });
});
