/**
 * What the commands (`npm start`, `npm run query`, `verify`, `legal-hold`) share: where they
 * print, and the error for a bad command line, which ends a command with one line and exit code 2.
 */

/** Where a command prints: the console for the real commands, a list of lines in tests. */
export interface CommandOutput {
  /** one line (or block) for stdout */
  print(text: string): void;
  /** one line for stderr */
  printError(text: string): void;
}

export const consoleOutput: CommandOutput = {
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
};

/** A bad command line: its message names the problem. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The message of an error from Node's `parseArgs`, without the hint it adds for a command that
 * takes positionals (put an argument starting with '-' after `--`): under `npm run x -- …` that
 * `--` is npm's, so the hint reads as though the command line were already wrong there.
 */
export function argsErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
}
