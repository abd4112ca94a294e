/**
 * What a deployed handler is wired with: the environment (parsed once), module-scope SDK
 * clients (reused across invocations), the Secrets Manager source with its cache, one logger.
 */
import { tmpdir } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { connectorFor } from '../connectors/registry.ts';
import { secretsManagerSource } from '../core/secrets.ts';
import type { Connector } from '../core/types.ts';
import type { ArchiveStepDeps } from '../pipeline/steps.ts';
import { HandlerEnvironmentSchema } from './env.ts';

export interface LambdaRuntime {
  readonly connector: Connector;
  readonly deps: ArchiveStepDeps;
}

let runtime: LambdaRuntime | undefined;

/** Built on first use, then reused for the life of the container. */
export function lambdaRuntime(): LambdaRuntime {
  if (runtime) return runtime;
  const parsed = HandlerEnvironmentSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(
      `invalid handler environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const env = parsed.data;
  const connector = connectorFor(env.VENDOR);
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME });
  runtime = {
    connector,
    deps: {
      connector,
      secrets: secretsManagerSource(),
      env: {},
      logger,
      now: () => new Date(),
      s3: new S3Client({}),
      bucket: env.ARCHIVE_BUCKET,
      kmsKeyId: env.ARCHIVE_KMS_KEY_ARN,
      tmpDir: tmpdir(),
      limits: {
        maxDownloadBytes: env.MAX_DOWNLOAD_BYTES,
        maxExtractedBytes: env.MAX_EXTRACTED_BYTES,
        maxCompressionRatio: env.MAX_COMPRESSION_RATIO,
        maxEntries: 1_000,
      },
      softwareVersion: env.SOFTWARE_VERSION,
    },
  };
  return runtime;
}
