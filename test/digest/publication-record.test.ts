/**
 * The archive step logs each manifest it publishes (lambdas/digest/publications.ts), so the next
 * signed digest lists it: one log entry per archived report, naming the manifest and the SHA-256
 * and size of its bytes as stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { archiveReport } from '../../lambdas/core/archive/index.ts';
import { manifestKey } from '../../lambdas/core/layout.ts';
import { sha256Hex } from '../../lambdas/digest/digest.ts';
import { PUBLICATIONS_PREFIX, PublicationSchema, recordPublication } from '../../lambdas/digest/publications.ts';
import { startLocalS3 } from '../../scripts/local/s3.ts';
import { localS3Client } from '../../scripts/local/s3-client.ts';
import {
  archiveDeps,
  archiveInput,
  BUCKET,
  capturedLogger,
  httpSource,
  newRequest,
  useArchiveTestBed,
} from '../support/archive-fixtures.ts';

describe('the archive step’s publication log', () => {
  const bed = useArchiveTestBed('publication-record-');

  it('records the manifest it published, with the SHA-256 and size of its bytes', async () => {
    const request = newRequest();
    bed.vendor.files.set('users.csv', { body: Buffer.from('id,name,note,city\nu1,Ann,,Paris\n') });
    await archiveReport(
      archiveInput(request, [httpSource(bed.vendor, 'users.csv')]),
      archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger),
    );
    const manifest = await bed.s3.getBytes(manifestKey(request));
    const listing = await bed.s3.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PUBLICATIONS_PREFIX }));
    const entries = await Promise.all(
      (listing.Contents ?? []).map(async (o) =>
        PublicationSchema.parse(JSON.parse((await bed.s3.getBytes(o.Key as string)).toString())),
      ),
    );
    expect(entries.filter((e) => e.manifest_key === manifestKey(request))).toEqual([
      { manifest_key: manifestKey(request), version_id: null, sha256: sha256Hex(manifest), bytes: manifest.length },
    ]);
  });
});

describe('recordPublication', () => {
  it('returns its key when the SDK retried its put after the answer was lost (412 over its own entry)', async () => {
    // Prepare: the local S3, which answers If-None-Match as S3 does; the first put's answer is lost
    const dir = await mkdtemp(join(tmpdir(), 'publication-retry-'));
    const local = await startLocalS3(dir);
    const s3 = localS3Client(local.endpoint);
    let lost = false;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (!lost && context.commandName === 'PutObjectCommand') {
          lost = true;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
        }
        return result;
      },
      { step: 'deserialize', name: 'loseFirstPutAnswer' },
    );
    const entry = { manifest_key: 'manifests/m.json', version_id: null, sha256: sha256Hex('m'), bytes: 1 };
    try {
      // Act
      const key = await recordPublication({ s3, bucket: local.bucket, now: () => new Date() }, entry);
      // Assess
      const stored = await local.client.send(new GetObjectCommand({ Bucket: local.bucket, Key: key }));
      expect(lost).toBe(true);
      expect(JSON.parse((await stored.Body?.transformToString()) ?? '')).toEqual(entry);
    } finally {
      s3.destroy();
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
