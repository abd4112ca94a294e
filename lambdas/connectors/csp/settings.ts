/**
 * The `csp` config section and the Secrets Manager secret shape.
 *
 * The MFA audit endpoint answers for the user who owns the token only (service accounts are
 * refused), so a tenant here is one user's API token, labelled with that user.
 */
import { z } from 'zod';
import { TenantBaseSchema, vendorSectionSchema } from '../../core/settings.ts';

export const CSP_VENDOR = 'csp';
export const MFA_AUDIT_REPORT = 'mfa_audit';
export const DEFAULT_BASE_URL = 'https://console.cloud.vmware.com';
export const AUTHORIZE_PATH = '/csp/gateway/am/api/auth/api-tokens/authorize';
export const AUDIT_PATH = '/csp/gateway/iam/vmwid/api/principal/mfa/audit';

/** The documented `actions` enum; anything else is a 400 "Specified action is not supported". */
export const MFA_AUDIT_ACTIONS = [
  'MFA_ACTIVATION',
  'MFA_DEACTIVATION',
  'MFA_ENABLE',
  'MFA_DISABLE',
  'MFA_DEVICE_NAME_UPDATE',
  'MFA_AUTHENTICATION_SUCCESS',
  'MFA_AUTHENTICATION_FAILURE',
  'MFA_RECOVERY_CODE_AUTHENTICATION_SUCCESS',
  'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE',
  'MFA_RECOVERY_CODES_GENERATION',
  'AUTHENTICATION_WITHOUT_MFA',
] as const;

/** Documented limits: "Cannot exceed the limit of 20 event ids / device names". */
export const MAX_FILTER_VALUES = 20;

export const MfaAuditActionSchema = z.enum(MFA_AUDIT_ACTIONS);

/** The request filters a tenant may set; checked again before every request is sent. */
export const CspFiltersSchema = z.object({
  actions: z.array(MfaAuditActionSchema).min(1).optional(),
  deviceNames: z.array(z.string().min(1)).min(1).max(MAX_FILTER_VALUES).optional(),
  eventIds: z.array(z.string().min(1)).min(1).max(MAX_FILTER_VALUES).optional(),
});

export const CspTenantSchema = TenantBaseSchema.extend({
  /** the user the API token belongs to (its audit is the only one the token can read) */
  label: z.string().trim().min(1).max(256),
  ...CspFiltersSchema.shape,
}).strict();

/** The Secrets Manager secret (JSON): one user's CSP API token. */
export const CspCredentialsSchema = z.object({
  apiToken: z.string().trim().min(1, 'expected the CSP API token of the user this tenant is labelled with'),
});

export const CspSectionSchema = vendorSectionSchema({
  tenant: CspTenantSchema,
  reports: [MFA_AUDIT_REPORT],
  defaults: {
    baseUrl: DEFAULT_BASE_URL,
    // 01:30 UTC: yesterday's UTC day has ended well before
    schedule: 'cron(30 1 * * ? *)',
    // there is no vendor job to poll: checkJob answers READY at once
    poll: { intervalSeconds: 5, maxAttempts: 3, deadlineMinutes: 5 },
    maxConcurrency: 2,
  },
  extra: {
    /** results per page; the maximum is undocumented (sibling CSP APIs allow 128 or 200) */
    pageLimit: z.number().int().min(1).max(1000).default(100),
    /** records one window may page through (offset + pageLimit); above it the window is split */
    maxRecordsPerWindow: z.number().int().min(1).default(10_000),
    /** a day is fetched only once it ended at least this many minutes ago (late events) */
    settleMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(5),
  },
}).superRefine((section, ctx) => {
  if (section.maxRecordsPerWindow < section.pageLimit) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxRecordsPerWindow'],
      message: `expected at least pageLimit (${section.pageLimit}); received ${section.maxRecordsPerWindow}`,
    });
  }
});

export type CspSection = z.infer<typeof CspSectionSchema>;
export type CspTenant = z.infer<typeof CspTenantSchema>;
export type CspCredentials = z.infer<typeof CspCredentialsSchema>;
export type CspFilters = z.infer<typeof CspFiltersSchema>;
