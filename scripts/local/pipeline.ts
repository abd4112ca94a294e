/**
 * Runs the deployed state machine definitions locally.
 *
 * 1. For each enabled vendor, build the exact definition `cdk deploy` ships
 *    (`reportPipelineDefinition`), with inline credentials moved out of it into an in-memory
 *    secret store, as a deployment keeps them in Secrets Manager.
 * 2. Run it with aws-local-stepfunctions, every Lambda Task answered in-process by the real
 *    handler (`createXxxHandler`) and every EventBridge Task by a recorder.
 * 3. Return per vendor the outcome, the plan and the events it would have published; meanwhile
 *    tell `onProgress` the plan's item count and each execution event (the progress display).
 *
 * A Task with no local handler would fall through to a real AWS call, so the overrides are
 * checked against the definition before the run.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { connectorFor } from '../../lambdas/connectors/registry.ts';
import { staticSecretSource } from '../../lambdas/core/secrets.ts';
import { type FunctionSizing, FunctionSizingSchema } from '../../lambdas/core/settings.ts';
import type { Connector } from '../../lambdas/core/types.ts';
import { createArchiveReportHandler } from '../../lambdas/handlers/archive-report.ts';
import { createCheckJobHandler } from '../../lambdas/handlers/check-job.ts';
import { handlerEnvironment, parseHandlerEnvironment } from '../../lambdas/handlers/env.ts';
import { createPlanRunHandler } from '../../lambdas/handlers/plan-run.ts';
import { createRecordOutcomeHandler } from '../../lambdas/handlers/record-outcome.ts';
import { createStartJobHandler } from '../../lambdas/handlers/start-job.ts';
import { outcomeDependencies, stepDependencies } from '../../lambdas/handlers/wiring.ts';
import type { PlanResult } from '../../lambdas/pipeline/plan.ts';
import type { ArchiveStepDeps } from '../../lambdas/pipeline/steps.ts';
import { type AppConfig, enabledVendors } from '../../lib/config.ts';
import { type PipelineFunction, reportPipelineDefinition } from '../../state-machines/report-pipeline.ts';
import type { LocalS3 } from './s3.ts';

export interface LocalEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  /** when the run put it (ISO 8601) */
  readonly time?: string;
}

export interface LocalRunOptions {
  /** parsed in `local` mode */
  readonly config: AppConfig;
  /** the schedule's time the run treats as "now" */
  readonly scheduledTime: Date;
  readonly date?: string;
  readonly vendors?: readonly string[];
  readonly tenants?: readonly string[];
  readonly reports?: readonly string[];
  readonly force?: boolean;
  readonly s3: LocalS3;
  readonly tmpDir: string;
  /**
   * Shrink every Wait state and Retry pause to this many milliseconds. Only for the built-in
   * simulators, whose clocks are shrunk to match; a real vendor needs the real waits.
   */
  readonly fastWaitsMs?: number;
  readonly logger?: Logger;
  /** environment for `credentialsEnv` tenants */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => Date;
  readonly softwareVersion?: string;
  /** connectors to use instead of the registry (tests) */
  readonly connectors?: readonly Connector[];
  /** every state event of each vendor's execution, as it happens (bench/transitions.ts counts them) */
  readonly onStateEvent?: (vendor: string, event: ExecutionEvent) => void;
  /** called as each vendor's execution starts, with its name (what an interrupted run logs) */
  readonly onExecutionStart?: (vendor: string, executionName: string) => void;
  /** called as each vendor's execution ends (the runs log is appended there) */
  readonly onExecutionEnd?: (result: VendorRunResult) => void;
  /** told as each vendor's run is planned, steps and ends (the progress display) */
  readonly onProgress?: (event: LocalProgressEvent) => void;
}

/** What aws-local-stepfunctions reports as an execution runs: states entered and exited, Map iterations. */
export type ExecutionEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** A vendor's run as it goes: its plan's item count, each execution event, and how it ended. */
export type LocalProgressEvent =
  | { readonly kind: 'planned'; readonly vendor: string; readonly items: number }
  | { readonly kind: 'step'; readonly vendor: string; readonly event: ExecutionEvent }
  | { readonly kind: 'ended'; readonly vendor: string; readonly status: VendorRunResult['status'] };

export interface VendorRunResult {
  readonly vendor: string;
  readonly executionId: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  /** the error and cause Step Functions would report for a failed execution */
  readonly failure?: { readonly error: string; readonly cause: string };
  readonly plan?: PlanResult;
  /** what the execution ended with (e.g. a duplicate delivery's message), when it succeeded */
  readonly output?: Record<string, unknown>;
  readonly outcomes: { outcome: string; request: Record<string, unknown>; reason?: unknown; error?: unknown }[];
  readonly events: LocalEvent[];
  readonly metrics: string[];
  readonly durationMs: number;
}

const LAMBDA_TASKS: readonly PipelineFunction[] = ['PlanRun', 'StartJob', 'CheckJob', 'ArchiveReport', 'RecordOutcome'];
const EVENT_TASKS = ['AnnounceReport', 'AnnounceSkip', 'AnnounceFailure', 'AnnouncePlanFailure'] as const;
const WAIT_STATES = ['WaitBeforeNextCheck'] as const;

function localArn(vendor: string, fn: PipelineFunction): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:local-${vendor}-${fn}`;
}

type Tenant = Record<string, unknown> & { id: string; credentials?: unknown };

/** Moves inline credentials out of the section into a secret store, as a deployment would. */
export function withoutInlineCredentials(
  vendor: string,
  section: Record<string, unknown> & { tenants: Tenant[] },
): { section: Record<string, unknown>; secrets: Map<string, string> } {
  const secrets = new Map<string, string>();
  const tenants = section.tenants.map(({ credentials, ...tenant }) => {
    if (credentials === undefined) return tenant;
    const secretName = `local/${vendor}/${tenant.id}`;
    secrets.set(secretName, JSON.stringify(credentials));
    return { ...tenant, secretName };
  });
  return { section: { ...section, tenants }, secrets };
}

/** Every Task state in a definition, Map processors included. */
function taskStates(definition: Record<string, unknown>): string[] {
  const names: string[] = [];
  const states = (definition.States ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') names.push(name);
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (processor) names.push(...taskStates(processor));
  }
  return names;
}

/** What a run recorded besides its output: the plan, the events it would publish, its metrics. */
interface LocalRecord {
  plan?: PlanResult;
  readonly events: LocalEvent[];
  readonly metrics: string[];
}

/** The step dependencies a deployed function of this vendor would have, from the same config. */
function localStepDependencies(
  vendor: string,
  connector: Connector,
  secrets: ReadonlyMap<string, string>,
  options: LocalRunOptions,
  archiveFunction: FunctionSizing['archive'],
): ArchiveStepDeps {
  // the environment a deployed function would get from the same config, parsed as it parses it
  const environment = parseHandlerEnvironment(
    handlerEnvironment({
      vendor,
      bucket: options.s3.bucket,
      limits: options.config.archive,
      archiveFunction,
      softwareVersion: options.softwareVersion ?? 'local',
    }),
  );
  return stepDependencies({
    connector,
    environment,
    s3: options.s3.client,
    secrets: staticSecretSource(secrets),
    logger: options.logger ?? new Logger({ serviceName: 'identity-report-archive-local', logLevel: 'WARN' }),
    now: options.now ?? (() => new Date()),
    tmpDir: options.tmpDir,
    credentialsEnv: options.env ?? process.env,
  });
}

/** Each Task state's local answer: the real handler for a Lambda Task, a recorder for an EventBridge one. */
/** What aws-local-stepfunctions calls for a Task state: JSON in, JSON out. */
type LocalTaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type Json = Awaited<ReturnType<LocalTaskHandlers[string]>>;

/** A value as it crosses Lambda's JSON boundary (a Date becomes its ISO string, undefined drops out). */
const overJson = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

function localTaskHandlers(
  deps: ArchiveStepDeps,
  recorded: LocalRecord,
  onPlanned: (items: number) => void = () => undefined,
): LocalTaskHandlers {
  const planRun = createPlanRunHandler({
    ...deps,
    definition: deps.connector.definition,
    metrics: (line) => recorded.metrics.push(line),
  });
  const lambda = <I, O>(fn: (input: I) => Promise<O>) => {
    return async (parameters: Json) => overJson({ Payload: await fn((parameters as { Payload: I }).Payload) });
  };
  const { events } = recorded;
  const recordEvents = async (parameters: Json) => {
    const entries = (parameters as { Entries: { Source: string; DetailType: string; Detail: unknown }[] }).Entries;
    for (const entry of entries) {
      const detail = typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail;
      events.push({
        source: entry.Source,
        detailType: entry.DetailType,
        detail: detail as Record<string, unknown>,
        time: new Date().toISOString(),
      });
    }
    return overJson({
      Entries: entries.map((_, i) => ({ EventId: `local-${events.length + i}` })),
      FailedEntryCount: 0,
    });
  };
  return {
    PlanRun: lambda(async (input: Parameters<typeof planRun>[0]) => {
      recorded.plan = await planRun(input);
      onPlanned(recorded.plan.items.length);
      return recorded.plan;
    }),
    StartJob: lambda(createStartJobHandler(deps)),
    CheckJob: lambda(createCheckJobHandler(deps)),
    ArchiveReport: lambda(createArchiveReportHandler(deps)),
    RecordOutcome: lambda(
      createRecordOutcomeHandler({ ...outcomeDependencies(deps), metrics: (line) => recorded.metrics.push(line) }),
    ),
    ...Object.fromEntries(EVENT_TASKS.map((name) => [name, recordEvents])),
  };
}

export async function runLocalPipeline(options: LocalRunOptions): Promise<VendorRunResult[]> {
  const vendors = enabledVendors(options.config).filter(([v]) => !options.vendors || options.vendors.includes(v));
  if (options.vendors) {
    const unknown = options.vendors.filter((v) => !vendors.some(([name]) => name === v));
    if (unknown.length > 0) {
      throw new Error(`vendor(s) ${unknown.join(', ')} are not enabled in the configuration`);
    }
  }
  return Promise.all(vendors.map(([vendor, section]) => runVendor(vendor, section, options)));
}

async function runVendor(
  vendor: string,
  rawSection: Record<string, unknown> & { tenants: Tenant[] },
  options: LocalRunOptions,
): Promise<VendorRunResult> {
  const started = Date.now();
  const connector = options.connectors?.find((c) => c.definition.vendor === vendor) ?? connectorFor(vendor);
  const { section, secrets } = withoutInlineCredentials(vendor, rawSection);
  const eventSource = options.config.events.source;
  const definition = reportPipelineDefinition({
    vendor,
    section,
    eventSource,
    eventBusName: 'default',
    functionArns: Object.fromEntries(LAMBDA_TASKS.map((fn) => [fn, localArn(vendor, fn)])) as Record<
      PipelineFunction,
      string
    >,
  });

  const sizing = FunctionSizingSchema.parse(section.functions);
  const deps = localStepDependencies(vendor, connector, secrets, options, sizing.archive);
  const recorded: LocalRecord = { events: [], metrics: [] };
  const progress = options.onProgress;
  const handlers = localTaskHandlers(deps, recorded, (items) => progress?.({ kind: 'planned', vendor, items }));
  const missing = taskStates(definition).filter((name) => !(name in handlers));
  if (missing.length > 0) throw new Error(`no local handler for Task state(s): ${missing.join(', ')}`);

  const fast = options.fastWaitsMs;
  const executionName = `${vendor}-${options.scheduledTime.toISOString().replace(/[:.]/g, '')}-${Date.now()}`;
  const executionId = `arn:aws:states:us-east-1:000000000000:execution:local-${vendor}:${executionName}`;
  options.onExecutionStart?.(vendor, executionName);
  const input = {
    scheduledTime: options.scheduledTime.toISOString(),
    ...(options.date ? { date: options.date } : {}),
    ...(options.tenants ? { tenants: [...options.tenants] } : {}),
    ...(options.reports ? { reports: [...options.reports] } : {}),
    ...(options.force ? { force: true } : {}),
  };
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(fast === undefined
        ? {}
        : {
            waitTimeOverrides: Object.fromEntries(WAIT_STATES.map((s) => [s, fast])),
            retryIntervalOverrides: Object.fromEntries([...LAMBDA_TASKS, ...EVENT_TASKS].map((s) => [s, fast])),
          }),
    },
    context: {
      Execution: { Id: executionId, Name: executionName, Input: input, StartTime: deps.now().toISOString() },
    },
  });

  let status: VendorRunResult['status'] = 'SUCCEEDED';
  let error: string | undefined;
  let failure: VendorRunResult['failure'];
  let output: Record<string, unknown> | undefined;
  // the event log can be read once: one reader hands each event to both listeners
  const { onStateEvent } = options;
  const watched =
    (onStateEvent || progress) &&
    forwardEvents(execution.eventLogs, (event) => {
      onStateEvent?.(vendor, event);
      progress?.({ kind: 'step', vendor, event });
    });
  try {
    output = (await execution.result) as Record<string, unknown>;
  } catch (caught) {
    status = 'FAILED';
    error = (caught as Error).message;
    // aws-local-stepfunctions wraps the state's error (a Fail state's Error and Cause) in its own
    const inner = (caught as Error).cause instanceof Error ? ((caught as Error).cause as Error) : (caught as Error);
    failure = { error: inner.name, cause: inner.message };
  }
  await watched;
  progress?.({ kind: 'ended', vendor, status });
  const outcomes = (output?.results as VendorRunResult['outcomes'] | undefined) ?? [];
  const { plan, events, metrics } = recorded;
  const result: VendorRunResult = {
    vendor,
    executionId,
    status,
    error,
    failure,
    plan,
    output,
    outcomes,
    events,
    metrics,
    durationMs: Date.now() - started,
  };
  options.onExecutionEnd?.(result);
  return result;
}

/** Hands each event of an execution on until it ends (the log closes when the execution does). */
async function forwardEvents(
  events: AsyncGenerator<ExecutionEvent>,
  on: (event: ExecutionEvent) => void,
): Promise<void> {
  for await (const event of events) on(event);
}
