/**
 * Auditor queries over `pingone_mfa_devices` (Athena saved queries; DuckDB locally). Each one
 * reads the latest snapshot of every environment (tenant), through the `_latest` view (newest day
 * of the last `LATEST_LOOKBACK_DAYS`): the report is a point-in-time list, so adding snapshots of
 * different days would count devices twice, and the look-back keeps the cost off the history.
 */
import type { SavedQuery } from '../../core/types.ts';
import { latestViewName } from '../../core/views/sql-text.ts';

const TABLE = latestViewName('pingone_mfa_devices');

/** ITU-T E.164 country codes of one or two digits; every other code has three. */
const TWO_DIGIT_CODES = [
  20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62,
  63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

export const COUNTRY_PREFIX_SQL = `CASE
      WHEN d.phone LIKE '+1%' THEN '+1'
      WHEN d.phone LIKE '+7%' THEN '+7'
      WHEN substr(d.phone, 1, 3) IN (${TWO_DIGIT_CODES.map((c) => `'+${c}'`).join(', ')}) THEN substr(d.phone, 1, 3)
      WHEN d.phone LIKE '+%' THEN substr(d.phone, 1, 4)
      ELSE 'no country prefix'
    END`;

export const pingOneQueries: readonly SavedQuery[] = [
  {
    name: 'pingone-users-without-mfa',
    description:
      'Users whose MFA is not enabled, in the latest snapshot of each environment, with how many MFA devices they still have.',
    sql: `SELECT d.tenant, d.dt, d.environment_id, d.user_id, d.username, d.given_name, d.family_name,
  MAX(d.email) AS email, COUNT(d.device_id) AS devices
FROM ${TABLE} d
WHERE d.mfa_enabled = false
GROUP BY d.tenant, d.dt, d.environment_id, d.user_id, d.username, d.given_name, d.family_name
ORDER BY d.tenant, d.username`,
  },
  {
    name: 'pingone-devices-by-type',
    description:
      'MFA devices by type and status per environment (latest snapshot), with the number of users holding them.',
    sql: `SELECT d.tenant, d.dt, d.environment_id, d.device_type, d.device_status,
  COUNT(*) AS devices, COUNT(DISTINCT d.user_id) AS users
FROM ${TABLE} d
WHERE d.device_id IS NOT NULL
GROUP BY d.tenant, d.dt, d.environment_id, d.device_type, d.device_status
ORDER BY d.tenant, devices DESC, d.device_type, d.device_status`,
  },
  {
    name: 'pingone-compromised-devices',
    description:
      'Mobile devices whose integrity check reports them compromised (rooted, jailbroken, ...), latest snapshot.',
    sql: `SELECT d.tenant, d.dt, d.environment_id, d.user_id, d.username, d.device_id, d.device_type, d.device_status,
  d.device_integrity_state_reason, d.device_integrity_state_timestamp, d.device_integrity_state_advice,
  d.manufacturer, d.model_name, d.os_type, d.os_version, d.app_version
FROM ${TABLE} d
WHERE d.device_integrity_state_compromised = true
ORDER BY d.tenant, d.device_integrity_state_timestamp DESC, d.username`,
  },
  {
    name: 'pingone-locked-or-blocked-devices',
    description: 'MFA devices that are blocked by an administrator or temporarily locked, latest snapshot.',
    sql: `SELECT d.tenant, d.dt, d.environment_id, d.user_id, d.username, d.device_id, d.device_type,
  COALESCE(d.device_blocked, false) AS blocked, d.blocked_at,
  COALESCE(d.device_locked, false) AS locked, d.lock_expiration
FROM ${TABLE} d
WHERE d.device_blocked = true OR d.device_locked = true
ORDER BY d.tenant, d.username, d.device_id`,
  },
  {
    name: 'pingone-phone-numbers-by-country-prefix',
    description:
      'Phone-based MFA devices (SMS, voice, WhatsApp, ...) by E.164 country calling code per environment, latest snapshot.',
    sql: `SELECT d.tenant, d.dt, d.environment_id,
  ${COUNTRY_PREFIX_SQL} AS country_prefix,
  COUNT(*) AS devices, COUNT(DISTINCT d.user_id) AS users
FROM ${TABLE} d
WHERE d.phone IS NOT NULL
GROUP BY d.tenant, d.dt, d.environment_id, ${COUNTRY_PREFIX_SQL}
ORDER BY d.tenant, devices DESC, country_prefix`,
  },
];
