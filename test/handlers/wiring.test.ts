/** The step dependencies `stepDependencies` builds from a parsed handler environment. */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { connectorFor } from '../../lambdas/connectors/registry.ts';
import { staticSecretSource } from '../../lambdas/core/secrets.ts';
import { parseHandlerEnvironment } from '../../lambdas/handlers/env.ts';
import { outcomeDependencies, stepDependencies } from '../../lambdas/handlers/wiring.ts';

const environment = parseHandlerEnvironment({
  VENDOR: 'openathens',
  ARCHIVE_BUCKET: 'archive-bucket',
  ARCHIVE_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/k',
  MAX_DOWNLOAD_BYTES: '1000',
  MAX_EXTRACTED_BYTES: '2000',
  MAX_COMPRESSION_RATIO: '50',
  MAX_ENTRIES: '7',
  MAX_DOWNLOAD_SECONDS: '30',
  MAX_REPORT_BYTES: '4000',
  SOFTWARE_VERSION: '1.2.3',
  POWERTOOLS_SERVICE_NAME: 'identity-report-archive',
});

const wiring = {
  connector: connectorFor('openathens'),
  environment,
  s3: new S3Client({ region: 'us-east-1' }),
  secrets: staticSecretSource(new Map()),
  logger: new Logger({ logLevel: 'SILENT' }),
  now: () => new Date('2026-11-22T01:30:00Z'),
  tmpDir: '/tmp/wiring-test',
};

describe('stepDependencies', () => {
  it('takes the bucket, key, limits and software version from the environment', () => {
    // Act
    const deps = stepDependencies(wiring);

    // Assert
    expect(deps).toMatchObject({
      bucket: 'archive-bucket',
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      limits: {
        maxDownloadBytes: 1000,
        maxExtractedBytes: 2000,
        maxCompressionRatio: 50,
        maxEntries: 7,
        maxDownloadSeconds: 30,
        maxReportBytes: 4000,
      },
      softwareVersion: '1.2.3',
      tmpDir: '/tmp/wiring-test',
    });
    expect(deps.connector).toBe(connectorFor('openathens'));
  });

  it('gives credentialsEnv tenants no variables unless handed some (a deployment refuses them)', () => {
    expect(stepDependencies(wiring).env).toEqual({});
    expect(stepDependencies({ ...wiring, credentialsEnv: { OA_KEY: 'x' } }).env).toEqual({ OA_KEY: 'x' });
  });
});

describe('outcomeDependencies', () => {
  it("records in the step's bucket with its key, for the connector's vendor", () => {
    // Act
    const deps = outcomeDependencies(stepDependencies(wiring));

    // Assert
    expect(deps).toEqual({
      vendor: 'openathens',
      s3: wiring.s3,
      bucket: 'archive-bucket',
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      logger: wiring.logger,
      now: wiring.now,
    });
  });
});
