/** The legal-hold command's named errors: the CLI maps them to exit status 2 (see USAGE in args.ts). */

/** A legal-hold command that cannot go ahead as asked (bad arguments, no Object Lock, the local archive). */
export class LegalHoldError extends Error {
  override readonly name: string = 'LegalHoldError';
}

/** The bucket has no Object Lock (the local S3 has none): a legal hold cannot exist there. */
export class NoObjectLockError extends LegalHoldError {
  override readonly name: string = 'NoObjectLockError';
}
