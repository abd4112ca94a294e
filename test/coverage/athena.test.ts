/**
 * `npm run coverage -- --config <file>`: the workgroup and database come from the stack's outputs, the
 * coverage query runs there (Athena mocked with aws-sdk-client-mock), is polled until it ends,
 * and every page of its text-only results becomes the same table and page as locally. A failed
 * query or a missing stack is exit 2, never a coverage answer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_OUTPUT, WORKGROUP_OUTPUT } from '../../lib/outputs.ts';
import { coverageCommand } from '../../scripts/coverage/command.ts';
import { coverageSql } from '../../scripts/coverage/query.ts';
import { queryAthena } from '../../scripts/deployed/athena.ts';
import type { CommandOutput } from '../../scripts/local/command.ts';

const athena = mockClient(AthenaClient);
const cfn = mockClient(CloudFormationClient);
afterAll(() => {
  athena.restore();
  cfn.restore();
});

const NOW = new Date('2026-12-07T10:00:00Z');
const COLUMNS = [
  'vendor',
  'tenant',
  'report',
  'dt',
  'state',
  'reason',
  'error',
  'run_id',
  'recorded_at',
  'expected',
  'history_days',
];
let dir: string;
let sleeps: number[];

const row = (values: (string | null)[]) => ({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) });

async function deployed(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out: CommandOutput = { print: (t) => stdout.push(t), printError: (t) => stderr.push(t) };
  const code = await coverageCommand(
    ['--config', 'config/example.json', '--region', 'eu-west-1', '--out', join(dir, 'page.html'), ...args],
    out,
    {
      now: () => NOW,
      clients: (region) => ({ athena: new AthenaClient({ region }), cfn: new CloudFormationClient({ region }) }),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coverage-athena-'));
  sleeps = [];
  athena.reset();
  cfn.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'IdentityReportArchive',
        CreationTime: NOW,
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: WORKGROUP_OUTPUT, OutputValue: 'identity-report-archive' },
          { OutputKey: DATABASE_OUTPUT, OutputValue: 'identity_reports' },
        ],
      },
    ],
  });
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run coverage -- --config <file> (the deployed stack)', () => {
  it('runs the coverage query in the stack workgroup, polls it, and reads every page', async () => {
    // Prepare
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const metadata = { ColumnInfo: COLUMNS.map((Name) => ({ Name, Type: 'varchar' })) };
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined })
      .resolves({
        ResultSet: {
          ResultSetMetadata: metadata,
          Rows: [
            row(COLUMNS),
            row([
              'openathens',
              'org-a',
              'raw_statistics',
              '2026-12-05',
              'archived',
              null,
              null,
              'run-1',
              '2026-12-06T01:00:00.000Z',
              'true',
              '30',
            ]),
          ],
        },
        NextToken: 'page-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 'page-2' })
      .resolves({
        ResultSet: {
          ResultSetMetadata: metadata,
          Rows: [
            row([
              'openathens',
              'org-a',
              'raw_statistics',
              '2026-12-06',
              'failed',
              'HTTP 503',
              'VendorServerError',
              'run-2',
              '2026-12-07T01:00:00.000Z',
              'true',
              '30',
            ]),
          ],
        },
      });
    // Act
    const result = await deployed('--days', '3');
    // Assess
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: coverageSql({ from: '2026-12-05', to: '2026-12-07' }),
      WorkGroup: 'identity-report-archive',
      QueryExecutionContext: { Database: 'identity_reports' },
    });
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'IdentityReportArchive' });
    expect(sleeps).toEqual([500, 1000]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'coverage 2026-12-05 to 2026-12-07 (3 days, UTC), stack IdentityReportArchive (Athena workgroup identity-report-archive)',
    );
    expect(result.stdout).toMatch(/\n {2}org-a raw_statistics +#F\.\n/);
    expect(result.stdout).toContain('openathens/org-a/raw_statistics 2026-12-06 failed: VendorServerError: HTTP 503');
    expect(readFileSync(join(dir, 'page.html'), 'utf8')).toContain('data-date="2026-12-06" data-state="failed"');
  });

  it('ends with exit 2 and the reason when the query fails', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: {
          State: 'FAILED',
          StateChangeReason: 'TABLE_NOT_FOUND: Table identity_reports.coverage does not exist',
        },
      },
    });
    const result = await deployed();
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'npm run coverage: Athena query q-1 failed: TABLE_NOT_FOUND: Table identity_reports.coverage does not exist',
    );
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('ends with exit 2 when the stack is not there, before any query', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id IdentityReportArchive does not exist'), { name: 'ValidationError' }),
      );
    const result = await deployed();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stack "IdentityReportArchive" (config stackName) was not found');
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('ends with exit 2 when the stack has no workgroup output', async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'x', CreationTime: NOW, StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
    const result = await deployed();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`has no output ${WORKGROUP_OUTPUT}`);
  });

  it('gives up on a query still running at the deadline, naming it', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    const waiting = queryAthena(
      'SELECT 1',
      { workgroup: 'wg', database: 'db' },
      {
        athena: new AthenaClient({ region: 'eu-west-1' }),
        timeoutMs: 2_000,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    );
    await expect(waiting).rejects.toThrow('Athena query q-1 is still RUNNING after 2 s');
    expect(sleeps).toEqual([500, 1000, 2000]);
  });
});
