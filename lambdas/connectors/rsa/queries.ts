/**
 * Auditor queries over the RSA tables. Each reads the latest snapshot per tenant, through the
 * report's `_latest` view (newest day of the last `LATEST_LOOKBACK_DAYS`): the reports are
 * point-in-time lists, so older partitions are history, not more rows. Plain SQL that both
 * Athena (Trino) and DuckDB accept.
 */
import type { SavedQuery } from '../../core/types.ts';
import { dtDaysAgo, LATEST_LOOKBACK_DAYS, latestViewName } from '../../core/views/sql-text.ts';

/** `<alias>` rows of `<table>` from each tenant's latest partition. */
function latest(table: string, alias: string): string {
  return `FROM ${latestViewName(table)} ${alias}`;
}

const blankAs = (expression: string, label: string) =>
  `CASE WHEN TRIM(COALESCE(${expression}, '')) = '' THEN '${label}' ELSE ${expression} END`;

export const RSA_QUERIES: readonly SavedQuery[] = [
  {
    name: 'rsa-users-by-identity-source-and-status',
    description: 'RSA: number of users per identity source and status, per tenant, in the latest users report.',
    sql: `SELECT u.tenant, u.dt,
  ${blankAs('u.identity_source_name', '(none)')} AS identity_source,
  ${blankAs('u.status', '(none)')} AS user_status,
  COUNT(*) AS users
${latest('rsa_users', 'u')}
GROUP BY u.tenant, u.dt, ${blankAs('u.identity_source_name', '(none)')}, ${blankAs('u.status', '(none)')}
ORDER BY u.tenant, identity_source, user_status`,
  },
  // The `t.dt` bound repeats what `t.dt = u.dt` implies: Athena prunes partitions by constants,
  // not by a correlated column.
  {
    name: 'rsa-users-without-registered-authenticator',
    description:
      'RSA: users with no registered authenticator (no device, FIDO, SMS or voice registration, no registered credential, no hardware token assigned in the same day\u2019s hardware_tokens report).',
    sql: `SELECT u.tenant, u.dt, u.username, u.email, u.identity_source_name, u.status
${latest('rsa_users', 'u')}
WHERE COALESCE(u.device_registered, FALSE) = FALSE
  AND COALESCE(u.fido_registered, FALSE) = FALSE
  AND COALESCE(u.sms_registered, FALSE) = FALSE
  AND COALESCE(u.voice_registered, FALSE) = FALSE
  AND TRIM(COALESCE(u.registered_credential, '')) = ''
  AND NOT EXISTS (
    SELECT 1 FROM rsa_hardware_tokens t
    WHERE t.tenant = u.tenant AND t.dt = u.dt AND t.dt >= ${dtDaysAgo(LATEST_LOOKBACK_DAYS)}
      AND TRIM(COALESCE(t.username, '')) <> ''
      AND LOWER(TRIM(t.username)) = LOWER(TRIM(u.username))
  )
ORDER BY u.tenant, u.username`,
  },
  {
    name: 'rsa-hardware-tokens-by-assignment',
    description: 'RSA: hardware tokens per tenant, assigned or not, by token type and status, in the latest report.',
    sql: `SELECT t.tenant, t.dt,
  CASE WHEN TRIM(COALESCE(t.username, '')) = '' THEN 'unassigned' ELSE 'assigned' END AS assignment,
  ${blankAs('t.token_type', '(none)')} AS token_type,
  ${blankAs('t.status', '(none)')} AS token_status,
  COUNT(*) AS tokens
${latest('rsa_hardware_tokens', 't')}
GROUP BY t.tenant, t.dt,
  CASE WHEN TRIM(COALESCE(t.username, '')) = '' THEN 'unassigned' ELSE 'assigned' END,
  ${blankAs('t.token_type', '(none)')}, ${blankAs('t.status', '(none)')}
ORDER BY t.tenant, assignment, token_type, token_status`,
  },
  {
    name: 'rsa-hardware-tokens-expiring',
    description:
      'RSA: hardware tokens that expired or expire within 90 days of the latest report date, with their assigned user.',
    sql: `SELECT t.tenant, t.dt, t.serial_number, t.token_type, t.username, t.email, t.expiration_date,
  CASE WHEN t.expiration_date < CAST(t.dt AS TIMESTAMP) THEN 'expired' ELSE 'expiring' END AS expiry_state
${latest('rsa_hardware_tokens', 't')}
WHERE t.expiration_date < CAST(t.dt AS TIMESTAMP) + INTERVAL '90' DAY
ORDER BY t.tenant, t.expiration_date, t.serial_number`,
  },
  {
    name: 'rsa-administrators-and-roles',
    description: 'RSA: Cloud Administration Console administrators and their roles, in the latest admin_users report.',
    sql: `SELECT a.tenant, a.dt, a.administrative_role, a.email, a.first_name, a.last_name, a.status, a.last_login
${latest('rsa_admin_users', 'a')}
ORDER BY a.tenant, a.administrative_role, a.email`,
  },
  {
    name: 'rsa-radius-clients',
    description: 'RSA: configured RADIUS clients, in the latest radius_clients report.',
    sql: `SELECT r.tenant, r.dt, r.name, r.ip_address, r.description, r.cluster, r.radius_profile, r.status
${latest('rsa_radius_clients', 'r')}
ORDER BY r.tenant, r.name, r.ip_address`,
  },
  {
    name: 'rsa-mfa-agents-by-type-and-version',
    description:
      'RSA: cloud-connected MFA agents per agent type, platform and version, in the latest mfa_clients report.',
    sql: `SELECT c.tenant, c.dt,
  ${blankAs('c.agent_type', '(none)')} AS agent_type,
  ${blankAs('c.platform', '(none)')} AS agent_platform,
  ${blankAs('c.version', '(none)')} AS agent_version,
  COUNT(*) AS agents, MAX(c.last_authentication) AS last_authentication
${latest('rsa_mfa_clients', 'c')}
GROUP BY c.tenant, c.dt, ${blankAs('c.agent_type', '(none)')}, ${blankAs('c.platform', '(none)')}, ${blankAs('c.version', '(none)')}
ORDER BY c.tenant, agent_type, agent_platform, agent_version`,
  },
];
