/**
 * `npm run query -- "<SQL>"`: runs SQL over the local archive with DuckDB, through the same
 * table definitions as the Glue tables (those of the last `npm start`).
 */
import { parseArgs } from 'node:util';
import { openArchiveCatalog } from './local/catalog.ts';
import { formatTable } from './local/format.ts';
import { localWorkspace, readCatalog } from './local/workspace.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workspace: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
});

if (values.help || positionals.length !== 1) {
  console.error('usage: npm run query -- [--workspace .local] [--json] "<SQL>"');
  console.error('tables: the views listed by: npm run query -- "SHOW TABLES"');
  process.exit(values.help ? 0 : 2);
}

const workspace = localWorkspace(values.workspace);
const catalog = await openArchiveCatalog({
  s3Directory: workspace.s3Directory,
  bucket: workspace.bucket,
  tables: readCatalog(workspace),
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
