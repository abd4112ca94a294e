/**
 * `npm run query -- --config <file> "<SQL>"`: the statement runs in Athena in the workgroup and
 * database the deployed stack's outputs name (Athena and CloudFormation mocked with
 * aws-sdk-client-mock), and its text-only rows print as the local ones do. A failed query is exit
 * 1, a stack that cannot be read exit 2, and `--deployed` is refused by name.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_OUTPUT, WORKGROUP_OUTPUT } from '../../lib/outputs.ts';
import { queryCommand } from '../../scripts/local/query.ts';
import { runCommand } from '../support/cli.ts';

const athena = mockClient(AthenaClient);
const cfn = mockClient(CloudFormationClient);
afterAll(() => {
  athena.restore();
  cfn.restore();
});

const deps = {
  clients: (region: string | undefined) => ({
    athena: new AthenaClient({ region }),
    cfn: new CloudFormationClient({ region }),
  }),
  sleep: async () => {},
};
const query = (args: string[]) =>
  runCommand(
    (argv, out) => queryCommand(argv, out, deps),
    ['--config', 'config/example.json', '--region', 'eu-west-1', ...args],
  );

beforeEach(() => {
  athena.reset();
  cfn.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'IdentityReportArchive',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: WORKGROUP_OUTPUT, OutputValue: 'archive-wg' },
          { OutputKey: DATABASE_OUTPUT, OutputValue: 'archive_db' },
        ],
      },
    ],
  });
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-7' });
});

describe('npm run query -- --config <file> (the deployed stack)', () => {
  it("runs the SQL in the stack's workgroup and database and prints its rows", async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: [
            { Name: 'vendor', Type: 'varchar' },
            { Name: 'n', Type: 'bigint' },
          ],
        },
        Rows: [
          { Data: [{ VarCharValue: 'vendor' }, { VarCharValue: 'n' }] },
          { Data: [{ VarCharValue: 'csp' }, { VarCharValue: '3' }] },
        ],
      },
    });
    // Act
    const result = await query(['--json', 'SELECT vendor, count(*) AS n FROM manifests GROUP BY 1']);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT vendor, count(*) AS n FROM manifests GROUP BY 1',
      WorkGroup: 'archive-wg',
      QueryExecutionContext: { Database: 'archive_db' },
    });
    expect(JSON.parse(result.stdout)).toEqual([{ vendor: 'csp', n: '3' }]);
  });

  it("exits 1 with Athena's reason when the query fails", async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: nope' } },
    });
    const result = await query(['SELECT * FROM nope']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('query failed: Athena query q-7 failed: TABLE_NOT_FOUND: nope');
  });

  it('exits 2 when the stack does not exist', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack does not exist'), { name: 'ValidationError' }));
    const result = await query(['SELECT 1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('(config stackName) was not found');
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('refuses --deployed by name', async () => {
    const result = await runCommand(queryCommand, ['--deployed', 'SELECT 1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "npm run query: --deployed is gone: name the deployed stack's config with --config <file>",
    );
  });
});
