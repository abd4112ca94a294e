/**
 * The `npm run query` command: runs one SQL statement over the archive and returns the exit code:
 * 0, 1 when the query failed, 2 for a bad command line, no archive or a stack that cannot be
 * read. The target is chosen by the one rule of archive-args.ts: the local archive with DuckDB,
 * through the same table definitions as the Glue tables (those of every `npm start` into the
 * workspace), where a query Trino's grammar refuses still runs, with a warning (it would fail in
 * Athena); or with `--config <file>`, Athena in the deployed stack's workgroup and database.
 * scripts/query.ts only calls it.
 */
import { parseArgs } from 'node:util';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ConfigValidationError } from '../../lib/config.ts';
import { AthenaQueryError, athenaTargetOf, queryAthenaTable } from '../deployed/athena.ts';
import { clientConfigOf, deployedStack } from '../deployed/stack.ts';
import { type ArchiveTarget, archiveTarget, TARGET_OPTIONS, TARGET_USAGE } from './archive-args.ts';
import { openArchiveCatalog, type QueryResult } from './catalog.ts';
import { argsErrorMessage, type CommandOutput, consoleOutput, UsageError } from './command.ts';
import { formatCsv, formatTable } from './format.ts';
import { trinoSyntaxProblems } from './trino-syntax.ts';
import { localWorkspace, readCatalog } from './workspace.ts';

export interface QueryDeps {
  /** the clients for the deployed target (`--config`), made for the region chosen */
  readonly clients: (region: string | undefined) => { athena: AthenaClient; cfn: CloudFormationClient };
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultDeps: QueryDeps = {
  clients: (region) => {
    const config = region ? { region } : {};
    return { athena: new AthenaClient(config), cfn: new CloudFormationClient(config) };
  },
};

export async function queryCommand(
  argv: readonly string[],
  out: CommandOutput = consoleOutput,
  deps: QueryDeps = defaultDeps,
): Promise<number> {
  let parsed: ReturnType<typeof parseQueryArgs>;
  let target: ArchiveTarget;
  try {
    parsed = parseQueryArgs(argv);
    target = archiveTarget(parsed.values);
  } catch (error) {
    return usage(out, argsErrorMessage(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return usage(out);
  if (positionals.length !== 1) {
    return usage(out, `expected one SQL statement in quotes; received ${positionals.length} arguments`);
  }
  if ([values.json, values.csv, values.wide].filter(Boolean).length > 1) {
    return usage(out, '--json, --csv and --wide are different outputs: choose one');
  }
  const sql = positionals[0] as string;
  return target.kind === 'local' ? queryLocal(sql, target, values, out) : queryDeployed(sql, target, values, out, deps);
}

async function queryLocal(
  sql: string,
  target: Extract<ArchiveTarget, { kind: 'local' }>,
  values: QueryOptions,
  out: CommandOutput,
): Promise<number> {
  const workspace = localWorkspace(target.workspace);
  let tables: ReturnType<typeof readCatalog>;
  try {
    tables = readCatalog(workspace);
  } catch (error) {
    out.printError(
      `npm run query: ${(error as Error).message}, or name a deployed stack's config with --config <file>`,
    );
    return 2;
  }
  const catalog = await openArchiveCatalog({ s3Directory: workspace.s3Directory, bucket: workspace.bucket, tables });
  try {
    await warnIfNotTrino(sql, out);
    const result = await catalog.query(sql);
    out.print(render(result, values));
    return 0;
  } catch (error) {
    out.printError(`query failed: ${(error as Error).message}`);
    return 1;
  } finally {
    catalog.close();
  }
}

/** Athena in the stack's workgroup: a stack or config that cannot be read is exit 2, a failed query 1. */
async function queryDeployed(
  sql: string,
  target: Extract<ArchiveTarget, { kind: 'deployed' }>,
  values: QueryOptions,
  out: CommandOutput,
  deps: QueryDeps,
): Promise<number> {
  let stack: ReturnType<typeof deployedStack>;
  try {
    stack = deployedStack(target);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    out.printError(`npm run query: ${error.message}`);
    return 2;
  }
  const { athena, cfn } = deps.clients(clientConfigOf(stack).region);
  try {
    const where = await athenaTargetOf(cfn, stack.config.stackName);
    const result = await queryAthenaTable(sql, where, { athena, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
    out.print(render(result, values));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      out.printError(`npm run query: ${error.message}`);
      return 2;
    }
    const message =
      error instanceof AthenaQueryError ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
    out.printError(`query failed: ${message}`);
    return 1;
  } finally {
    athena.destroy();
    cfn.destroy();
  }
}

function parseQueryArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...TARGET_OPTIONS,
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      wide: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type QueryOptions = ReturnType<typeof parseQueryArgs>['values'];

function render(result: QueryResult, values: QueryOptions): string {
  if (values.json) return JSON.stringify(result.rows, null, 2);
  if (values.csv) return formatCsv(result);
  // every row when the values are wanted whole; the terminal table shows the first 50
  return formatTable(result, values.wide ? { wide: true, maxRows: Number.POSITIVE_INFINITY } : {});
}

/** On stderr, so `--csv` and `--json` output stays clean for a pipe. */
async function warnIfNotTrino(sql: string, out: CommandOutput): Promise<void> {
  const problems = await trinoSyntaxProblems(sql);
  if (problems.length === 0) return;
  out.printError(`warning: Athena (Trino SQL) would refuse this query; it runs here in DuckDB only:`);
  for (const problem of problems.slice(0, 3)) out.printError(`  ${problem}`);
}

/** The usage text: on stdout for `--help` (exit 0), on stderr after a bad command line (exit 2). */
function usage(out: CommandOutput, message?: string): number {
  const print = (text: string) => (message ? out.printError(text) : out.print(text));
  if (message) out.printError(`npm run query: ${message}`);
  print(
    'usage: npm run query -- [--workspace <dir> | --config <file> [--region <r>]] [--wide | --csv | --json] "<SQL>"',
  );
  print('  --wide  whole values and every row (the table cuts values at 60 characters, 50 rows)');
  print('  --csv   RFC 4180 CSV with a header line;  --json  the rows as a JSON array');
  print('locally (DuckDB), a query that is not valid Trino SQL (what Athena runs) still runs, with a warning');
  print('tables: the views listed by: npm run query -- "SHOW TABLES"');
  print(TARGET_USAGE);
  print("                       (queried with Athena in the stack's workgroup and database)");
  return message ? 2 : 0;
}
