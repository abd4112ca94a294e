/**
 * `npm start`: the local pipeline, with no AWS account and no network.
 *
 * 1. Starts the built-in vendor simulators and a local S3 (s3rver) on loopback, or, with
 *    `--config`, uses the vendors and credentials in that file (real or your own servers).
 * 2. Runs each vendor's deployed state machine definition with the real handlers in-process.
 * 3. Prints what was archived and the answers to a few auditor queries, run by DuckDB over the
 *    archived files through the same table definitions as the Glue tables.
 *
 * Only the entry point; the command is scripts/local/start.ts.
 */
import { startCommand } from './local/start.ts';

process.exitCode = await startCommand(process.argv.slice(2));
