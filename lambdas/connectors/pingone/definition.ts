/**
 * PingOne MFA reports (dataExplorations), as a definition: a daily snapshot of every user and MFA
 * device of each configured environment.
 *
 * 1. Cadence: a snapshot. The report lists users and devices as they are now ("generate reports
 *    containing user and MFA device details", PingOne API "Reporting" page; docs/vendors/pingone.md);
 *    no report of a past day exists, so `historyDays` is 0 and there is no backfill.
 * 2. `planDates`: a run covers the UTC date of its scheduled time only; any other requested date
 *    plans nothing.
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
  planDates({ scheduledTime, requestedDate }) {
    const snapshot = utcDate(scheduledTime);
    // A snapshot of today cannot stand in for another day: PingOne keeps no device history.
    if (requestedDate !== undefined && requestedDate !== snapshot) return [];
    return [snapshot];
  },
});
