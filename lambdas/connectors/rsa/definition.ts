/**
 * RSA ID Plus / SecurID Cloud Administration reports, as a definition.
 *
 * 1. Five reports: three generated then downloaded (`users`, `hardware_tokens`, `mfa_clients`),
 *    two generated and downloaded in one call (`admin_users`, `radius_clients`); see records.ts.
 * 2. Cadence: snapshots of the current state ("The report on this API is equivalent to the report
 *    that you can download from the Cloud Administration interface", Cloud Administration Generate
 *    and Download Report APIs; docs/vendors/rsa.md); no past date can be fetched, so `historyDays`
 *    is 0 and there is no backfill.
 */

import { utcDate } from '../../core/dates.ts';
import { defineConnector } from '../../core/types.ts';
import { RSA_QUERIES } from './queries.ts';
import { RSA_REPORT_DEFINITIONS } from './records.ts';
import { RsaCredentialsSchema, RsaSectionSchema, RsaTenantSchema } from './settings.ts';

/**
 * The scheduled day, or the requested one: a date other than today is planned so that the start
 * step skips it with its reason (lambdas/pipeline/served-date.ts), since RSA's reports are
 * snapshots of the current state.
 */
function planDates(input: { scheduledTime: Date; requestedDate?: string }): string[] {
  return [input.requestedDate ?? utcDate(input.scheduledTime)];
}

export const rsaDefinition = defineConnector({
  vendor: 'rsa',
  displayName: 'RSA ID Plus / SecurID Cloud Administration',
  sectionSchema: RsaSectionSchema,
  tenantSchema: RsaTenantSchema,
  credentialsSchema: RsaCredentialsSchema,
  reports: RSA_REPORT_DEFINITIONS,
  queries: RSA_QUERIES,
  cadence: { kind: 'snapshot', historyDays: 0 },
  planDates,
});
