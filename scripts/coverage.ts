/**
 * `npm run coverage`: which days of every vendor, tenant and report the archive holds, and why
 * the others are not there, as a terminal table and an HTML calendar. Only the entry point; the
 * command is scripts/coverage/command.ts.
 */
import { coverageCommand } from './coverage/command.ts';

process.exitCode = await coverageCommand(process.argv.slice(2));
