/**
 * Reading a connector's `job` back from the state machine. The state travels through the
 * execution's input and output between steps, so each connector describes its own shape with a
 * zod schema (ids, counters, timestamps) and reads it here: a state that no longer matches is a
 * VendorRequestError the connector words, never a guess.
 */
import type { z } from 'zod';
import { VendorRequestError } from './errors.ts';
import type { JsonObject } from './types.ts';
import { formatIssues } from './zod-issues.ts';

/**
 * `job` parsed with `schema`. On a mismatch, throws VendorRequestError with the message
 * `describe` builds from the formatted issues.
 */
export function parseJobState<TSchema extends z.ZodType>(
  schema: TSchema,
  job: JsonObject | undefined,
  describe: (problems: string) => string,
): z.output<TSchema> {
  const parsed = schema.safeParse(job ?? {});
  if (!parsed.success) throw new VendorRequestError(describe(formatIssues(parsed.error)));
  return parsed.data;
}
