/**
 * The FreshnessCheck function's environment: one zod schema that the CDK side fills
 * (`freshnessEnvironment`) and the handler parses at init, so the two cannot drift.
 */
import { z } from 'zod';
import { formatIssues } from '../core/zod-issues.ts';

/** One vendor the check reads, with the longest time between two of its scheduled runs. */
export const FreshnessVendorSchema = z
  .object({ vendor: z.string().min(1), cadenceHours: z.number().positive() })
  .strict();
export type FreshnessVendor = z.infer<typeof FreshnessVendorSchema>;

export const FreshnessEnvironmentSchema = z.object({
  ARCHIVE_BUCKET: z.string().min(1),
  /** JSON array of `FreshnessVendor` */
  FRESHNESS_VENDORS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a JSON array; received ${JSON.stringify(text)}` });
        return z.NEVER;
      }
    })
    .pipe(z.array(FreshnessVendorSchema)),
  FRESHNESS_GRACE_HOURS: z.coerce.number().nonnegative(),
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
});

/** What the CDK side sets (Lambda variables are strings). */
export interface FreshnessEnvironment {
  readonly ARCHIVE_BUCKET: string;
  readonly FRESHNESS_VENDORS: string;
  readonly FRESHNESS_GRACE_HOURS: number;
  readonly POWERTOOLS_SERVICE_NAME: string;
}
export type ParsedFreshnessEnvironment = z.output<typeof FreshnessEnvironmentSchema>;

export function freshnessEnvironment(options: {
  readonly bucket: string;
  readonly vendors: readonly FreshnessVendor[];
  readonly graceHours: number;
}): FreshnessEnvironment {
  return {
    ARCHIVE_BUCKET: options.bucket,
    FRESHNESS_VENDORS: JSON.stringify(options.vendors),
    FRESHNESS_GRACE_HOURS: options.graceHours,
    POWERTOOLS_SERVICE_NAME: 'identity-report-archive',
  } satisfies z.input<typeof FreshnessEnvironmentSchema>;
}

/** Parses `process.env`; names every bad variable. */
export function parseFreshnessEnvironment(raw: Readonly<Record<string, unknown>>): ParsedFreshnessEnvironment {
  const parsed = FreshnessEnvironmentSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`FreshnessCheck environment: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
