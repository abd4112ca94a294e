/**
 * The S3 client for a local S3 (s3rver) on loopback. Its own file so that the benchmark's children
 * can build one without loading s3rver (and koa), which would count in their RSS.
 */
import { S3Client } from '@aws-sdk/client-s3';

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
