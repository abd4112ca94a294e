/**
 * The step dependencies, assembled from a parsed handler environment. The deployed runtime
 * (`runtime.ts`) and the local runner (`scripts/local/pipeline.ts`) both build them here and differ
 * only in what they hand in: SDK clients, secret source, logger, clock and temp directory.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretSource } from '../core/secrets.ts';
import type { Connector } from '../core/types.ts';
import type { RecordOutcomeDeps } from '../pipeline/record-outcome.ts';
import type { ArchiveStepDeps } from '../pipeline/steps.ts';
import { archiveLimits, type ParsedHandlerEnvironment } from './env.ts';

export interface StepWiring {
  readonly connector: Connector;
  readonly environment: ParsedHandlerEnvironment;
  readonly s3: S3Client;
  readonly secrets: SecretSource;
  readonly logger: Logger;
  readonly now: () => Date;
  /** where downloads are spooled (`/tmp` in Lambda) */
  readonly tmpDir: string;
  /** variables `credentialsEnv` tenants read; none when deployed, where the config refuses them */
  readonly credentialsEnv?: Readonly<Record<string, string | undefined>>;
}

export function stepDependencies(wiring: StepWiring): ArchiveStepDeps {
  const { environment } = wiring;
  return {
    connector: wiring.connector,
    secrets: wiring.secrets,
    env: wiring.credentialsEnv ?? {},
    logger: wiring.logger,
    now: wiring.now,
    s3: wiring.s3,
    bucket: environment.ARCHIVE_BUCKET,
    kmsKeyId: environment.ARCHIVE_KMS_KEY_ARN,
    tmpDir: wiring.tmpDir,
    limits: archiveLimits(environment),
    softwareVersion: environment.SOFTWARE_VERSION,
  };
}

/** What RecordOutcome uses of the step dependencies: the archive target, its vendor, logger and clock. */
export function outcomeDependencies(deps: ArchiveStepDeps): RecordOutcomeDeps {
  return {
    vendor: deps.connector.definition.vendor,
    s3: deps.s3,
    bucket: deps.bucket,
    kmsKeyId: deps.kmsKeyId,
    logger: deps.logger,
    now: deps.now,
  };
}
