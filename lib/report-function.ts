/**
 * One Lambda function of the report pipeline, with every default in one place.
 *
 * 1. Bundles `lambdas/handlers/<handler>.ts` with esbuild: ESM, minified, with source maps,
 *    everything bundled, the pinned AWS SDK v3 included (not the copy the runtime carries).
 * 2. Runs on Node.js 22 / arm64 with JSON logs, X-Ray tracing and explicit memory and timeout.
 * 3. Writes to its own log group (with retention) through its own role: no managed policy, the
 *    role starts with write access to that log group only and callers add what the handler needs.
 * 4. Meant to be invoked synchronously by a state machine Task, whose Retry and Catch handle its
 *    failures (hence no dead-letter queue).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HandlerEnvironment } from '../lambdas/handlers/env.ts';
import type { DigestEnvironment } from '../lambdas/handlers/write-digest.ts';
import type { FreshnessEnvironment } from '../lambdas/ops/freshness-environment.ts';
import { acknowledge } from './nag.ts';
import { FUNCTION_V8_FLAGS } from './node-options.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The handlers under `lambdas/handlers/`: one per pipeline step, the digest writer and the freshness check. */
export type ReportHandlerName =
  | 'plan-run'
  | 'start-job'
  | 'check-job'
  | 'archive-report'
  | 'record-outcome'
  | 'write-digest'
  | 'freshness-check';

export interface ReportFunctionProps {
  /** the handler file under `lambdas/handlers/` (without `.ts`) */
  readonly handler: ReportHandlerName;
  /** the environment the handler parses at init (`HandlerEnvironmentSchema`, or the digest writer's or freshness check's) */
  readonly environment: HandlerEnvironment | DigestEnvironment | FreshnessEnvironment;
  /** memory in MiB; CPU scales with it (1,769 MiB is one full vCPU) */
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * Size of `/tmp`.
   * @default - 512 MiB, Lambda's default
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Concurrent executions reserved for (and capping) this function.
   * @default - no reservation: the function uses the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How long the function's log group keeps its events.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * @default - no description
   */
  readonly description?: string;
}

export class ReportFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReportFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    // Our own role instead of the default one, which carries the AWSLambdaBasicExecutionRole
    // managed policy (logs on every log group in the account).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.handler} step of the identity report archive`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...toLambdaEnvironment(props.environment),
        // stack traces point into the TypeScript sources; V8 flags in node-options.ts
        NODE_OPTIONS: ['--enable-source-maps', ...FUNCTION_V8_FLAGS].join(' '),
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        // Bundle the pinned SDK rather than trust the runtime's copy:
        // the code that runs is the code the tests ran.
        externalModules: [],
      },
    });

    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so "*" is their only form; every other statement of this role names its resources (test/infra checks that only these two actions get "*")',
    );
    const runtimeReason =
      'nodejs22.x on purpose: the bundle is built for it (esbuild target node22, above) and carries its own pinned AWS SDK, so it relies on nothing a newer runtime adds; moving to a newer runtime means changing runtime and target together and running the tests, a deliberate upgrade, not drift';
    acknowledge(this.function, 'AwsSolutions-L1', runtimeReason);
    acknowledge(this.function, 'Serverless-LambdaLatestVersion', runtimeReason);
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      props.handler === 'write-digest'
        ? 'invoked by its EventBridge Scheduler schedule with an empty event: a dead-letter queue would keep only that empty event. A failure raises the function Errors alarm, and the next digest covers whatever this one missed (the chain has no gap: each digest starts where the last one ended)'
        : props.handler === 'freshness-check'
          ? 'invoked hourly by its EventBridge Scheduler schedule with an empty event: a dead-letter queue would keep only that empty event. A failure raises the function Errors alarm, and a vendor it could not check publishes no freshness data point, which its freshness alarms treat as breaching; the next hour checks afresh'
          : 'invoked only synchronously, by a Step Functions Task (lambda:invoke, request-response); a DLQ only receives failed asynchronous invocations. A failure reaches the Task, whose Retry/Catch records it (Report Failed event) and fails the execution (ExecutionsFailed alarm)',
    );
  }
}

/** Lambda wants strings: numbers become decimal strings, absent optional values are left out. */
function toLambdaEnvironment(
  environment: HandlerEnvironment | DigestEnvironment | FreshnessEnvironment,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined) continue;
    out[name] = String(value);
  }
  return out;
}
