/**
 * The deployed status source: each enabled vendor's executions from Step Functions (the state
 * machine its stack output names; ListExecutions, DescribeExecution), its plan from the
 * execution's history (PlanRun's result: items planned, deferred, dates at risk; the state keeps
 * only part of it), and the archive bucket from the stack's outputs. Cadence is the vendor's
 * schedule, as the freshness check's.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { scheduleCadenceHours } from '../../lambdas/ops/schedule-cadence.ts';
import { type AppConfig, enabledVendors } from '../../lib/config.ts';
import { ARCHIVE_BUCKET_OUTPUT, stateMachineOutputKey } from '../../lib/outputs.ts';
import { requiredOutput, stackOutputs } from '../deployed/stack.ts';
import type { StatusSource } from './collect.ts';
import type { RunInfo } from './model.ts';

export interface DeployedClients {
  readonly cfn: CloudFormationClient;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
}

export async function deployedSource(
  config: AppConfig,
  clients: DeployedClients,
  graceHours: number,
  vendor: string | undefined,
): Promise<StatusSource> {
  const { stackName } = config;
  const outputs = await stackOutputs(clients.cfn, stackName);
  const bucket = requiredOutput(outputs, stackName, ARCHIVE_BUCKET_OUTPUT);
  const sections = enabledVendors(config).filter(([v]) => vendor === undefined || v === vendor);
  const machines = new Map(sections.map(([v]) => [v, requiredOutput(outputs, stackName, stateMachineOutputKey(v))]));
  return {
    description: `stack ${stackName} (bucket ${bucket})`,
    s3: clients.s3,
    bucket,
    vendors: sections.map(([v, section]) => ({
      vendor: v,
      settings: { cadenceHours: cadenceOf(section), graceHours },
    })),
    runs: (v, limit) => executions(clients.sfn, v, machines.get(v) as string, limit),
  };
}

/** The section's schedule, as lib/config.ts parsed it (every vendor section has one). */
const ScheduleSchema = z.object({ schedule: z.string(), scheduleTimezone: z.string().default('UTC') });

function cadenceOf(section: unknown): number {
  const { schedule, scheduleTimezone } = ScheduleSchema.parse(section);
  return scheduleCadenceHours(schedule, scheduleTimezone);
}

async function executions(sfn: SFNClient, vendor: string, stateMachineArn: string, limit: number): Promise<RunInfo[]> {
  const { executions: listed = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: limit }));
  const runs: RunInfo[] = [];
  for (const { executionArn } of listed.slice(0, limit)) {
    if (!executionArn) continue;
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const plan = await planOf(sfn, executionArn);
    runs.push({
      vendor,
      execution: described.name ?? executionArn.slice(executionArn.lastIndexOf(':') + 1),
      startedAt: (described.startDate ?? new Date(0)).toISOString(),
      stoppedAt: described.stopDate?.toISOString() ?? null,
      status: described.status ?? 'UNKNOWN',
      error: described.error ?? null,
      cause: described.cause ?? null,
      planned: plan?.Payload.items.length ?? null,
      deferred: plan?.Payload.deferred ?? null,
      atRisk: plan?.Payload.atRisk ?? [],
    });
  }
  return runs;
}

/** PlanRun's Lambda result, as its TaskSucceeded event carries it before the ResultSelector. */
const PlanPayloadSchema = z.object({
  Payload: z.object({
    items: z.array(z.unknown()),
    deferred: z.number().int().nonnegative(),
    atRisk: z.array(z.string()).default([]),
  }),
});

/**
 * The plan of an execution: the TaskSucceeded event after PlanRun was entered, found by reading
 * the history from its start (PlanRun is among its first events); undefined when the plan failed.
 */
async function planOf(sfn: SFNClient, executionArn: string): Promise<z.infer<typeof PlanPayloadSchema> | undefined> {
  let inPlan = false;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 100, nextToken }));
    for (const event of page.events ?? []) {
      const step = planStep(event, inPlan);
      if (step === 'entered') inPlan = true;
      else if (step === 'exited') return undefined;
      else if (step !== undefined) return step;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

function planStep(event: HistoryEvent, inPlan: boolean) {
  if (event.type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name === 'PlanRun') return 'entered';
  if (!inPlan) return undefined;
  if (event.type === 'TaskStateExited') return 'exited';
  if (event.type !== 'TaskSucceeded') return undefined;
  const parsed = PlanPayloadSchema.safeParse(JSON.parse(event.taskSucceededEventDetails?.output ?? 'null'));
  return parsed.success ? parsed.data : 'exited';
}
