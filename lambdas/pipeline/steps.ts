/**
 * The item steps of the state machine: start the vendor job, check it, archive the report.
 * Each step re-parses the vendor's settings and the tenant with the connector's own
 * `sectionSchema` (so its runtime receives exactly the types its definition declares), builds the
 * connector's context, calls the runtime, and returns a full step result the Choice states read
 * (every field present, null where it does not apply).
 *
 * Transient faults are thrown as named errors for the state machine's Retry, except throttling
 * while checking or fetching, which becomes a PENDING step that waits as long as the vendor
 * asked (a Wait state, not a sleeping Lambda). Past the deadline, a step throws
 * DeadlineExceededError.
 *
 * Each step also counts the poll loop's bounds for the state machine: `attempts` (PENDING results
 * so far, this one included) and `restarts` (RESTART results so far). The Choice after the step
 * compares them with their limits itself, so no Pass state spends a transition counting.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { type ArchivedResult, type ArchiveLimits, type ArchiveResult, archiveReport } from '../core/archive/index.ts';
import { ConfigError, DeadlineExceededError, ReportExpiredError, VendorThrottledError } from '../core/errors.ts';
import { createHttpClient, type HttpClient } from '../core/http/index.ts';
import { resolveCredentials, type SecretSource } from '../core/secrets.ts';
import type {
  Connector,
  ConnectorContext,
  FetchResult,
  JobResult,
  JsonObject,
  TenantBase,
  VendorSettings,
} from '../core/types.ts';
import { formatIssues } from '../core/zod-issues.ts';
import { servedDateRefusal } from './served-date.ts';

export const StepInputSchema = z.object({
  request: z.object({
    vendor: z.string(),
    tenant: z.string(),
    report: z.string(),
    date: z.string(),
    runId: z.string(),
  }),
  tenant: z.object({ id: z.string() }).passthrough(),
  settings: z
    .object({
      baseUrl: z.string(),
      downloadHosts: z.array(z.string()).default([]),
      poll: z.object({ intervalSeconds: z.number(), maxAttempts: z.number(), deadlineMinutes: z.number() }),
    })
    .passthrough(),
  job: z.record(z.string(), z.json()).nullish(),
  deadline: z.string().nullish(),
  /** PENDING results before this step (the previous step's `attempts`) */
  attempt: z.number().int().nullish(),
  /** RESTART results before this step (the previous step's `restarts`) */
  restarts: z.number().int().nullish(),
});
export type StepInput = z.input<typeof StepInputSchema>;

/**
 * The archive result with the run it belongs to: the Report Archived event's detail. `outcome`
 * is left out, as the step's `status` already says ARCHIVED.
 */
export type ArchivedSummary = Omit<ArchivedResult, 'outcome'> & { runId: string };

export interface StepResult {
  status: JobResult['status'] | 'ARCHIVED';
  job: JsonObject;
  waitSeconds: number | null;
  reason: string | null;
  deadline: string | null;
  archived: ArchivedSummary | null;
  /** PENDING results of this item so far, this one included */
  attempts: number;
  /** RESTART results of this item so far, this one included */
  restarts: number;
}

/** A step's result before the loop's counters are added (`counted`). */
type StepOutcome = Omit<StepResult, 'attempts' | 'restarts'>;

export interface StepDeps<
  TTenant extends TenantBase = TenantBase,
  TCredentials = unknown,
  TSettings extends VendorSettings = VendorSettings,
> {
  readonly connector: Connector<TTenant, TCredentials, TSettings>;
  readonly secrets: SecretSource;
  /** environment for `credentialsEnv` tenants (local runs) */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly now: () => Date;
  /** builds the HTTP client for an allowlist; default `createHttpClient` */
  readonly httpClient?: (allowedHosts: string[], logger: Logger) => HttpClient;
}

export interface ArchiveStepDeps<
  TTenant extends TenantBase = TenantBase,
  TCredentials = unknown,
  TSettings extends VendorSettings = VendorSettings,
> extends StepDeps<TTenant, TCredentials, TSettings> {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly tmpDir: string;
  readonly limits: ArchiveLimits;
  readonly softwareVersion: string;
}

const MAX_WAIT_SECONDS = 24 * 60 * 60;

function parseInput(raw: StepInput) {
  const parsed = StepInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`invalid step input: ${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}

type ParsedInput = ReturnType<typeof parseInput>;

function hostOf(url: string): string {
  return new URL(url).host;
}

/**
 * The vendor's settings and this tenant, parsed with the connector's own schema: the section is
 * the state input's `settings` with `tenants` holding the one tenant of this item.
 */
function connectorSection<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings>(
  input: ParsedInput,
  connector: Connector<TTenant, TCredentials, TSettings>,
): { settings: TSettings; tenant: TTenant } {
  const { vendor, sectionSchema } = connector.definition;
  const parsed = sectionSchema.safeParse({ ...input.settings, tenants: [input.tenant] });
  if (!parsed.success) {
    throw new ConfigError(`invalid ${vendor} settings or tenant in the step input: ${formatIssues(parsed.error)}`);
  }
  const tenant = parsed.data.tenants[0];
  if (tenant === undefined) throw new ConfigError(`the ${vendor} step input has no tenant`);
  return { settings: parsed.data, tenant };
}

function context<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings>(
  input: ParsedInput,
  deps: StepDeps<TTenant, TCredentials, TSettings>,
) {
  const { connector } = deps;
  const { settings, tenant } = connectorSection(input, connector);
  const baseUrl = tenant.baseUrl ?? settings.baseUrl;
  const allowedHosts = [...new Set([hostOf(settings.baseUrl), hostOf(baseUrl), ...settings.downloadHosts])];
  const logger = deps.logger.createChild({
    persistentKeys: {
      vendor: input.request.vendor,
      tenant: input.request.tenant,
      report: input.request.report,
      reportDate: input.request.date,
      executionId: input.request.runId,
    },
  });
  let credentials: Promise<TCredentials> | undefined;
  const ctx: ConnectorContext<TTenant, TCredentials, TSettings> = {
    settings,
    tenant,
    baseUrl,
    credentials: () => {
      credentials ??= resolveCredentials(tenant, connector.definition.credentialsSchema, {
        secrets: deps.secrets,
        env: deps.env,
        vendor: connector.definition.vendor,
        vendorSecretName: settings.secretName,
      });
      return credentials;
    },
    http: (deps.httpClient ?? ((hosts, log) => createHttpClient({ allowedHosts: hosts, logger: log })))(
      allowedHosts,
      logger,
    ),
    logger,
    now: deps.now,
  };
  return { ctx, logger, request: input.request };
}

/** The connector's job state carried in from the previous step (empty before StartJob). */
function jobOf(input: ParsedInput): JsonObject {
  return input.job ?? {};
}

function clampWait(seconds: number | undefined, fallback: number): number {
  const value = seconds === undefined || !Number.isFinite(seconds) ? fallback : Math.ceil(seconds);
  return Math.min(Math.max(value, 1), MAX_WAIT_SECONDS);
}

/** The step's result with the loop's counters carried on: one more for a PENDING or a RESTART. */
function counted(step: StepOutcome, input: ParsedInput): StepResult {
  return {
    ...step,
    attempts: (input.attempt ?? 0) + (step.status === 'PENDING' ? 1 : 0),
    restarts: (input.restarts ?? 0) + (step.status === 'RESTART' ? 1 : 0),
  };
}

function toStep(result: JobResult, input: ParsedInput, deadline: string): StepResult {
  return counted(
    {
      status: result.status,
      job: result.job ?? {},
      waitSeconds:
        result.status === 'PENDING' || result.waitSeconds !== undefined
          ? clampWait(result.waitSeconds, input.settings.poll.intervalSeconds)
          : null,
      reason: result.reason ?? null,
      deadline,
      archived: null,
    },
    input,
  );
}

function checkDeadline(input: ParsedInput, deps: StepDeps): string {
  const deadline = input.deadline;
  if (!deadline) throw new ConfigError('step input has no deadline; a job must be started by StartJob first');
  if (deps.now().getTime() > Date.parse(deadline)) {
    throw new DeadlineExceededError(
      `the ${input.request.report} report for ${input.request.tenant} was not ready by ${deadline} (deadline ${input.settings.poll.deadlineMinutes} minutes)`,
    );
  }
  return deadline;
}

/** A throttled check or fetch waits in the state machine for as long as the vendor asked. */
function throttledStep(error: unknown, input: ParsedInput, deadline: string, logger: Logger): StepResult | undefined {
  if (!(error instanceof VendorThrottledError)) return undefined;
  logger.warn('vendor throttled; waiting in the state machine', { retryAfterSeconds: error.retryAfterSeconds });
  const waitSeconds = clampWait(error.retryAfterSeconds, input.settings.poll.intervalSeconds);
  const job = jobOf(input);
  return counted({ status: 'PENDING', job, waitSeconds, reason: error.message, deadline, archived: null }, input);
}

export async function startJob<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings>(
  raw: StepInput,
  deps: StepDeps<TTenant, TCredentials, TSettings>,
): Promise<StepResult> {
  const input = parseInput(raw);
  // A restarted job keeps the deadline of the first start.
  const deadline =
    input.deadline ?? new Date(deps.now().getTime() + input.settings.poll.deadlineMinutes * 60_000).toISOString();
  if (input.deadline) checkDeadline(input, deps);
  const { ctx, logger, request } = context(input, deps);
  const refusal = servedDateRefusal(deps.connector.definition, request.date, deps.now());
  if (refusal) {
    logger.warn('the vendor cannot serve this date', { reason: refusal });
    return toStep({ status: 'SKIPPED', job: {}, reason: refusal }, input, deadline);
  }
  logger.info('starting job');
  const runtime = await deps.connector.runtime();
  const result = await runtime.startJob(ctx, request, jobOf(input));
  logger.info('job started', { status: result.status, waitSeconds: result.waitSeconds });
  return toStep(result, input, deadline);
}

export async function checkJob<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings>(
  raw: StepInput,
  deps: StepDeps<TTenant, TCredentials, TSettings>,
): Promise<StepResult> {
  const input = parseInput(raw);
  const deadline = checkDeadline(input, deps);
  const { ctx, logger, request } = context(input, deps);
  const runtime = await deps.connector.runtime();
  try {
    const result = await runtime.checkJob(ctx, request, jobOf(input));
    logger.info('job checked', { status: result.status, attempt: input.attempt ?? 0 });
    return toStep(result, input, deadline);
  } catch (error) {
    const step = throttledStep(error, input, deadline, logger);
    if (step) return step;
    throw error;
  }
}

export async function archiveStep<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings>(
  raw: StepInput,
  deps: ArchiveStepDeps<TTenant, TCredentials, TSettings>,
): Promise<StepResult> {
  const input = parseInput(raw);
  const deadline = checkDeadline(input, deps);
  const { ctx, logger, request } = context(input, deps);
  const { definition } = deps.connector;
  const report = definition.reports.find((r) => r.name === request.report);
  if (!report) throw new ConfigError(`${definition.vendor} has no report "${request.report}"`);
  const runtime = await deps.connector.runtime();
  const startedAt = deps.now().toISOString();
  let fetched: FetchResult;
  try {
    fetched = await runtime.fetchReport(ctx, request, jobOf(input));
  } catch (error) {
    const step = throttledStep(error, input, deadline, logger);
    if (step) return step;
    throw error;
  }
  if (fetched.status !== 'FETCHED') {
    logger.info('report not fetched', { status: fetched.status, reason: fetched.reason });
    return toStep(fetched, input, deadline);
  }
  await mkdir(deps.tmpDir, { recursive: true });
  let result: ArchiveResult;
  try {
    result = await archiveReport(
      {
        request,
        report,
        sources: fetched.sources,
        requestParameters: fetched.requestParameters,
        job: fetched.job,
        startedAt,
      },
      {
        s3: deps.s3,
        bucket: deps.bucket,
        kmsKeyId: deps.kmsKeyId,
        tmpDir: deps.tmpDir,
        logger,
        now: deps.now,
        limits: deps.limits,
        softwareVersion: deps.softwareVersion,
      },
    );
  } catch (error) {
    if (!(error instanceof ReportExpiredError)) throw error;
    logger.warn('the vendor no longer has the report; starting the job again', { reason: error.message });
    const restart = { status: 'RESTART', job: fetched.job, reason: error.message } as const;
    return counted({ ...restart, waitSeconds: null, deadline, archived: null }, input);
  }
  if (result.outcome === 'SUPERSEDED') {
    // Another run published this report while this one ran: its manifest stands, and the skip is
    // announced with the reason (the state machine routes SKIPPED to AnnounceSkip).
    logger.warn('report archived by another run', { reason: result.reason });
    const skipped = { status: 'SKIPPED', job: fetched.job, reason: result.reason } as const;
    return counted({ ...skipped, waitSeconds: null, deadline, archived: null }, input);
  }
  logger.info('report archived', { rowCount: result.rowCount, bytes: result.bytes });
  const { outcome: _outcome, ...archived } = result;
  const summary = { ...archived, runId: request.runId };
  return counted(
    { status: 'ARCHIVED', job: fetched.job, waitSeconds: null, reason: null, deadline, archived: summary },
    input,
  );
}
