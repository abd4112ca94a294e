/**
 * The `npm run query` command: runs one SQL statement over the local archive with DuckDB, through
 * the same table definitions as the Glue tables (those of every `npm start` into the workspace),
 * and returns the exit code: 0, 1 when the query failed, 2 for a bad command line or no archive.
 * A query Trino's grammar refuses still runs, with a warning: it would fail in Athena.
 * scripts/query.ts only calls it.
 */
import { parseArgs } from 'node:util';
import { openArchiveCatalog, type QueryResult } from './catalog.ts';
import { argsErrorMessage, type CommandOutput, consoleOutput } from './command.ts';
import { formatCsv, formatTable } from './format.ts';
import { trinoSyntaxProblems } from './trino-syntax.ts';
import { localWorkspace, readCatalog } from './workspace.ts';

export async function queryCommand(argv: readonly string[], out: CommandOutput = consoleOutput): Promise<number> {
  let parsed: ReturnType<typeof parseQueryArgs>;
  try {
    parsed = parseQueryArgs(argv);
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

  const workspace = localWorkspace(values.workspace);
  let tables: ReturnType<typeof readCatalog>;
  try {
    tables = readCatalog(workspace);
  } catch (error) {
    out.printError((error as Error).message);
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

function parseQueryArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
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

/** The usage on stderr; with a message (a bad command line) first, exit 2, else (`--help`) 0. */
/** The usage text: on stdout for `--help` (exit 0), on stderr after a bad command line (exit 2). */
function usage(out: CommandOutput, message?: string): number {
  const print = (text: string) => (message ? out.printError(text) : out.print(text));
  if (message) out.printError(`npm run query: ${message}`);
  print('usage: npm run query -- [--workspace .local] [--wide | --csv | --json] "<SQL>"');
  print('  --wide  whole values and every row (the table cuts values at 60 characters, 50 rows)');
  print('  --csv   RFC 4180 CSV with a header line;  --json  the rows as a JSON array');
  print('a query that is not valid Trino SQL (what Athena runs) still runs here, with a warning');
  print('tables: the views listed by: npm run query -- "SHOW TABLES"');
  return message ? 2 : 0;
}
