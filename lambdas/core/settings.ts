/**
 * Building blocks for a connector's config section. A connector composes its schema from these,
 * so every vendor has the same shape: settings, reports, schedule, tenants.
 */
import { z } from 'zod';
import { isCalendarDate } from './dates.ts';

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

/** A tenant's `since` or `until`: a calendar day, UTC. */
function tenantDateSchema(field: 'since' | 'until', meaning: string) {
  return z.string({ error: `expected ${field}: ${meaning}, as YYYY-MM-DD` }).refine(isCalendarDate, {
    error: (issue) => `expected ${field} as a calendar date YYYY-MM-DD; received ${JSON.stringify(issue.input)}`,
  });
}

/**
 * Fields every tenant has. `since` and `until` bound the days its reports are expected (the plan
 * step plans no other day, and coverage counts no other day as due). Exactly one credential
 * source: `secretName` (Secrets Manager, the only one a deployment accepts), or for local runs
 * `credentials` inline or `credentialsEnv` (the name of an environment variable holding the
 * credentials JSON); or none of them when the vendor section names one `secretName` for every
 * tenant (`checkCredentialSources`).
 */
export const TenantBaseSchema = z.object({
  id: SlugSchema,
  /** the first day (UTC) this tenant's reports are expected */
  since: tenantDateSchema('since', "the first day (UTC) this tenant's reports are expected"),
  /** the last day (UTC) they are expected (a retired tenant); absent: still expected */
  until: tenantDateSchema('until', "the last day (UTC) this tenant's reports are expected").optional(),
  /** overrides the vendor's baseUrl for this tenant (regional or tenant-specific hosts) */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  secretName: z.string().min(1).optional(),
  credentials: z.record(z.string(), z.unknown()).optional(),
  credentialsEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
    .optional(),
});

/** A tenant's own credential fields, in the order messages name them. */
export const TENANT_CREDENTIAL_FIELDS = ['secretName', 'credentials', 'credentialsEnv'] as const;

type CredentialFields = { readonly [K in (typeof TENANT_CREDENTIAL_FIELDS)[number]]?: unknown };

/** The credential fields a tenant sets itself. */
export function ownCredentialFields(tenant: CredentialFields): string[] {
  return TENANT_CREDENTIAL_FIELDS.filter((field) => tenant[field] !== undefined);
}

function oneSourceMessage(tenant: { readonly id?: unknown }, own: readonly string[]): string {
  return `tenant "${String(tenant.id)}": expected exactly one of secretName, credentials or credentialsEnv (or a secretName for the whole vendor section); received ${own.length === 0 ? 'none' : own.join(', ')}`;
}

/** At most one credential source of its own: a tenant schema's check, whatever its section says. */
export function checkOneCredentialSource(
  tenant: CredentialFields & { readonly id?: unknown },
  ctx: z.core.$RefinementCtx,
): void {
  const own = ownCredentialFields(tenant);
  if (own.length > 1) ctx.addIssue({ code: 'custom', message: oneSourceMessage(tenant, own) });
}

/**
 * Exactly one credential source per tenant, checked on a whole vendor section: the tenant's own
 * `secretName`, `credentials` or `credentialsEnv`, or, when the section names `secretName`, that
 * secret's entry under the tenant's id and nothing of its own (two places for one credential
 * would leave a reader guessing which one is used). Each problem names the tenant, never a value.
 * `vendorSectionSchema` carries it; a connector that builds a new object over that shape (to
 * override a key) calls it again.
 */
export function checkCredentialSources(section: unknown, ctx: z.core.$RefinementCtx): void {
  // every connector's section comes from vendorSectionSchema, whose tenants extend TenantBaseSchema
  const { secretName, tenants } = section as {
    readonly secretName?: string;
    readonly tenants: readonly (CredentialFields & { readonly id: string })[];
  };
  tenants.forEach((tenant, index) => {
    const own = ownCredentialFields(tenant);
    if (secretName !== undefined && own.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['tenants', index],
        message: `tenant "${tenant.id}": expected no ${own.join(' or ')}: the vendor section's secretName holds every tenant's credentials, under the tenant id; received ${own.join(', ')}`,
      });
    } else if (secretName === undefined && own.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['tenants', index], message: oneSourceMessage(tenant, own) });
    }
  });
}

/** `until`, when given, is not before `since` (ISO dates compare as text). */
export function checkTenantDates(tenant: { since?: string; until?: string }, ctx: z.core.$RefinementCtx): void {
  const { since, until } = tenant;
  if (since === undefined || until === undefined || until >= since) return;
  ctx.addIssue({
    code: 'custom',
    path: ['until'],
    message: `expected until on or after since (${since}); received ${until}`,
  });
}

/**
 * Lambda sizing of a vendor's pipeline functions (`functions` in its section), read by `lib/` at
 * synth. Plan and start/check keep fixed timeouts there; the archive timeout is capped at Lambda's
 * own 15 minutes, which keeps it below its Task's TimeoutSeconds (960 s in
 * `state-machines/report-pipeline.ts`), so a function that runs out of time fails as a Lambda
 * error the Task can catch.
 */
export interface FunctionSizing {
  /** `plan-run` */
  readonly plan: { readonly memoryMb: number };
  /** `start-job` and `check-job` */
  readonly poll: { readonly memoryMb: number };
  /** `archive-report` */
  readonly archive: { readonly memoryMb: number; readonly timeoutMinutes: number; readonly ephemeralStorageMb: number };
}

export const DEFAULT_FUNCTION_SIZING: FunctionSizing = {
  plan: { memoryMb: 256 },
  poll: { memoryMb: 256 },
  // one full vCPU (1,769 MB): the archive step is CPU-bound (inflate, hash, sign), not memory-bound;
  // 10 GB of /tmp for the downloaded report
  archive: { memoryMb: 1769, timeoutMinutes: 15, ephemeralStorageMb: 10_240 },
};

/** Lambda's memory range in MB; CPU scales with it. */
const MemoryMbSchema = z.number().int().min(128).max(10_240);

/** The `functions` block, each field defaulting to `defaults`. */
export function functionSizingSchema(defaults: FunctionSizing = DEFAULT_FUNCTION_SIZING) {
  const memory = (fallback: number) => z.object({ memoryMb: MemoryMbSchema.default(fallback) }).strict();
  return z
    .object({
      plan: memory(defaults.plan.memoryMb).default(defaults.plan),
      poll: memory(defaults.poll.memoryMb).default(defaults.poll),
      archive: z
        .object({
          memoryMb: MemoryMbSchema.default(defaults.archive.memoryMb),
          // Lambda's limit, and below the ArchiveReport Task's TimeoutSeconds (960)
          timeoutMinutes: z.number().int().min(1).max(15).default(defaults.archive.timeoutMinutes),
          // Lambda's range of /tmp
          ephemeralStorageMb: z.number().int().min(512).max(10_240).default(defaults.archive.ephemeralStorageMb),
        })
        .strict()
        .default(defaults.archive),
    })
    .strict()
    .default(defaults);
}

export const FunctionSizingSchema = functionSizingSchema();

export interface VendorSectionDefaults {
  /** the vendor's public API base, when there is one */
  readonly baseUrl?: string;
  readonly schedule: string;
  readonly poll: z.infer<typeof PollSchema>;
  readonly maxConcurrency?: number;
  /** @default DEFAULT_FUNCTION_SIZING */
  readonly functions?: FunctionSizing;
}

/**
 * The vendor section: `enabled`, `secretName`, `baseUrl`, `schedule`, `reports`, `downloadHosts`,
 * `poll`, `maxConcurrency`, `functions`, `tenants`, plus the connector's own settings in `extra`.
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
      /**
       * One Secrets Manager secret for every tenant of the vendor: a JSON object whose keys are
       * tenant ids and whose values are each tenant's credentials. Its tenants then name none.
       */
      secretName: z.string().min(1).optional(),
      baseUrl: options.defaults.baseUrl
        ? z.url({ protocol: /^https?$/ }).default(options.defaults.baseUrl)
        : z.url({ protocol: /^https?$/ }),
      schedule: ScheduleExpressionSchema.default(options.defaults.schedule),
      scheduleTimezone: TimeZoneSchema.default('UTC'),
      reports: z
        .array(z.enum(options.reports))
        .min(1)
        .default([...options.reports]),
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
      functions: functionSizingSchema(options.defaults.functions),
      tenants: z
        .array(options.tenant.superRefine(checkOneCredentialSource).superRefine(checkTenantDates))
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
    .strict()
    .superRefine(checkCredentialSources);
}
