/**
 * Auditor queries over `openathens_raw_statistics`, saved in Athena and run locally by DuckDB.
 * `dt` is the UTC day the report covers and `tenant` the organisation (one per API key).
 * Empty CSV fields are archived as empty strings, hence the NULLIF/COALESCE pairs. Each reads the
 * last `RECENT_DAYS` days (`dt` bounded, so Athena's cost does not grow with the archive); for an
 * older period, change the bound.
 */
import type { SavedQuery } from '../../core/types.ts';
import { dtDaysAgo, RECENT_DAYS } from '../../core/views/sql-text.ts';

const TABLE = 'openathens_raw_statistics';
const RECENT = `dt >= ${dtDaysAgo(RECENT_DAYS)}`;
const AUTH_ACTIONS = "('AUTHENTICATE', 'LOCAL_AUTHENTICATE')";
const TRANSFER_ACTIONS = "('FEDERATED_TRANSFER', 'LOCAL_FEDERATED_TRANSFER')";

export const openAthensQueries: readonly SavedQuery[] = [
  {
    name: 'openathens-failed-authentications-by-reason',
    description: `Failed authentications per UTC day, organisation and reason (the status value), last ${RECENT_DAYS} days`,
    sql: `SELECT dt AS day, tenant, status AS reason, COUNT(*) AS failures
FROM ${TABLE}
WHERE ${RECENT} AND action IN ${AUTH_ACTIONS} AND status <> 'SUCCESS'
GROUP BY dt, tenant, status
ORDER BY dt, tenant, failures DESC, reason`,
  },
  {
    name: 'openathens-authentications-per-organisation',
    description: `Authentications per organisation (API key) and account organisation, with successes and failures, last ${RECENT_DAYS} days`,
    sql: `SELECT tenant, COALESCE(NULLIF(account_organisation, ''), '(none)') AS account_organisation,
  COUNT(*) AS authentications,
  SUM(CASE WHEN status = 'SUCCESS' THEN 1 ELSE 0 END) AS succeeded,
  SUM(CASE WHEN status = 'SUCCESS' THEN 0 ELSE 1 END) AS failed
FROM ${TABLE}
WHERE ${RECENT} AND action IN ${AUTH_ACTIONS}
GROUP BY tenant, COALESCE(NULLIF(account_organisation, ''), '(none)')
ORDER BY authentications DESC, tenant, account_organisation`,
  },
  {
    name: 'openathens-authentications-per-resource',
    description: `Transfers (sign-ins) to each resource per organisation, with those blocked or failed, last ${RECENT_DAYS} days`,
    sql: `SELECT tenant, attribute_resourceid AS resource_id,
  MAX(attribute_resourcetitle) AS resource_title,
  COUNT(*) AS transfers,
  SUM(CASE WHEN status = 'SUCCESS' THEN 0 ELSE 1 END) AS not_successful
FROM ${TABLE}
WHERE ${RECENT} AND action IN ${TRANSFER_ACTIONS}
GROUP BY tenant, attribute_resourceid
ORDER BY transfers DESC, tenant, resource_id`,
  },
  {
    name: 'openathens-top-countries',
    description: `Countries (GeoLite2 country code) with the most authentications and transfers, last ${RECENT_DAYS} days`,
    sql: `SELECT COALESCE(NULLIF(request_countrycode, ''), '(unknown)') AS country, COUNT(*) AS events,
  SUM(CASE WHEN status = 'SUCCESS' THEN 0 ELSE 1 END) AS not_successful
FROM ${TABLE}
WHERE ${RECENT}
GROUP BY COALESCE(NULLIF(request_countrycode, ''), '(unknown)')
ORDER BY events DESC, country
LIMIT 20`,
  },
  {
    name: 'openathens-repeated-bad-passwords',
    description: `Accounts with at least 3 bad-password failures (ACCOUNT_ERROR_BAD_PASSWORD) in one UTC day, last ${RECENT_DAYS} days`,
    sql: `SELECT dt AS day, tenant, account_accountid, COUNT(*) AS bad_passwords,
  MIN(event_time) AS first_seen, MAX(event_time) AS last_seen
FROM ${TABLE}
WHERE ${RECENT} AND status = 'ACCOUNT_ERROR_BAD_PASSWORD'
GROUP BY dt, tenant, account_accountid
HAVING COUNT(*) >= 3
ORDER BY bad_passwords DESC, day, tenant, account_accountid`,
  },
  {
    name: 'openathens-unexpected-event-day',
    description: `Rows whose event_time falls outside the day the report covers (last ${RECENT_DAYS} days): should be empty; rows here mean the date layout (read as dd/MM/yyyy) is wrong`,
    sql: `SELECT dt AS day, tenant, COUNT(*) AS rows_outside_day, MIN(event_time_raw) AS example
FROM ${TABLE}
WHERE ${RECENT} AND CAST(CAST(event_time AS DATE) AS VARCHAR) <> dt
GROUP BY dt, tenant
ORDER BY day, tenant`,
  },
];
