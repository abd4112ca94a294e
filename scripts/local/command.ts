/**
 * What the commands (`npm start`, `npm run query`, `verify`, `legal-hold`, …) share: where they
 * print, the error for a bad command line, which ends a command with one line and exit code 2,
 * and the first reading of that command line.
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

/**
 * A command line read by `parse` (Node's `parseArgs`, positionals allowed so that a stray word is
 * named rather than reported as an unknown option): its values, or 'help' for `--help`. A line
 * `parseArgs` refuses, or a positional, becomes the command's usage error.
 */
export function parseCommandLine<V extends { readonly help?: boolean }>(
  parse: () => { values: V; positionals: string[] },
  usageError: (message: string) => Error = (message) => new UsageError(message),
): V | 'help' {
  let parsed: { values: V; positionals: string[] };
  try {
    parsed = parse();
  } catch (error) {
    throw usageError(argsErrorMessage(error));
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length > 0) {
    throw usageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
  }
  return parsed.values;
}
