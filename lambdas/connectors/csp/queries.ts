/**
 * Auditor queries over `csp_mfa_audit`, saved in Athena and run locally by DuckDB. `dt` is the
 * UTC day of the event window and `tenant` the user whose token read it. Each reads the last
 * `RECENT_DAYS` days (`dt` bounded, so Athena's cost does not grow with the archive); for an
 * older period, change the bound.
 */
import type { SavedQuery } from '../../core/types.ts';
import { dtDaysAgo, RECENT_DAYS } from '../../core/views/sql-text.ts';
import { MFA_AUDIT_TABLE } from './records.ts';

const t = MFA_AUDIT_TABLE;
const RECENT = `dt >= ${dtDaysAgo(RECENT_DAYS)}`;

export const mfaAuditQueries: readonly SavedQuery[] = [
  {
    name: 'csp-mfa-deactivations-and-disables-per-user',
    description: `Per user, last ${RECENT_DAYS} days: how often MFA was deactivated or disabled, by whom, and when first and last (an admin in modified_by is an admin action)`,
    sql: `SELECT username, modified_by, action, COUNT(*) AS events, MIN(event_time) AS first_seen, MAX(event_time) AS last_seen
FROM ${t}
WHERE ${RECENT} AND action IN ('MFA_DEACTIVATION', 'MFA_DISABLE')
GROUP BY username, modified_by, action
ORDER BY username, modified_by, action`,
  },
  {
    name: 'csp-mfa-authentication-failures-per-day',
    description: `Per UTC day and user, last ${RECENT_DAYS} days: failed MFA authentications, with failed recovery-code authentications apart`,
    sql: `SELECT dt AS day, username,
  SUM(CASE WHEN action = 'MFA_AUTHENTICATION_FAILURE' THEN 1 ELSE 0 END) AS mfa_failures,
  SUM(CASE WHEN action = 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE' THEN 1 ELSE 0 END) AS recovery_code_failures,
  COUNT(*) AS failures
FROM ${t}
WHERE ${RECENT} AND action IN ('MFA_AUTHENTICATION_FAILURE', 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE')
GROUP BY dt, username
ORDER BY dt, username`,
  },
  {
    name: 'csp-logins-without-mfa',
    description: `Every login that did not use MFA (AUTHENTICATION_WITHOUT_MFA) in the last ${RECENT_DAYS} days, newest first`,
    sql: `SELECT event_time, username, tenant_label, event_id
FROM ${t}
WHERE ${RECENT} AND action = 'AUTHENTICATION_WITHOUT_MFA'
ORDER BY event_time DESC, event_id`,
  },
  {
    name: 'csp-recovery-code-use',
    description: `Recovery-code logins (successful and failed) and recovery-code generation in the last ${RECENT_DAYS} days, newest first`,
    sql: `SELECT event_time, username, action, device_name, modified_by, event_id
FROM ${t}
WHERE ${RECENT} AND action IN ('MFA_RECOVERY_CODE_AUTHENTICATION_SUCCESS', 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE', 'MFA_RECOVERY_CODES_GENERATION')
ORDER BY event_time DESC, event_id`,
  },
];
