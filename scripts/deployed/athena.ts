/**
 * Runs a query (coverage's, or `npm run query`'s) over the deployed archive: Athena, in the
 * workgroup and Glue database the stack's outputs name (the workgroup enforces where results go
 * and how they are encrypted).
 *
 * 1. Find the workgroup and database from the stack (CloudFormation DescribeStacks).
 * 2. Start the query, then poll its state, waiting a little longer each time, up to a deadline.
 * 3. Read every page of the results: the first row of the first page is the header; a value
 *    Athena leaves out is null.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DATABASE_OUTPUT, WORKGROUP_OUTPUT } from '../../lib/outputs.ts';
import { requiredOutput, stackOutputs } from './stack.ts';

export interface AthenaTarget {
  readonly workgroup: string;
  readonly database: string;
}

/** A query's answer: every value is text (or null), as Athena returns it. */
export interface AthenaTable {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
}

export interface AthenaDeps {
  readonly athena: AthenaClient;
  readonly sleep?: (ms: number) => Promise<void>;
  /** how long to wait for the query to finish (default 10 minutes) */
  readonly timeoutMs?: number;
}

/** A query Athena did not answer: failed, cancelled or still running at the deadline. */
export class AthenaQueryError extends Error {
  override readonly name = 'AthenaQueryError';
}

const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5_000;

/** The workgroup and Glue database the stack's outputs name. */
export async function athenaTargetOf(cfn: CloudFormationClient, stackName: string): Promise<AthenaTarget> {
  const outputs = await stackOutputs(cfn, stackName);
  return {
    workgroup: requiredOutput(outputs, stackName, WORKGROUP_OUTPUT),
    database: requiredOutput(outputs, stackName, DATABASE_OUTPUT),
  };
}

/** Runs `sql` in the target's workgroup and returns its rows by column name. */
export async function queryAthena(
  sql: string,
  target: AthenaTarget,
  deps: AthenaDeps,
): Promise<Record<string, unknown>[]> {
  return (await queryAthenaTable(sql, target, deps)).rows;
}

/** Runs `sql` in the target's workgroup and returns its columns, in order, and its rows by column name. */
export async function queryAthenaTable(sql: string, target: AthenaTarget, deps: AthenaDeps): Promise<AthenaTable> {
  const { QueryExecutionId: id } = await deps.athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: target.workgroup,
      QueryExecutionContext: { Database: target.database },
    }),
  );
  if (!id) throw new AthenaQueryError('Athena started the query but returned no QueryExecutionId');
  await waitForQuery(id, deps);
  return readResults(id, deps.athena);
}

async function waitForQuery(id: string, deps: AthenaDeps): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = deps.timeoutMs ?? 600_000;
  let waited = 0;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
    const { QueryExecution } = await deps.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const status = QueryExecution?.Status;
    if (status?.State === 'SUCCEEDED') return;
    if (status?.State === 'FAILED' || status?.State === 'CANCELLED') {
      throw new AthenaQueryError(
        `Athena query ${id} ${status.State.toLowerCase()}: ${status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? 'no reason given'}`,
      );
    }
    if (waited >= timeoutMs) {
      throw new AthenaQueryError(
        `Athena query ${id} is still ${status?.State ?? 'unknown'} after ${timeoutMs / 1000} s`,
      );
    }
    await sleep(pause);
    waited += pause;
  }
}

async function readResults(id: string, athena: AthenaClient): Promise<AthenaTable> {
  const rows: Record<string, unknown>[] = [];
  let columns: string[] | undefined;
  let token: string | undefined;
  do {
    const page: GetQueryResultsCommandOutput = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, ...(token ? { NextToken: token } : {}) }),
    );
    const data = page.ResultSet?.Rows ?? [];
    const first = columns === undefined;
    columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
    // the first row of the first page repeats the column names
    for (const row of first ? data.slice(1) : data) {
      const values = row.Data ?? [];
      rows.push(Object.fromEntries(columns.map((name, i) => [name, values[i]?.VarCharValue ?? null])));
    }
    token = page.NextToken;
  } while (token);
  return { columns: columns ?? [], rows };
}
