/**
 * `isAbsent` (lambdas/core/s3-objects.ts): a failed GET means "no such object" on 404, and on 403
 * only when a listing of exactly that key does not show it (S3 answers 403 for a missing object to
 * a role that may list only some prefixes).
 */
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAbsent } from '../../lambdas/core/s3-objects.ts';

// an instance's mock, restored after: the suite shares workers (isolate: false)
const client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(client);
const reader = { s3: client, bucket: 'archive' };
const KEY = 'expectations/csp.jsonl';

function failure(status: number, name: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

afterEach(() => s3.reset());
afterAll(() => s3.restore());

describe('isAbsent', () => {
  it('is absent on 404 without listing', async () => {
    expect(await isAbsent(reader, KEY, failure(404, 'NoSuchKey'))).toBe(true);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it('is absent on 403 when a listing of exactly that key finds nothing', async () => {
    s3.on(ListObjectsV2Command, { Prefix: KEY, MaxKeys: 1 }).resolves({ Contents: [] });
    expect(await isAbsent(reader, KEY, failure(403, 'AccessDenied'))).toBe(true);
  });

  it('is not absent on 403 when the key is listed: the role may not read it', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: KEY }] });
    expect(await isAbsent(reader, KEY, failure(403, 'AccessDenied'))).toBe(false);
  });

  it('is not absent on 403 when the listing is refused too, nor on any other failure', async () => {
    s3.on(ListObjectsV2Command).rejects(failure(403, 'AccessDenied'));
    expect(await isAbsent(reader, KEY, failure(403, 'AccessDenied'))).toBe(false);
    expect(await isAbsent(reader, KEY, failure(500, 'InternalError'))).toBe(false);
    expect(await isAbsent(reader, KEY, new Error('socket hang up'))).toBe(false);
  });
});
