/**
 * A local S3 (s3rver) for the local pipeline and the tests. Objects land on disk as
 * `<directory>/<bucket>/<key>._S3rver_object`, which DuckDB reads directly.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export const LOCAL_BUCKET = 'identity-report-archive';
export const S3RVER_SUFFIX = '._S3rver_object';

export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly directory: string;
  readonly client: S3Client;
  close(): Promise<void>;
}

export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver stores a streamed body with the aws-chunked framing inside unless checksums are off
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function startLocalS3(directory: string, bucket = LOCAL_BUCKET): Promise<LocalS3> {
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
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
