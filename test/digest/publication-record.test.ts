/**
 * The archive step logs each manifest it publishes (lambdas/digest/publications.ts), so the next
 * signed digest lists it: one log entry per archived report, naming the manifest and the SHA-256
 * and size of its bytes as stored.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { archiveReport } from '../../lambdas/core/archive/index.ts';
import { manifestKey } from '../../lambdas/core/layout.ts';
import { sha256Hex } from '../../lambdas/digest/digest.ts';
import { PUBLICATIONS_PREFIX, PublicationSchema } from '../../lambdas/digest/publications.ts';
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
