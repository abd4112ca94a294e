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
import { ConfigError } from '../../core/errors.ts';
import { defineConnector } from '../../core/types.ts';
import { RSA_QUERIES } from './queries.ts';
import { RSA_REPORT_DEFINITIONS } from './records.ts';
import { RsaCredentialsSchema, RsaSectionSchema, RsaTenantSchema } from './settings.ts';

/**
 * The reports are snapshots of the current state: a run archives today's (the scheduled time's
 * UTC date). Another date cannot be fetched, so asking for one fails the plan with the reason.
 */
function planDates(input: { scheduledTime: Date; requestedDate?: string; archived: ReadonlySet<string> }): string[] {
  const today = utcDate(input.scheduledTime);
  if (input.requestedDate !== undefined && input.requestedDate !== today) {
    throw new ConfigError(
      `RSA reports are snapshots of the current state and cannot be fetched for a past or future date: expected date ${today} (the run's scheduled date) or none; received ${input.requestedDate}`,
    );
  }
  return [today];
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
