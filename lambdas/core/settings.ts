/**
 * Building blocks for a connector's config section. A connector composes its schema from these,
 * so every vendor has the same shape: settings, reports, schedule, tenants.
 */
import { z } from 'zod';

export const SlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected a lower-case slug (a-z, 0-9, ".", "_", "-"; at most 63 characters)');

/** EventBridge Scheduler expressions: cron(6 fields), rate(n unit) or at(). */
export const ScheduleExpressionSchema = z
  .string()
  .regex(
    /^(cron\((\S+\s){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/,
    'expected an EventBridge Scheduler expression such as "cron(15 2 * * ? *)" or "rate(1 day)"',
  );

/** A time zone the runtime knows (IANA names such as "UTC" or "Europe/London"): a typo fails synth, not deploy. */
export const TimeZoneSchema = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  {
    error: (issue) =>
      `expected an IANA time zone such as "UTC" or "Europe/London"; received ${JSON.stringify(issue.input)}`,
  },
);

export const PollSchema = z
  .object({
    intervalSeconds: z.number().int().min(1).max(3600),
    maxAttempts: z.number().int().min(1).max(1000),
    deadlineMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  })
  .strict();

/**
 * Fields every tenant has. Exactly one credential source: `secretName` (Secrets Manager, the
 * only one a deployment accepts), or for local runs `credentials` inline or `credentialsEnv`
 * (the name of an environment variable holding the credentials JSON).
 */
export const TenantBaseSchema = z.object({
  id: SlugSchema,
  /** overrides the vendor's baseUrl for this tenant (regional or tenant-specific hosts) */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  secretName: z.string().min(1).optional(),
  credentials: z.record(z.string(), z.unknown()).optional(),
  credentialsEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
    .optional(),
});

export function checkOneCredentialSource(
  tenant: { secretName?: string; credentials?: unknown; credentialsEnv?: string },
  ctx: z.core.$RefinementCtx,
): void {
  const given = [tenant.secretName, tenant.credentials, tenant.credentialsEnv].filter((v) => v !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `expected exactly one of secretName, credentials or credentialsEnv; received ${given.length}`,
    });
  }
}

export interface VendorSectionDefaults {
  /** the vendor's public API base, when there is one */
  readonly baseUrl?: string;
  readonly schedule: string;
  readonly poll: z.infer<typeof PollSchema>;
  readonly maxConcurrency?: number;
}

/**
 * The vendor section: `enabled`, `baseUrl`, `schedule`, `reports`, `downloadHosts`, `poll`,
 * `maxConcurrency`, `tenants`, plus the connector's own settings in `extra`.
 */
export function vendorSectionSchema<
  TTenant extends z.ZodObject,
  TReport extends readonly [string, ...string[]],
  // biome-ignore lint/complexity/noBannedTypes: no extra settings by default
  TExtra extends z.ZodRawShape = {},
>(options: { tenant: TTenant; reports: TReport; defaults: VendorSectionDefaults; extra?: TExtra }) {
  return z
    .object({
      enabled: z.boolean().default(true),
      baseUrl: options.defaults.baseUrl
        ? z.url({ protocol: /^https?$/ }).default(options.defaults.baseUrl)
        : z.url({ protocol: /^https?$/ }),
      schedule: ScheduleExpressionSchema.default(options.defaults.schedule),
      scheduleTimezone: TimeZoneSchema.default('UTC'),
      reports: z
        .array(z.enum(options.reports))
        .min(1)
        .default([...options.reports] as never),
      downloadHosts: z
        .array(z.string().regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/i, 'expected a host name or *.suffix'))
        .default([]),
      poll: PollSchema.default(options.defaults.poll),
      maxConcurrency: z
        .number()
        .int()
        .min(1)
        .max(20)
        .default(options.defaults.maxConcurrency ?? 2),
      tenants: z
        .array(options.tenant.superRefine(checkOneCredentialSource))
        .min(1, 'expected at least one tenant')
        .superRefine((tenants, ctx) => {
          const seen = new Set<string>();
          for (const [index, tenant] of tenants.entries()) {
            const id = (tenant as { id: string }).id;
            if (seen.has(id))
              ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate tenant id "${id}"` });
            seen.add(id);
          }
        }),
      ...(options.extra ?? ({} as TExtra)),
    })
    .strict();
}
