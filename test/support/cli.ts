/**
 * Runs the project's commands and reports how they ended (exit code, stdout, stderr): as a user
 * does (`npm run <script>`, a new process), or in this process (the command's function, its
 * output recorded), which is what most command tests need and costs no Node start-up.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CommandOutput } from '../../scripts/local/command.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run <script> -- <args>` in the project, as typed in a terminal (npm's own banner left out). */
export async function runNpmScript(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<ScriptResult> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', script, '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as ScriptResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A command's function called in this process, with what it prints recorded line by line. */
export async function runCommand(
  command: (argv: readonly string[], out: CommandOutput) => Promise<number>,
  args: readonly string[],
): Promise<ScriptResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await command(args, {
    print: (text) => stdout.push(`${text}\n`),
    printError: (text) => stderr.push(`${text}\n`),
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}
