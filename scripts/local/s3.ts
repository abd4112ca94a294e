/**
 * A local S3 (s3rver) for the local pipeline and the tests. Objects land on disk as
 * `<directory>/<bucket>/<key>._S3rver_object`, which DuckDB reads directly.
 *
 * s3rver encrypts the continuation token of a paged ListObjectsV2 (more than 1,000 keys, or
 * `MaxKeys`) with DES, which OpenSSL 3 keeps in its legacy provider: without
 * `node --openssl-legacy-provider` such a listing answers 500. The plan step pages the manifests,
 * so every process that starts s3rver runs with that flag: `npm start` and `npm run bench` (their
 * package.json scripts) and the vitest workers (vitest.config.ts). `startLocalS3` refuses to start
 * without it rather than fail on the first long listing.
 *
 * Two things s3rver lacks are added here: objects land whole or not at all, and a kill in the
 * middle of a write is finished or undone at the next start (atomic-store.ts); conditional writes
 * answer as S3's do (conditional-writes.ts).
 */
import { createCipheriv } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { AtomicFilesystemStore } from './atomic-store.ts';
import { conditionalWrites } from './conditional-writes.ts';
import { localS3Client } from './s3-client.ts';

export const LOCAL_BUCKET = 'identity-report-archive';
export const S3RVER_SUFFIX = '._S3rver_object';

export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly directory: string;
  readonly client: S3Client;
  close(): Promise<void>;
}

export interface LocalS3Options {
  /**
   * Finish or drop what a killed run left staged (default). A reader that may run beside
   * `npm start` (`npm run verify`) passes false: the staged writes may be that run's, in flight.
   */
  readonly recover?: boolean;
}

export async function startLocalS3(
  directory: string,
  bucket = LOCAL_BUCKET,
  options: LocalS3Options = {},
): Promise<LocalS3> {
  assertDesAvailable();
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  await withAtomicConditionalWrites(server, directory, options.recover ?? true);
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = localS3Client(endpoint);
  return {
    endpoint,
    bucket,
    directory,
    client,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/** Swaps in the atomic store (recovered from any kill) and puts the conditions in front of the router. */
async function withAtomicConditionalWrites(server: S3rver, directory: string, recover: boolean): Promise<void> {
  const store = new AtomicFilesystemStore(directory);
  if (recover) await store.recover();
  server.store = store;
  server.context.store = store;
  // the router must stay last: it answers every route without calling on
  const router = server.middleware.at(-1);
  if (router?.name !== 'dispatch') throw new Error("s3rver's router is no longer its last middleware");
  server.middleware.splice(-1, 0, conditionalWrites(store));
}

function assertDesAvailable(): void {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error(
      "the local S3 (s3rver) pages listings with DES, which this Node.js has only with 'node --openssl-legacy-provider'",
    );
  }
}
