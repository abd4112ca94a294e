/**
 * `npm run query -- "<SQL>"`: runs SQL over the local archive with DuckDB, through the same
 * table definitions as the Glue tables, or with `--config <file>` over the deployed stack's
 * archive with Athena. Only the entry point; the command is scripts/local/query.ts.
 */
import { queryCommand } from './local/query.ts';

process.exitCode = await queryCommand(process.argv.slice(2));
