/**
 * A deployed function's surroundings on loopback: the OpenAthens simulator, a local S3, a Secrets
 * Manager stub, and `process.env` as Lambda would set it: the variables the CDK side fills
 * (`handlerEnvironment` from a config parsed in deploy mode) plus the AWS SDK's own, pointed at
 * the stubs. `coldStart()` imports the handler modules afresh, as a new container would.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { OpenAthensSection } from '../../lambdas/connectors/openathens/settings.ts';
import { handlerEnvironment } from '../../lambdas/handlers/env.ts';
import type { PlanInput, PlanItem, PlanResult } from '../../lambdas/pipeline/plan.ts';
import type { RecordOutcomeInput, RecordOutcomeResult } from '../../lambdas/pipeline/record-outcome.ts';
import type { StepInput, StepResult } from '../../lambdas/pipeline/steps.ts';
import { type AppConfig, parseConfig } from '../../lib/config.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { LOCAL_SINCE } from '../../simulators/local-since.ts';
import {
  type OpenAthensSimulator,
  type SimulatedOrganisation,
  startOpenAthensSimulator,
} from '../../simulators/openathens/server.ts';
import { type SecretsManagerStub, startSecretsManagerStub } from './secrets-manager-stub.ts';

export const VENDOR = 'openathens';
export const SOFTWARE_VERSION = '1.2.3-handler-test';
export const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000';
export const RUN_ID = 'arn:aws:states:us-east-1:000000000000:execution:openathens:handler-test';

/** The five deployed handlers, each called as Lambda calls it: a JSON event in, a JSON result out. */
export interface DeployedHandlers {
  planRun(event: PlanInput): Promise<PlanResult>;
  startJob(event: StepInput): Promise<StepResult>;
  checkJob(event: StepInput): Promise<StepResult>;
  archiveReport(event: StepInput): Promise<StepResult>;
  recordOutcome(event: RecordOutcomeInput): Promise<RecordOutcomeResult>;
}

export interface DeployedFunction {
  readonly config: AppConfig;
  readonly sim: OpenAthensSimulator;
  readonly s3: LocalS3;
  readonly secrets: SecretsManagerStub;
  /** the vendor section as the state machine definition embeds it */
  readonly section: OpenAthensSection;
  /** the sandbox's /tmp (TMPDIR) */
  readonly tmpDir: string;
  /** sets `process.env` for the next cold start; `overrides` replace or (undefined) remove variables */
  setEnvironment(overrides?: Readonly<Record<string, string | undefined>>): void;
  coldStart(): Promise<DeployedHandlers>;
  /** PlanRun's event, as the state machine's Configure state builds it */
  planEvent(request: PlanInput['request']): PlanInput;
  /** an item step's event, as the Map's ItemSelector and the step payload build it */
  stepEvent(item: PlanItem, previous?: StepResult): StepInput;
  close(): Promise<void>;
}

export const secretNameOf = (tenantId: string) => `identity-report-archive/${VENDOR}/${tenantId}`;

/** The configuration a deployment is synthesised from: tenants name their secret only. */
function deployConfig(sim: OpenAthensSimulator, archive: Record<string, unknown>): AppConfig {
  const tenants = sim.organisations.map((o) => ({
    id: o.tenantId,
    since: LOCAL_SINCE,
    apiName: o.apiName,
    secretName: secretNameOf(o.tenantId),
  }));
  const raw = {
    // a deploy config names its Object Lock mode
    archive: { objectLock: { mode: 'COMPLIANCE' }, ...archive },
    alerts: { topicName: 'alerts' },
    vendors: {
      [VENDOR]: { baseUrl: sim.baseUrl, poll: { intervalSeconds: 1, maxAttempts: 3, deadlineMinutes: 5 }, tenants },
    },
  };
  return parseConfig(raw, 'handler test', 'deploy');
}

/** What Lambda sets for the AWS SDK, with the S3 and Secrets Manager endpoints on loopback. */
function sdkVariables(s3: LocalS3, secrets: SecretsManagerStub, tmp: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    // s3rver stores a streamed body with the aws-chunked framing inside unless checksums are off
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Lambda's /tmp
    TMPDIR: tmp,
  };
}

/** Lambda environment variables are strings; absent optional values are not set. */
function asVariables(environment: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, String(value)]),
  );
}

function lambdaInvoke<I, O>(handler: (event: I) => Promise<O>): (event: I) => Promise<O> {
  return async (event) => JSON.parse(JSON.stringify(await handler(JSON.parse(JSON.stringify(event)) as I))) as O;
}

async function importHandlers(): Promise<DeployedHandlers> {
  vi.resetModules();
  const [plan, start, check, archive, record] = await Promise.all([
    import('../../lambdas/handlers/plan-run.ts'),
    import('../../lambdas/handlers/start-job.ts'),
    import('../../lambdas/handlers/check-job.ts'),
    import('../../lambdas/handlers/archive-report.ts'),
    import('../../lambdas/handlers/record-outcome.ts'),
  ]);
  return {
    planRun: lambdaInvoke(plan.handler),
    startJob: lambdaInvoke(start.handler),
    checkJob: lambdaInvoke(check.handler),
    archiveReport: lambdaInvoke(archive.handler),
    recordOutcome: lambdaInvoke(record.handler),
  };
}

export async function startDeployedFunction(options: {
  organisations: SimulatedOrganisation[];
  /** the config's `archive` section */
  archive?: Record<string, unknown>;
}): Promise<DeployedFunction> {
  const dir = await mkdtemp(join(tmpdir(), 'deployed-handlers-'));
  await mkdir(join(dir, 'tmp'));
  const s3 = await startLocalS3(join(dir, 's3'));
  const sim = await startOpenAthensSimulator({ organisations: options.organisations });
  const secrets = await startSecretsManagerStub(
    new Map(options.organisations.map((o) => [secretNameOf(o.tenantId), JSON.stringify({ apiKey: o.apiKey })])),
  );
  const config = deployConfig(sim, options.archive ?? {});
  const section = (config.vendors as Record<string, OpenAthensSection>)[VENDOR] as OpenAthensSection;
  const { tenants: _tenants, ...settings } = section;
  const functionEnvironment = handlerEnvironment({
    vendor: VENDOR,
    bucket: s3.bucket,
    kmsKeyArn: KMS_KEY_ARN,
    limits: config.archive,
    archiveFunction: section.functions.archive,
    softwareVersion: SOFTWARE_VERSION,
  });
  return {
    config,
    sim,
    s3,
    secrets,
    section,
    tmpDir: join(dir, 'tmp'),
    setEnvironment(overrides = {}) {
      const variables = { ...sdkVariables(s3, secrets, join(dir, 'tmp')), ...asVariables(functionEnvironment) };
      for (const [name, value] of Object.entries({ ...variables, ...overrides })) vi.stubEnv(name, value);
    },
    coldStart: importHandlers,
    planEvent: (request) => ({ vendor: VENDOR, section, request, runId: RUN_ID }),
    stepEvent: (item, previous) => ({
      request: { vendor: VENDOR, tenant: item.tenant.id, report: item.report, date: item.date, runId: RUN_ID },
      tenant: item.tenant,
      settings,
      job: previous?.job ?? {},
      deadline: previous?.deadline ?? null,
      attempt: 0,
    }),
    async close() {
      vi.unstubAllEnvs();
      await secrets.close();
      await sim.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
