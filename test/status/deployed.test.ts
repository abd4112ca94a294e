/**
 * `npm run status -- --config <file>`: the deployed stack's executions from Step Functions
 * (ListExecutions, DescribeExecution, and the plan from GetExecutionHistory; mocked with
 * aws-sdk-client-mock), the bucket from the stack's outputs (CloudFormation mocked) and the
 * outcome records and expectations from that bucket (a local S3 holding them, read by the same
 * S3 code). A failed item, a stale tenant and a date at risk each need attention (exit 1).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestReportPrefix } from '../../lambdas/core/layout.ts';
import { ARCHIVE_BUCKET_OUTPUT, stateMachineOutputKey } from '../../lib/outputs.ts';
import { statusCommand } from '../../scripts/status/command.ts';
import type { StatusReport } from '../../scripts/status/model.ts';
import { expectation, type OpsArchive, outcome, startOpsArchive } from '../ops/outcome-fixtures.ts';
import { runCommand } from '../support/cli.ts';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
afterAll(() => {
  cfn.restore();
  sfn.restore();
});

const NOW = new Date('2026-12-07T10:00:00Z');
const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:OpenAthens';
const RUN = `arn:aws:states:eu-west-1:111122223333:execution:OpenAthens:run-1207`;
let archive: OpsArchive;

beforeAll(async () => {
  archive = await startOpsArchive();
  await archive.expect('openathens', [expectation({ tenant: 'org-a' }), expectation({ tenant: 'org-b' })]);
  // a date the plan found at risk, archived since (its run fetched it)
  await archive.put(
    `${manifestReportPrefix('openathens', 'raw_statistics')}dt=2026-11-09/tenant=org-a/manifest.json`,
    '{}',
  );
  await archive.record(
    outcome({ tenant: 'org-a', report_date: '2026-12-06', run_id: RUN, recorded_at: '2026-12-07T02:00:00.000Z' }),
    outcome({
      tenant: 'org-b',
      report_date: '2026-12-06',
      run_id: RUN,
      outcome: 'failed',
      error: 'VendorAuthError',
      reason: 'the token exchange answered 401',
      recorded_at: '2026-12-07T02:00:01.000Z',
    }),
  );
});
afterAll(() => archive.close());

beforeEach(() => {
  cfn.reset();
  sfn.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'IdentityReportArchive',
        CreationTime: NOW,
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: ARCHIVE_BUCKET_OUTPUT, OutputValue: archive.s3.bucket },
          { OutputKey: stateMachineOutputKey('openathens'), OutputValue: MACHINE },
        ],
      },
    ],
  });
  sfn.on(ListExecutionsCommand).resolves({
    executions: [{ executionArn: RUN, stateMachineArn: MACHINE, name: 'run-1207', status: 'FAILED', startDate: NOW }],
  });
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: RUN,
    stateMachineArn: MACHINE,
    name: 'run-1207',
    status: 'FAILED',
    startDate: new Date('2026-12-07T01:59:00Z'),
    stopDate: new Date('2026-12-07T02:01:00Z'),
    error: 'ReportsFailed',
    cause: 'one or more reports failed',
  });
  const atRisk = ['org-a/raw_statistics/2026-11-08', 'org-a/raw_statistics/2026-11-09'];
  const payload = { items: [{}, {}], deferred: 4, atRisk };
  sfn.on(GetExecutionHistoryCommand).resolves({
    events: [
      { id: 1, type: 'ExecutionStarted', timestamp: NOW },
      { id: 2, type: 'TaskStateEntered', timestamp: NOW, stateEnteredEventDetails: { name: 'PlanRun' } },
      { id: 3, type: 'TaskScheduled', timestamp: NOW },
      {
        id: 4,
        type: 'TaskSucceeded',
        timestamp: NOW,
        taskSucceededEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          output: JSON.stringify({ StatusCode: 200, Payload: payload }),
        },
      },
      { id: 5, type: 'TaskStateExited', timestamp: NOW, stateExitedEventDetails: { name: 'PlanRun' } },
    ],
  });
});

const deps = {
  now: () => NOW,
  clients: (region: string | undefined) => ({
    cfn: new CloudFormationClient({ region }),
    sfn: new SFNClient({ region }),
    s3: archive.s3.client,
  }),
  colour: false,
};
const status = (...args: string[]) =>
  runCommand(
    (argv, out) =>
      statusCommand(argv, out, { ...deps, clients: (r) => ({ ...deps.clients(r), s3: archive.s3.client }) }),
    ['--config', 'config/example.json', '--region', 'eu-west-1', '--vendor', 'openathens', ...args],
  );

describe('npm run status -- --config <file> (the deployed stack)', () => {
  it('reports the executions, their counts, the failed items, the backlog, the dates still at risk and freshness', async () => {
    // Act
    const result = await status('--json');
    // Assess
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as StatusReport;
    const [vendor] = report.vendors;
    expect(vendor?.runs).toEqual([
      expect.objectContaining({
        execution: 'run-1207',
        status: 'FAILED',
        error: 'ReportsFailed',
        planned: 2,
        deferred: 4,
        archived: 1,
        failed: 1,
        skipped: 0,
      }),
    ]);
    expect(vendor?.latestIssues).toEqual([
      {
        tenant: 'org-b',
        report: 'raw_statistics',
        date: '2026-12-06',
        outcome: 'failed',
        error: 'VendorAuthError',
        reason: 'the token exchange answered 401',
      },
    ]);
    expect(vendor?.deferred).toBe(4);
    // the plan's dates at risk, less the one archived since
    expect(vendor?.datesAtRisk).toEqual(['org-a/raw_statistics/2026-11-08']);
    expect(vendor?.freshness.staleTenants).toBe(1);
    expect(vendor?.attention).toEqual([
      'latest run FAILED (ReportsFailed)',
      '1 failed item',
      '1 stale tenant',
      '1 date at risk',
    ]);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn: MACHINE });
  });

  it('prints the same as a readable report, plain when not a terminal', async () => {
    const result = await status();
    expect(result.stdout).toContain('openathens: needs attention: latest run FAILED (ReportsFailed), 1 failed item');
    expect(result.stdout).toContain(
      'failed  org-b/raw_statistics 2026-12-06  VendorAuthError: the token exchange answered 401',
    );
    expect(result.stdout).toContain('deferred backlog: 4');
    expect(result.stdout).toContain('stale org-b/raw_statistics  never archived; last failed VendorAuthError');
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('exits 2 when the stack has no state machine output for the vendor', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'IdentityReportArchive',
          CreationTime: NOW,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: ARCHIVE_BUCKET_OUTPUT, OutputValue: archive.s3.bucket }],
        },
      ],
    });
    const result = await status();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`has no output ${stateMachineOutputKey('openathens')}`);
  });

  it('refuses --deployed by name', async () => {
    const result = await runCommand(statusCommand, ['--deployed']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--deployed is gone: name the deployed stack's config with --config <file>");
  });
});
