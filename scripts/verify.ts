/**
 * `npm run verify`: re-reads every archived object its manifest names and checks its SHA-256,
 * size and retention. Only the entry point; the command is scripts/verify/command.ts.
 */
import { verifyCommand } from './verify/command.ts';

process.exitCode = await verifyCommand(process.argv.slice(2));
