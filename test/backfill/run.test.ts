import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionLimitExceeded,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestKey } from '../../lambdas/core/layout.ts';
import type { ConnectorDefinition } from '../../lambdas/core/types.ts';
import type { AppConfig } from '../../lib/config.ts';
import type { BackfillOptions } from '../../scripts/backfill/args.ts';
import { backfillCommand } from '../../scripts/backfill/command.ts';
import { BackfillError } from '../../scripts/backfill/errors.ts';
import { type BackfillPlan, executionName } from '../../scripts/backfill/plan.ts';
import { runBackfill } from '../../scripts/backfill/run.ts';
import { fixtureConnector } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
// the mocks patch the SDK classes themselves: undo that for the next file in this worker
afterAll(() => {
  cfn.restore();
  s3.restore();
  sfn.restore();
});

const NOW = new Date('2025-06-15T10:00:00Z');
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Acme';

// the schema only accepts registered vendors; none may be registered yet
const config = {
  stackName: 'IdentityReportArchive',
  vendors: {
    acme: { enabled: true, reports: ['users'], tenants: [{ id: 't1' }, { id: 't2' }] },
    other: { enabled: false, reports: ['users'], tenants: [{ id: 't1' }] },
  },
} as unknown as AppConfig;

const options: BackfillOptions = {
  vendor: 'acme',
  from: '2025-06-10',
  to: '2025-06-12',
  config: 'config/test.json',
  force: false,
  dryRun: false,
};

interface Harness {
  sleeps: number[];
  output: string[];
  run(overrides?: Partial<BackfillOptions>, connector?: ConnectorDefinition): Promise<number>;
}

function harness(): Harness {
  const sleeps: number[] = [];
  const output: string[] = [];
  return {
    sleeps,
    output,
    run: (overrides = {}, connector = fixtureConnector()) =>
      backfillCommand(
        { ...options, ...overrides },
        {
          config,
          definitionFor: () => connector,
          cfn: new CloudFormationClient({ region: 'eu-west-1' }),
          s3: new S3Client({ region: 'eu-west-1' }),
          sfn: new SFNClient({ region: 'eu-west-1' }),
          sleep: async (ms) => {
            sleeps.push(ms);
          },
          now: () => NOW,
          print: (text) => output.push(text),
        },
      ),
  };
}

function startedInputs() {
  return sfn.commandCalls(StartExecutionCommand).map((call) => {
    const { name, input, stateMachineArn } = call.args[0].input;
    return { name, stateMachineArn, input: JSON.parse(input ?? 'null') };
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

const alreadyExists = () => new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });

beforeEach(() => {
  cfn.reset();
  s3.reset();
  sfn.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'IdentityReportArchive',
        CreationTime: NOW,
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'ArchiveBucketName', OutputValue: 'archive-bucket' },
          { OutputKey: 'StateMachineArnAcme', OutputValue: STATE_MACHINE_ARN },
        ],
      },
    ],
  });
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  sfn
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: `${STATE_MACHINE_ARN}:${input.name}`, startDate: NOW }));
});

describe('backfillCommand: starting executions', () => {
  it('starts one execution per date, oldest first, with the schedule input plus the date', async () => {
    // Act
    const status = await harness().run({ tenants: ['t2'], force: true });

    // Assess
    expect(status).toBe(0);
    expect(startedInputs()).toEqual(
      ['2025-06-10', '2025-06-11', '2025-06-12'].map((date) => ({
        stateMachineArn: STATE_MACHINE_ARN,
        name: executionName({ date, tenants: ['t2'], force: true }),
        input: { scheduledTime: '2025-06-15T10:00:00.000Z', date, tenants: ['t2'], force: true },
      })),
    );
  });

  it('sends neither tenants nor force when not asked for', async () => {
    // Act
    await harness().run({ from: '2025-06-12' });

    // Assess
    expect(startedInputs().map((s) => s.input)).toEqual([
      { scheduledTime: '2025-06-15T10:00:00.000Z', date: '2025-06-12' },
    ]);
  });

  it('skips archived dates and starts the others', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves({
      Contents: ['t1', 't2'].map((tenant) => ({
        Key: manifestKey({ vendor: 'acme', report: 'users', tenant, date: '2025-06-11' }),
      })),
    });
    const h = harness();

    // Act
    await h.run();

    // Assess
    expect(startedInputs().map((s) => s.input.date)).toEqual(['2025-06-10', '2025-06-12']);
    expect(h.output.join('\n')).toMatch(/2025-06-11 {2}skip +archived for every tenant and report/);
    expect(h.output.join('\n')).toMatch(/started 2, already started 0, skipped \(archived\) 1, refused 0/);
  });

  it('asks for the vendor spacing between consecutive starts, not before the first', async () => {
    // Prepare
    const h = harness();

    // Act
    await h.run();

    // Assess
    expect(h.sleeps).toEqual([30_000, 30_000]);
  });
});

describe('backfillCommand: executions that already exist', () => {
  it('counts them as already started, reads their status and goes on without spacing for them', async () => {
    // Prepare: a previous run started 06-11
    const existing = executionName({ date: '2025-06-11' });
    sfn.on(StartExecutionCommand, { name: existing }).rejects(alreadyExists());
    sfn
      .on(DescribeExecutionCommand, {
        executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Acme:${existing}`,
      })
      .resolves({ status: 'RUNNING' });
    const h = harness();

    // Act
    const status = await h.run();

    // Assess
    expect(status).toBe(0);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 3);
    expect(h.sleeps).toEqual([30_000]);
    expect(h.output.join('\n')).toMatch(/started 2, already started 1/);
    expect(h.output.join('\n')).toMatch(/2025-06-11 {2}already started as backfill-2025-06-11-\w+ \(RUNNING\)/);
  });

  it('points at redrive when the earlier execution failed', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const h = harness();

    // Act
    await h.run({ from: '2025-06-12' });

    // Assess
    expect(h.output.join('\n')).toMatch(
      /\(FAILED\): aws stepfunctions redrive-execution --execution-arn arn:aws:states:/,
    );
  });
});

describe('backfillCommand: dry run', () => {
  it('prints the plan and sends nothing to Step Functions', async () => {
    // Prepare
    const h = harness();

    // Act
    const status = await h.run({ dryRun: true, from: '2025-05-01' });

    // Assess
    expect(status).toBe(1); // dates before 2025-05-16 are refused
    expect(sfn).not.toHaveReceivedAnyCommand();
    expect(h.sleeps).toEqual([]);
    expect(h.output.join('\n')).toMatch(/dry run: nothing will be started/);
    expect(h.output.join('\n')).toMatch(/2025-05-15 {2}refuse +older than 30 days/);
    expect(h.output.join('\n')).toMatch(/2025-06-12 {2}start +backfill-2025-06-12-/);
  });
});

describe('backfillCommand: refusals', () => {
  it('refuses a vendor whose reports are snapshots, starting nothing', async () => {
    // Act
    const error = await rejectionOf(harness().run({}, fixtureConnector(null)));

    // Assess
    expect(error).toBeInstanceOf(BackfillError);
    expect(error.message).toMatch(/does not support backfill: its reports are snapshots of the current state/);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('refuses a vendor that is not enabled in the config', async () => {
    // Act
    const error = await rejectionOf(harness().run({ vendor: 'other' }));

    // Assess
    expect(error.message).toBe('vendor "other" is not enabled in config/test.json; expected one of: acme');
    expect(cfn).not.toHaveReceivedAnyCommand();
  });
});

describe('runBackfill: other errors', () => {
  it('stops at the first error and says what was started and what was not attempted', async () => {
    // Prepare
    const plan: BackfillPlan = {
      vendor: 'acme',
      stackName: 'IdentityReportArchive',
      bucket: 'archive-bucket',
      stateMachineArn: STATE_MACHINE_ARN,
      spacingSeconds: 0,
      tenants: ['t1'],
      reports: ['users'],
      toStart: ['2025-06-10', '2025-06-11', '2025-06-12'].map((date) => ({
        date,
        name: executionName({ date }),
        input: { date },
        archivedPairs: 0,
      })),
      skippedArchived: [],
      refused: [],
    };
    sfn
      .on(StartExecutionCommand, { name: executionName({ date: '2025-06-11' }) })
      .rejects(new ExecutionLimitExceeded({ message: 'too many running', $metadata: {} }));
    const sleeps: number[] = [];

    // Act
    const summary = await runBackfill(plan, {
      sfn: new SFNClient({ region: 'eu-west-1' }),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      now: () => NOW,
    });

    // Assess
    expect(summary.started.map((s) => s.date)).toEqual(['2025-06-10']);
    expect(summary.stopped).toEqual({ date: '2025-06-11', error: 'ExecutionLimitExceeded: too many running' });
    expect(summary.notAttempted).toEqual(['2025-06-12']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(sleeps).toEqual([]); // spacing 0: no sleep requested
  });
});
