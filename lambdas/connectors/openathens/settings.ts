/**
 * The `openathens` config section and the Secrets Manager secret of one organisation.
 *
 * A tenant is one organisation: its API name (the URL path segment) and its API key, which
 * covers that organisation only (sub-organisations need their own key).
 */
import { z } from 'zod';
import { TenantBaseSchema, vendorSectionSchema } from '../../core/settings.ts';

export const OPENATHENS_VENDOR = 'openathens';
export const OPENATHENS_DEFAULT_BASE_URL = 'https://reports.openathens.net/api/v1';

/** The domain's API name as it appears in the URL path (usually the federation scope, e.g. example.org). */
const API_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** Strict: a typo ("apiname") or a key pasted into the config ("apiKey") is refused, not ignored. */
export const OpenAthensTenantSchema = TenantBaseSchema.extend({
  apiName: z
    .string()
    .regex(
      API_NAME,
      'expected the OpenAthens API name of the organisation, such as "example.org" (letters, digits, ".", "_", "-")',
    ),
}).strict();

export const OpenAthensSectionSchema = vendorSectionSchema({
  tenant: OpenAthensTenantSchema,
  reports: ['raw_statistics'] as const,
  defaults: {
    baseUrl: OPENATHENS_DEFAULT_BASE_URL,
    // Days are UTC; 01:30 leaves a buffer for yesterday's data to settle.
    schedule: 'cron(30 1 * * ? *)',
    // The docs suggest 20 s between polls; 90 polls ≈ 30 minutes, under an hour's deadline.
    poll: { intervalSeconds: 20, maxAttempts: 90, deadlineMinutes: 60 },
  },
  // Given explicitly: left out, TExtra widens to an index signature and the settings type to unknown.
  extra: {},
});

/** The Secrets Manager secret of one organisation: `{ "apiKey": "..." }`. */
export const OpenAthensCredentialsSchema = z.object({
  apiKey: z
    .string()
    .min(1, 'expected apiKey: the organisation API key with the Reports API (or Full access) permission')
    .regex(/^[\x21-\x7e]+$/, 'expected apiKey without spaces, line breaks or non-ASCII characters'),
});

export type OpenAthensTenant = z.infer<typeof OpenAthensTenantSchema>;
export type OpenAthensSection = z.infer<typeof OpenAthensSectionSchema>;
export type OpenAthensCredentials = z.infer<typeof OpenAthensCredentialsSchema>;
