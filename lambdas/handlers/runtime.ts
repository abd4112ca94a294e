/**
 * What a deployed handler is wired with: the environment (parsed once), module-scope SDK
 * clients (reused across invocations), the Secrets Manager source with its cache, one logger.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { connectorFor } from '../connectors/registry.ts';
import { secretsManagerSource } from '../core/secrets.ts';
import type { ArchiveStepDeps } from '../pipeline/steps.ts';
import { parseHandlerEnvironment } from './env.ts';
import { stepDependencies } from './wiring.ts';

let deps: ArchiveStepDeps | undefined;

/** Where downloads are spooled, under the sandbox's /tmp. */
export const SPOOL_DIR_NAME = 'identity-report-archive-spool';

/**
 * A Lambda sandbox keeps /tmp across invocations, and a runtime restarted after a timeout or an
 * out-of-memory kill comes through here again: whatever an ended run left behind is removed, so
 * spool files never pile up into the next report's space. A sandbox runs one invocation at a
 * time, so nothing in use is removed. (The local runner shares one directory between concurrent
 * items and never calls this.)
 */
function freshSpoolDirectory(): string {
  const dir = join(tmpdir(), SPOOL_DIR_NAME);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

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
    tmpDir: freshSpoolDirectory(),
  });
  return deps;
}
