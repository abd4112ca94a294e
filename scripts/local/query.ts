/**
 * The `npm run query` command: runs one SQL statement over the local archive with DuckDB, through
 * the same table definitions as the Glue tables (those of every `npm start` into the workspace),
 * and returns the exit code: 0, 1 when the query failed, 2 for a bad command line or no archive.
 * scripts/query.ts only calls it.
 */
import { parseArgs } from 'node:util';
import { openArchiveCatalog } from './catalog.ts';
import { type CommandOutput, consoleOutput } from './command.ts';
import { formatTable } from './format.ts';
import { localWorkspace, readCatalog } from './workspace.ts';

export async function queryCommand(argv: readonly string[], out: CommandOutput = consoleOutput): Promise<number> {
  let parsed: ReturnType<typeof parseQueryArgs>;
  try {
    parsed = parseQueryArgs(argv);
  } catch (error) {
    return usage(out, (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return usage(out);
  if (positionals.length !== 1) {
    return usage(out, `expected one SQL statement in quotes; received ${positionals.length} arguments`);
  }

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
    const result = await catalog.query(positionals[0] as string);
    out.print(values.json ? JSON.stringify(result.rows, null, 2) : formatTable(result));
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
    options: { workspace: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}

/** The usage on stderr; with a message (a bad command line) first, exit 2, else (`--help`) 0. */
function usage(out: CommandOutput, message?: string): number {
  if (message) out.printError(`npm run query: ${message}`);
  out.printError('usage: npm run query -- [--workspace .local] [--json] "<SQL>"');
  out.printError('tables: the views listed by: npm run query -- "SHOW TABLES"');
  return message ? 2 : 0;
}
