/**
 * VMware Cloud Services (CSP), as a definition: the principal MFA audit log.
 *
 * 1. A tenant is one user's API token: the endpoint returns the audit of the token's owner only
 *    and refuses service accounts, so auditing N users takes N tokens.
 * 2. Cadence: an event log read by closed UTC days. How long CSP keeps MFA audit events is not
 *    documented (the "Get Principal Mfa Audit Log Using POST" API page names no retention; see
 *    docs/vendors/csp.md), so `historyDays` is null.
 * 3. `planDates`: a requested date as given; otherwise the last `CATCH_UP_DAYS` days that are not
 *    archived yet, and always yesterday (a re-run refreshes it).
 */
import { addDays, utcDate } from '../../core/dates.ts';
import { defineConnector } from '../../core/types.ts';
import { mfaAuditQueries } from './queries.ts';
import { mfaAuditReport } from './records.ts';
import { CSP_VENDOR, CspCredentialsSchema, CspSectionSchema, CspTenantSchema } from './settings.ts';

/** Days the plan looks back for dates not archived yet (a failed night is caught up). */
export const CATCH_UP_DAYS = 7;

export const cspDefinition = defineConnector({
  vendor: CSP_VENDOR,
  displayName: 'VMware Cloud Services (CSP) MFA audit log',
  sectionSchema: CspSectionSchema,
  tenantSchema: CspTenantSchema,
  credentialsSchema: CspCredentialsSchema,
  reports: [mfaAuditReport],
  queries: mfaAuditQueries,
  cadence: { kind: 'event-log', historyDays: null },
  // Closed windows can be read back for as long as CSP keeps the events (retention unknown);
  // spacing keeps a backfill well under the (undocumented) rate limits.
  backfill: { spacingSeconds: 30 },

  planDates({ scheduledTime, requestedDate, archived }) {
    if (requestedDate) return [requestedDate];
    const today = utcDate(scheduledTime);
    const dates: string[] = [];
    for (let back = CATCH_UP_DAYS; back >= 1; back--) {
      const date = addDays(today, -back);
      if (back === 1 || !archived.has(date)) dates.push(date);
    }
    return dates;
  },
});
