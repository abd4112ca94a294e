/**
 * OpenAthens reports API, as a definition: daily raw statistics per organisation (one API key
 * and API name each).
 *
 * 1. Cadence: an event log served "between yesterday and 30 days ago" (UTC days), per the vendor's
 *    "Fetching raw statistics data via the API" page (docs/vendors/openathens.md).
 * 2. `planDates`: yesterday (UTC) plus every unarchived day still inside the window;
 *    `datesAtRisk` feeds the alarm for days about to age out unarchived (see `dates.ts`).
 */
import { defineConnector } from '../../core/types.ts';
import { planRawReportDates, RAW_REPORT_WINDOW_DAYS, rawReportDatesAtRisk } from './dates.ts';
import { openAthensQueries } from './queries.ts';
import { rawStatisticsReport } from './records.ts';
import {
  OPENATHENS_VENDOR,
  OpenAthensCredentialsSchema,
  OpenAthensSectionSchema,
  OpenAthensTenantSchema,
} from './settings.ts';

export const openAthensDefinition = defineConnector({
  vendor: OPENATHENS_VENDOR,
  displayName: 'OpenAthens',
  sectionSchema: OpenAthensSectionSchema,
  tenantSchema: OpenAthensTenantSchema,
  credentialsSchema: OpenAthensCredentialsSchema,
  reports: [rawStatisticsReport],
  queries: openAthensQueries,
  cadence: { kind: 'event-log', historyDays: RAW_REPORT_WINDOW_DAYS },
  // Every scheduled run already fetches each missing day of the window; backfill is for by hand.
  // No rate limit is documented: 30 s between executions keeps the load polite.
  backfill: { spacingSeconds: 30 },
  planDates: planRawReportDates,
  datesAtRisk: rawReportDatesAtRisk,
});
