/**
 * `npm run status`: per vendor, the last runs, the failed and skipped items, the deferred backlog,
 * the dates at risk and freshness per tenant, of the local workspace or (with `--config <file>`)
 * the deployed stack. Only the entry point; the command is scripts/status/command.ts.
 */
import { statusCommand } from './status/command.ts';

process.exitCode = await statusCommand(process.argv.slice(2));
