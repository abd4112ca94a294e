/**
 * `authentication_failures`: one row per failed authentication, across the vendors whose data
 * records them, in one shape (vendor, tenant, dt, event_time, identity, reason, source_ip).
 *
 * 1. CSP (`csp_mfa_audit`): the MFA failures, `MFA_AUTHENTICATION_FAILURE` and
 *    `MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE` (the action is the reason); identity is the user
 *    name. The source address is `details['ipAddress']` when the event has that key: the API
 *    documents only `deviceName`, and a subscript on an absent key is an error in Athena (NULL in
 *    DuckDB), so the key is tested first.
 * 2. OpenAthens (`openathens_raw_statistics`): authentications (`AUTHENTICATE`,
 *    `LOCAL_AUTHENTICATE`) whose status is not `SUCCESS` (the status is the reason, e.g.
 *    `ACCOUNT_ERROR_BAD_PASSWORD`); identity is the account id; the address is
 *    `request.ipaddress` (empty CSV fields read as null).
 * 3. PingOne and RSA reports are snapshots of users and devices: no authentications.
 */
import { reportTableName, type ViewColumn } from '../tables.ts';
import type { ViewDefinition } from '../views.ts';

export const AUTHENTICATION_FAILURES_VIEW = 'authentication_failures';

const CSP = reportTableName('csp', 'mfa_audit');
const OPENATHENS = reportTableName('openathens', 'raw_statistics');

const varchar = (name: string, comment: string): ViewColumn => ({
  name,
  glueType: 'string',
  prestoType: 'varchar',
  comment,
});

export const AUTHENTICATION_FAILURE_COLUMNS: readonly ViewColumn[] = [
  varchar('vendor', 'vendor id: csp or openathens'),
  varchar('tenant', 'tenant id'),
  varchar('dt', 'the UTC day of the event (YYYY-MM-DD)'),
  { name: 'event_time', glueType: 'timestamp', prestoType: 'timestamp', comment: 'when it failed (UTC)' },
  varchar('identity', 'CSP user name; OpenAthens account id'),
  varchar('reason', 'CSP action; OpenAthens status, e.g. ACCOUNT_ERROR_BAD_PASSWORD'),
  varchar('source_ip', 'client address where the vendor gives one, else null'),
];

export function authenticationFailuresView(): ViewDefinition {
  return {
    name: AUTHENTICATION_FAILURES_VIEW,
    description:
      'Failed authentications across vendors: CSP MFA failures and OpenAthens failed authentications, with time, identity, reason and source address.',
    sql: `SELECT 'csp' AS vendor, a.tenant, a.dt, a.event_time, a.username AS identity, a.action AS reason,
  CASE WHEN contains(map_keys(a.details), 'ipAddress') THEN a.details['ipAddress'] END AS source_ip
FROM ${CSP} a
WHERE a.action IN ('MFA_AUTHENTICATION_FAILURE', 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE')
UNION ALL
SELECT 'openathens' AS vendor, o.tenant, o.dt, o.event_time, o.account_accountid AS identity, o.status AS reason,
  NULLIF(o.request_ipaddress, '') AS source_ip
FROM ${OPENATHENS} o
WHERE o.action IN ('AUTHENTICATE', 'LOCAL_AUTHENTICATE') AND o.status <> 'SUCCESS'`,
    columns: AUTHENTICATION_FAILURE_COLUMNS,
    sources: [CSP, OPENATHENS],
  };
}
