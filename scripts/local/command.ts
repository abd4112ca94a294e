/**
 * What the local commands (`npm start`, `npm run query`) share: where they print, and the error
 * for a bad command line, which ends a command with one line and exit code 2.
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
