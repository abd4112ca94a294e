/**
 * What a deployed handler is wired with: the environment (parsed once), module-scope SDK
 * clients (reused across invocations), the Secrets Manager source with its cache, one logger.
 */
import { tmpdir } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { connectorFor } from '../connectors/registry.ts';
import { secretsManagerSource } from '../core/secrets.ts';
import type { ArchiveStepDeps } from '../pipeline/steps.ts';
import { parseHandlerEnvironment } from './env.ts';
import { stepDependencies } from './wiring.ts';

let deps: ArchiveStepDeps | undefined;

/**
 * Built from `process.env` on first use, then reused for the life of the container (module
 * scope: a fresh import of this module builds afresh).
 */
export function lambdaDeps(): ArchiveStepDeps {
  if (deps) return deps;
  const environment = parseHandlerEnvironment(process.env);
  const connector = connectorFor(environment.VENDOR);
  deps = stepDependencies({
    connector,
    environment,
    s3: new S3Client({}),
    secrets: secretsManagerSource(),
    logger: new Logger({ serviceName: environment.POWERTOOLS_SERVICE_NAME }),
    now: () => new Date(),
    tmpDir: tmpdir(),
  });
  return deps;
}
