/** The backfill's named errors: the CLI maps them to exit status 2 (see USAGE in args.ts). */

/** A backfill that cannot go ahead as asked (bad arguments, unsupported vendor, missing stack). */
export class BackfillError extends Error {
  override readonly name: string = 'BackfillError';
}

/** The command line itself is wrong: the CLI prints the usage text with it. */
export class UsageError extends BackfillError {
  override readonly name: string = 'UsageError';
}
