/**
 * PingOne MFA reports (dataExplorations), as a definition: a daily snapshot of every user and MFA
 * device of each configured environment.
 *
 * 1. Cadence: a snapshot. The report lists users and devices as they are now ("generate reports
 *    containing user and MFA device details", PingOne API "Reporting" page; docs/vendors/pingone.md);
 *    no report of a past day exists, so `historyDays` is 0 and there is no backfill.
 * 2. `planDates`: a run covers the UTC date of its scheduled time, or the requested date, which
 *    the start step skips with its reason unless it is today (a snapshot has no history).
 */
import { utcDate } from '../../core/dates.ts';
import { defineConnector } from '../../core/types.ts';
import { pingOneQueries } from './queries.ts';
import { mfaDevicesReport } from './records.ts';
import { PINGONE_VENDOR, PingOneCredentialsSchema, PingOneSectionSchema, PingOneTenantSchema } from './settings.ts';

export const pingOneDefinition = defineConnector({
  vendor: PINGONE_VENDOR,
  displayName: 'PingOne MFA reports',
  sectionSchema: PingOneSectionSchema,
  tenantSchema: PingOneTenantSchema,
  credentialsSchema: PingOneCredentialsSchema,
  reports: [mfaDevicesReport],
  queries: pingOneQueries,
  cadence: { kind: 'snapshot', historyDays: 0 },
  // Another requested date is planned too, so that the start step skips it with its reason
  // (lambdas/pipeline/served-date.ts): PingOne keeps no device history.
  planDates: ({ scheduledTime, requestedDate }) => [requestedDate ?? utcDate(scheduledTime)],
});
