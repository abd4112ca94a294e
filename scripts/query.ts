/**
 * `npm run query -- "<SQL>"`: runs SQL over the local archive with DuckDB, through the same
 * table definitions as the Glue tables (those of every `npm start` into the workspace).
 */
import { parseArgs } from 'node:util';
import { openArchiveCatalog } from './local/catalog.ts';
import { formatTable } from './local/format.ts';
import { localWorkspace, readCatalog } from './local/workspace.ts';

function usage(message?: string): never {
  if (message) console.error(`npm run query: ${message}`);
  console.error('usage: npm run query -- [--workspace .local] [--json] "<SQL>"');
  console.error('tables: the views listed by: npm run query -- "SHOW TABLES"');
  process.exit(message ? 2 : 0);
}

let parsed: ReturnType<typeof parseCommandLine>;
try {
  parsed = parseCommandLine();
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;

function parseCommandLine() {
  return parseArgs({
    allowPositionals: true,
    options: { workspace: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}

if (values.help) usage();
if (positionals.length !== 1) usage(`expected one SQL statement in quotes; received ${positionals.length} arguments`);

const workspace = localWorkspace(values.workspace);
let tables: ReturnType<typeof readCatalog>;
try {
  tables = readCatalog(workspace);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const catalog = await openArchiveCatalog({
  s3Directory: workspace.s3Directory,
  bucket: workspace.bucket,
  tables,
});
try {
  const result = await catalog.query(positionals[0] as string);
  console.log(values.json ? JSON.stringify(result.rows, null, 2) : formatTable(result));
} catch (error) {
  console.error(`query failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  catalog.close();
}
