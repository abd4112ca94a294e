/**
 * `mfa_posture`: one row per vendor, tenant, day (`dt`) and identity, saying whether MFA is in
 * effect for the identity and which factors it has, across the vendors whose reports state it.
 * `mfa_posture_latest` keeps each vendor and tenant's newest day of the last
 * `LATEST_LOOKBACK_DAYS` days.
 *
 * Each vendor's rule, from its documented report fields:
 * 1. PingOne (`pingone_mfa_devices`, one row per user and device, a user without devices on one
 *    row): per user, never per device row. `identity_key` is the user id; `mfa_enabled` is the
 *    user's `mfaEnabled` (the same on each of its rows; true only when every row says so);
 *    `factor_count` the user's MFA devices, whatever their status; `factor_kinds` their device
 *    types. The report has no user email: `email` is the address of the user's EMAIL device (the
 *    smallest of several; `email` is a device field), else null.
 * 2. RSA (`rsa_users` with the same day's `rsa_hardware_tokens`): only days that archived both
 *    reports for the tenant, since a missing token report would read as "no tokens".
 *    `identity_key` is the lower-cased user name, which is how tokens name their user; the factors
 *    are the four registration flags (authenticator app, FIDO, SMS, voice) and each hardware token
 *    assigned to the user; `mfa_enabled` is "has at least one". `Registered Credential` is left
 *    out: its format is undocumented.
 * 3. CSP (`csp_mfa_audit`, an event log, not a state): only a day on which the user's MFA was
 *    activated, enabled, deactivated or disabled, and then the state the day's last such event
 *    leaves (activation/enable: true; deactivation/disable: false; events of one millisecond that
 *    disagree: null). Other days have no CSP row: nothing in the log states the posture then.
 *    CSP says nothing of factors, so `factor_count` and `factor_kinds` are null; no email.
 * 4. OpenAthens' raw statistics carry no MFA data: no rows.
 */
import { MANIFEST_TABLE_NAME, reportTableName, type ViewColumn } from '../tables.ts';
import type { ViewDefinition } from '../views.ts';
import { dtDaysAgo, LATEST_LOOKBACK_DAYS } from './sql-text.ts';

export const MFA_POSTURE_VIEW = 'mfa_posture';
export const MFA_POSTURE_LATEST_VIEW = 'mfa_posture_latest';

const PINGONE = reportTableName('pingone', 'mfa_devices');
const RSA_USERS = reportTableName('rsa', 'users');
const RSA_TOKENS = reportTableName('rsa', 'hardware_tokens');
const CSP = reportTableName('csp', 'mfa_audit');

const column = (name: string, glueType: string, prestoType: string, comment: string): ViewColumn => ({
  name,
  glueType,
  prestoType,
  comment,
});

export const MFA_POSTURE_COLUMNS: readonly ViewColumn[] = [
  column('vendor', 'string', 'varchar', 'vendor id: pingone, rsa or csp'),
  column('tenant', 'string', 'varchar', 'tenant id'),
  column('dt', 'string', 'varchar', 'the day (YYYY-MM-DD, UTC) the posture is of'),
  column('identity_key', 'string', 'varchar', 'stable per vendor: PingOne user id, RSA or CSP user name (lower case)'),
  column('username', 'string', 'varchar', 'user name as the vendor gives it'),
  column('email', 'string', 'varchar', 'email where the vendor states one, else null'),
  column(
    'mfa_enabled',
    'boolean',
    'boolean',
    'MFA in effect (PingOne mfaEnabled; RSA a factor registered; CSP implied by the day’s last change); null when unknown',
  ),
  column('factor_count', 'bigint', 'bigint', 'MFA devices or factors registered; null where the vendor does not say'),
  column(
    'factor_kinds',
    'array<string>',
    'array(varchar)',
    'kinds of those factors, sorted; null where the vendor does not say',
  ),
];

const PINGONE_SQL = `SELECT 'pingone' AS vendor, d.tenant, d.dt, d.user_id AS identity_key,
  MIN(d.username) AS username,
  MIN(CASE WHEN d.device_type = 'EMAIL' THEN d.email END) AS email,
  bool_and(d.mfa_enabled) AS mfa_enabled,
  COUNT(DISTINCT d.device_id) AS factor_count,
  COALESCE(array_sort(array_agg(DISTINCT d.device_type) FILTER (WHERE d.device_id IS NOT NULL AND d.device_type IS NOT NULL)), ARRAY[]) AS factor_kinds
FROM ${PINGONE} d
GROUP BY d.tenant, d.dt, d.user_id`;

/** RSA's registration flags, by factor kind; hardware tokens are counted apart (a user may hold several). */
const RSA_REGISTRATIONS = [
  ['authenticator_app', 'u.device_registered'],
  ['fido', 'u.fido_registered'],
  ['sms', 'u.sms_registered'],
  ['voice', 'u.voice_registered'],
] as const;
const registered = (column: string) => `COALESCE(${column}, false)`;
/** Every RSA factor kind and when a user has it, in name order, so `factor_kinds` comes out sorted. */
const RSA_KINDS = [
  ...RSA_REGISTRATIONS.map(([kind, column]) => [kind, registered(column)] as const),
  ['hardware_token', 'COALESCE(t.tokens, 0) > 0'] as const,
].sort(([a], [b]) => a.localeCompare(b));

const RSA_SQL = `SELECT 'rsa' AS vendor, r.tenant, r.dt, r.identity_key, r.username, r.email,
  r.factor_count > 0 AS mfa_enabled, r.factor_count, r.factor_kinds
FROM (
  SELECT u.tenant, u.dt, lower(trim(u.username)) AS identity_key, u.username, NULLIF(trim(u.email), '') AS email,
    CAST(COALESCE(t.tokens, 0)
      ${RSA_REGISTRATIONS.map(([, column]) => `+ CASE WHEN ${registered(column)} THEN 1 ELSE 0 END`).join('\n      ')} AS BIGINT) AS factor_count,
    ${RSA_KINDS.map(([kind, condition]) => `CASE WHEN ${condition} THEN ARRAY['${kind}'] ELSE ARRAY[] END`).join('\n      || ')} AS factor_kinds
  FROM ${RSA_USERS} u
  JOIN ${MANIFEST_TABLE_NAME} m
    ON m.vendor = 'rsa' AND m.report = 'hardware_tokens' AND m.tenant = u.tenant AND m.dt = u.dt
  LEFT JOIN (
    SELECT tenant, dt, lower(trim(username)) AS identity_key, COUNT(*) AS tokens
    FROM ${RSA_TOKENS}
    WHERE trim(COALESCE(username, '')) <> ''
    GROUP BY tenant, dt, lower(trim(username))
  ) t ON t.tenant = u.tenant AND t.dt = u.dt AND t.identity_key = lower(trim(u.username))
) r`;

const CSP_SQL = `SELECT 'csp' AS vendor, c.tenant, c.dt, c.identity_key, MIN(c.username) AS username,
  CAST(NULL AS VARCHAR) AS email,
  CASE WHEN bool_and(c.enabling) = bool_or(c.enabling) THEN bool_and(c.enabling) END AS mfa_enabled,
  CAST(NULL AS BIGINT) AS factor_count, NULL AS factor_kinds
FROM (
  SELECT a.tenant, a.dt, lower(a.username) AS identity_key, a.username,
    a.action IN ('MFA_ACTIVATION', 'MFA_ENABLE') AS enabling,
    rank() OVER (PARTITION BY a.tenant, a.dt, lower(a.username) ORDER BY a.event_date_ms DESC) AS recency
  FROM ${CSP} a
  WHERE a.action IN ('MFA_ACTIVATION', 'MFA_ENABLE', 'MFA_DEACTIVATION', 'MFA_DISABLE') AND a.username IS NOT NULL
) c
WHERE c.recency = 1
GROUP BY c.tenant, c.dt, c.identity_key`;

const names = MFA_POSTURE_COLUMNS.map((c) => c.name);

export function mfaPostureView(): ViewDefinition {
  return {
    name: MFA_POSTURE_VIEW,
    description:
      'MFA posture per vendor, tenant, day and identity: PingOne per user, RSA users with the same day’s hardware tokens, CSP on days an MFA change implies it.',
    sql: [PINGONE_SQL, RSA_SQL, CSP_SQL].join('\nUNION ALL\n'),
    columns: MFA_POSTURE_COLUMNS,
    sources: [PINGONE, RSA_USERS, RSA_TOKENS, MANIFEST_TABLE_NAME, CSP],
  };
}

/**
 * `mfa_posture` as of each source's newest word within the look-back. A snapshot vendor's newest
 * day comes from its manifests (a published empty snapshot is the newest day, with no rows, never
 * an older day's), for RSA the newest day with both users and tokens. CSP's rows exist only on
 * days an MFA change implies the state, so it is per identity: each one's latest change.
 */
export function mfaPostureLatestView(): ViewDefinition {
  const since = dtDaysAgo(LATEST_LOOKBACK_DAYS);
  const columns = names.map((n) => `p.${n}`).join(', ');
  return {
    name: MFA_POSTURE_LATEST_VIEW,
    description: `mfa_posture as of the newest archived day of the last ${LATEST_LOOKBACK_DAYS} per PingOne and RSA tenant, and each CSP identity's latest MFA change in that time.`,
    sql: `SELECT ${columns}
FROM ${MFA_POSTURE_VIEW} p
JOIN (
  SELECT vendor, tenant, MAX(dt) AS dt
  FROM (
    SELECT vendor, tenant, dt
    FROM ${MANIFEST_TABLE_NAME}
    WHERE dt >= ${since}
      AND ((vendor = 'pingone' AND report = 'mfa_devices') OR (vendor = 'rsa' AND report IN ('users', 'hardware_tokens')))
    GROUP BY vendor, tenant, dt
    HAVING COUNT(DISTINCT report) = CASE WHEN vendor = 'rsa' THEN 2 ELSE 1 END
  ) complete
  GROUP BY vendor, tenant
) latest ON p.vendor = latest.vendor AND p.tenant = latest.tenant AND p.dt = latest.dt
WHERE p.dt >= ${since} AND p.vendor <> 'csp'
UNION ALL
SELECT ${columns}
FROM (
  SELECT q.*, row_number() OVER (PARTITION BY q.tenant, q.identity_key ORDER BY q.dt DESC) AS recency
  FROM ${MFA_POSTURE_VIEW} q
  WHERE q.vendor = 'csp' AND q.dt >= ${since}
) p
WHERE p.recency = 1`,
    columns: MFA_POSTURE_COLUMNS,
    sources: [MFA_POSTURE_VIEW, MANIFEST_TABLE_NAME],
  };
}
