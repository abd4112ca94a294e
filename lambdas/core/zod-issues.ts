/**
 * Zod validation issues as one line for an error message: `path: message; path: message`. The
 * step input, the run request, the handler environment and the connectors' job states all report
 * their problems this way.
 */
import type { z } from 'zod';

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`).join('; ');
}
