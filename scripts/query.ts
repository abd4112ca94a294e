/**
 * `npm run query -- "<SQL>"`: runs SQL over the local archive with DuckDB, through the same
 * table definitions as the Glue tables (those of every `npm start` into the workspace).
 * Only the entry point; the command is scripts/local/query.ts.
 */
import { queryCommand } from './local/query.ts';

process.exitCode = await queryCommand(process.argv.slice(2));
