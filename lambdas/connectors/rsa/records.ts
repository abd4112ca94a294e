/**
 * The five RSA report tables: columns keyed by a normalised header, typed where the meaning is
 * clear, and every other column kept in `extra`.
 *
 * 1. RSA's CSV headers are human-readable and change between releases ("Distinguished Name"
 *    became "Primary Unique Identifier (DN)"). A header is matched by its normalised form
 *    (`normaliseHeader`: lower snake_case, accents and punctuation dropped) against a column's
 *    name or one of its aliases (older names of the same column).
 * 2. Columns the docs list for the UI reports (All Users, Agent Inventory) are typed: `Yes`/`No`
 *    flags as booleans, dates as timestamps (UTC). Parsing is strict: a value in an unexpected
 *    shape raises MalformedCsvError naming the header, never a guess.
 * 3. `hardware_tokens`, `admin_users` and `radius_clients` have no documented columns: their
 *    columns here are assumed names (marked so in each comment). A header that matches none of
 *    them is not lost: it lands in `extra`.
 * 4. Any header that matches no column goes into `extra` (`map<string,string>`), keyed by its
 *    normalised form, so a column RSA adds is archived and queryable as `extra['new_column']`.
 * 5. String values are kept exactly as delivered (an empty field stays '').
 * 6. Every column is required in the CSV header (by its name or an alias), so a renamed header
 *    fails the file instead of archiving that column as nulls, unless it is marked optional with
 *    the docs that make it so: the All Users columns only one documented release lists. An
 *    optional column the file does not have is null. The assumed columns are required too: no
 *    doc says they may be absent, and a wrong guess shows at once, naming the headers received.
 */
import { isRealDay } from '../../core/dates.ts';
import { MalformedCsvError } from '../../core/errors.ts';
import type { ColumnDefinition, ColumnType, JsonObject, JsonValue, ReportDefinition } from '../../core/types.ts';

export const GENERATED_REPORTS = ['users', 'hardware_tokens', 'mfa_clients'] as const;
export const DIRECT_REPORTS = ['admin_users', 'radius_clients'] as const;
export const RSA_REPORTS = [...GENERATED_REPORTS, ...DIRECT_REPORTS] as const;
export type RsaReportName = (typeof RSA_REPORTS)[number];

export function isGeneratedReport(report: string): report is (typeof GENERATED_REPORTS)[number] {
  return (GENERATED_REPORTS as readonly string[]).includes(report);
}

/** File names the originals are archived under (RSA's own example names where documented). */
export const REPORT_FILE_NAMES: Readonly<Record<RsaReportName, string>> = {
  users: 'all_users_report.csv',
  hardware_tokens: 'hardware_tokens_report.csv',
  mfa_clients: 'mfa_clients_report.csv',
  admin_users: 'admin_users_report.csv',
  radius_clients: 'radius_clients_report.csv',
};

/**
 * `Primary Unique Identifier (DN)` → `primary_unique_identifier_dn`, `Zoë's Côté` → `zoe_s_cote`.
 * A leading digit gets a `c_` prefix (SQL identifiers). Empty when nothing alphanumeric is left.
 */
export function normaliseHeader(header: string): string {
  const name = header
    .replace(/^\uFEFF/, '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[0-9]/.test(name) ? `c_${name}` : name;
}

interface RsaColumn extends ColumnDefinition {
  /** normalised header names of earlier or alternative releases */
  readonly aliases: readonly string[];
  /** why a file may lack this column, citing the docs; absent: the column is required */
  readonly optional?: string;
}

function col(name: string, type: ColumnType, comment: string, aliases: readonly string[] = []): RsaColumn {
  if (normaliseHeader(name) !== name) throw new Error(`column name "${name}" is not normalised`);
  return { name, type, comment, aliases };
}

function optional(column: RsaColumn, citation: string): RsaColumn {
  return { ...column, optional: citation };
}

/**
 * RSA documents two releases of All Users ("Run User Reports": the archived newer page and
 * run-user-reports/ta-p/623053; docs/vendors/rsa.md, vendors.md §3.6). A column only one lists
 * may be absent from the other's files.
 */
const NEWER_ONLY = 'optional: listed by the newer All Users release only (RSA "Run User Reports", docs/vendors/rsa.md)';
const OLDER_ONLY = 'optional: listed by the older All Users release only (RSA "Run User Reports", docs/vendors/rsa.md)';
/** The newer release's list is cut off in the source after "Emergency Access Code created on, …". */
const OLDER_LISTED =
  'optional: listed by the older All Users release; the newer release\u2019s list is truncated before it (docs/vendors/rsa.md)';

const s = 'string' as const;
const b = 'boolean' as const;
const ts = 'timestamp' as const;

const ASSUMED = 'assumed header (RSA does not document this report\u2019s columns)';

const COLUMNS: Readonly<Record<RsaReportName, readonly RsaColumn[]>> = {
  // All Users / All Synchronized Users: the UI report's documented columns, newer and older names.
  users: [
    col('email', s, 'Email'),
    col('username', s, 'Username'),
    col('alternate_username', s, 'Alternate Username'),
    col('first_name', s, 'First Name'),
    col('last_name', s, 'Last Name'),
    col('primary_unique_identifier_dn', s, 'Primary Unique Identifier (DN); "Distinguished Name" in older releases', [
      'distinguished_name',
      'dn',
    ]),
    optional(col('user_id', s, 'User Id'), NEWER_ONLY),
    col('identity_source_name', s, 'Identity Source Name', ['identity_source']),
    col('account_created', ts, 'Account Created (UTC)'),
    col('account_last_updated', ts, 'Account Last Updated (UTC)'),
    col('month_last_authenticated', s, 'Month Last Authenticated, as delivered (format undocumented)'),
    col('status', s, 'Status, e.g. Enabled, Disabled'),
    col('device_name', s, 'Device Name'),
    optional(col('device_os_version', s, 'Device OS & Version'), NEWER_ONLY),
    optional(col('device_type', s, 'Device Type (older releases)'), OLDER_ONLY),
    col('app_name', s, 'App Name'),
    col('app_version', s, 'App Version'),
    col('device_registered', b, 'Device Registered (Yes/No)'),
    optional(col('cloud_user', b, 'Cloud User (Yes/No)'), NEWER_ONLY),
    optional(col('registered_credential', s, 'Registered Credential, as delivered'), NEWER_ONLY),
    optional(
      col('used_cloud_service_in_the_last_6_months', b, 'Used Cloud Service in the last 6 months (Yes/No)'),
      NEWER_ONLY,
    ),
    optional(col('unified_directory_user', b, 'Unified Directory User (Yes/No)'), NEWER_ONLY),
    col('fido_authenticator', s, 'FIDO Authenticator'),
    col('fido_registered', b, 'FIDO Registered (Yes/No)'),
    col('fido_status', s, 'FIDO Status'),
    optional(col('fido_authenticator_manufacturer', s, 'FIDO Authenticator Manufacturer'), NEWER_ONLY),
    col('sms_registered', b, 'SMS Registered (Yes/No)'),
    col('voice_registered', b, 'Voice Registered (Yes/No)'),
    col('high_risk_user', b, 'High-Risk User (Yes/No)'),
    col(
      'emergency_access_code_created_on',
      ts,
      'Emergency Access Code created on; "Emergency Tokencode" in older releases',
      ['emergency_tokencode_created_on'],
    ),
    optional(
      col('emergency_access_code_expires_on', ts, 'Emergency Access Code expires on', [
        'emergency_tokencode_expires_on',
      ]),
      OLDER_LISTED,
    ),
    optional(
      col('emergency_access_code_last_used', ts, 'Emergency Access Code last used', ['emergency_tokencode_last_used']),
      OLDER_LISTED,
    ),
    optional(
      col('emergency_access_code_locked_on', ts, 'Emergency Access Code locked on', ['emergency_tokencode_locked_on']),
      OLDER_LISTED,
    ),
    optional(
      col('offline_emergency_access_code_enabled_on', ts, 'Offline Emergency Access Code enabled on', [
        'offline_emergency_tokencode_enabled_on',
      ]),
      OLDER_LISTED,
    ),
  ],
  // Hardware OTP Credential Information: RSA documents no columns.
  hardware_tokens: [
    col('serial_number', s, `Serial Number; ${ASSUMED}`, ['serial', 'token_serial_number']),
    col('token_type', s, `Token Type; ${ASSUMED}`, ['credential_type', 'type']),
    col('username', s, `Username of the assigned user, empty when unassigned; ${ASSUMED}`, [
      'assigned_user',
      'assigned_to',
      'user',
    ]),
    col('email', s, `Email of the assigned user; ${ASSUMED}`, ['user_email']),
    col('identity_source_name', s, `Identity Source Name; ${ASSUMED}`, ['identity_source']),
    col('status', s, `Status, e.g. Assigned, Unassigned, Disabled; ${ASSUMED}`),
    col('assigned_on', ts, `Assigned On (UTC); ${ASSUMED}`, ['assigned_date', 'date_assigned']),
    col('expiration_date', ts, `Expiration Date (UTC); ${ASSUMED}`, ['expires_on', 'expiration', 'expiry_date']),
    col('last_used', ts, `Last Used (UTC); ${ASSUMED}`, ['last_authenticated']),
  ],
  // Agent Inventory (cloud-connected MFA agents): documented fields, header spelling assumed.
  mfa_clients: [
    col('client_id', s, 'Client ID'),
    col('host_name', s, 'Host Name', ['hostname']),
    col('initiating_ip', s, 'Initiating IP', ['initiating_ip_address', 'ip_address']),
    col('platform', s, 'Platform'),
    col('software_id', s, 'Software ID'),
    col('agent_type', s, 'Agent Type'),
    col('version', s, 'Version', ['agent_version']),
    col('first_seen', ts, 'First Seen (UTC)'),
    col('last_authentication', ts, 'Last Authentication (UTC)'),
    col('last_offline_data_download', ts, 'Last Offline Data Download (UTC)'),
    col('offline_data_expiration_utc', ts, 'Offline Data Expiration (UTC)', ['offline_data_expiration']),
  ],
  admin_users: [
    col('email', s, `Email; ${ASSUMED}`),
    col('first_name', s, `First Name; ${ASSUMED}`),
    col('last_name', s, `Last Name; ${ASSUMED}`),
    col('administrative_role', s, `Administrative Role(s), as delivered; ${ASSUMED}`, [
      'administrative_roles',
      'admin_role',
      'role',
      'roles',
    ]),
    col('status', s, `Status; ${ASSUMED}`),
    col('last_login', ts, `Last Login (UTC); ${ASSUMED}`, ['last_sign_in', 'last_logged_in']),
    col('created_on', ts, `Created On (UTC); ${ASSUMED}`, ['account_created', 'created']),
  ],
  radius_clients: [
    col('name', s, `Name; ${ASSUMED}`, ['client_name', 'radius_client_name']),
    col('ip_address', s, `IP Address; ${ASSUMED}`, ['client_ip_address', 'ip']),
    col('description', s, `Description; ${ASSUMED}`),
    col('cluster', s, `Identity router cluster; ${ASSUMED}`, ['identity_router_cluster', 'clusters']),
    col('radius_profile', s, `RADIUS Profile; ${ASSUMED}`, ['profile']),
    col('status', s, `Status; ${ASSUMED}`, ['enabled']),
  ],
};

const EXTRA_COLUMN: ColumnDefinition = {
  name: 'extra',
  type: 'map<string,string>',
  comment: 'columns this release added that the table does not know, keyed by normalised header',
};

const DESCRIPTIONS: Readonly<Record<RsaReportName, string>> = {
  users:
    'RSA All Users report (users/generate + download): every user, identity source, status and registered authenticators.',
  hardware_tokens:
    'RSA Hardware OTP Credential Information report (hardware_tokens/generate + download): hardware tokens and their assignment.',
  mfa_clients: 'RSA Agent Inventory report (mfa_clients/generate + download): cloud-connected MFA agents.',
  admin_users:
    'RSA Admin Users report (admin_users/generate-and-download): Cloud Administration Console administrators.',
  radius_clients: 'RSA RADIUS Clients report (radius_clients/generate-and-download): configured RADIUS clients.',
};

// ---------------------------------------------------------------------------------------------
// Value parsers

const TRUE_VALUES = new Set(['yes', 'y', 'true', '1']);
const FALSE_VALUES = new Set(['no', 'n', 'false', '0']);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A short, single-line preview of a value for an error message. */
function preview(value: string): string {
  const flat = value.replace(/\s+/g, ' ');
  return JSON.stringify(flat.length > 40 ? `${flat.slice(0, 40)}…` : flat);
}

function refuse(header: string, expected: string, value: string): never {
  throw new MalformedCsvError(`field "${header}": expected ${expected}; received ${preview(value)}`);
}

export function parseFlag(value: string, header: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (v === '') return null;
  if (TRUE_VALUES.has(v)) return true;
  if (FALSE_VALUES.has(v)) return false;
  return refuse(header, 'Yes or No (or true/false)', value);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
  /** minutes east of UTC */
  offset: number;
}

function toTimestamp(p: Parts): string | undefined {
  if (!isRealDay(p.year, p.month, p.day)) return undefined;
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return undefined;
  const ms = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millis) - p.offset * 60_000;
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

function zoneOffset(zone: string | undefined): number | undefined {
  if (zone === undefined || /^(z|utc|gmt)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (Number(m[2]) > 14 || Number(m[3]) > 59) return undefined;
  return m[1] === '-' ? -minutes : minutes;
}

// 2024-05-13, 2024-05-13 10:22, 2024-05-13T10:22:01.123Z, 2024-05-13 10:22:01 UTC, …+02:00
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$/i;
// Java Date.toString(): Mon May 13 10:22:01 UTC 2024 (UTC/GMT only)
const JAVA = /^(?:mon|tue|wed|thu|fri|sat|sun) ([a-z]{3}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) (UTC|GMT) (\d{4})$/i;
// May 13, 2024 / May 13, 2024 10:22:01 AM / May 13, 2024, 10:22 PM UTC
const MONTH_NAME =
  /^([a-z]{3})[a-z]*\.? (\d{1,2}), (\d{4})(?:,? (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([ap]m))?)?(?: (UTC|GMT))?$/i;

function isoParts(v: string): Parts | undefined {
  const m = ISO.exec(v);
  const offset = m ? zoneOffset(m[8]) : undefined;
  if (!m || offset === undefined) return undefined;
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    millis: Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)),
    offset,
  };
}

function javaParts(v: string): Parts | undefined {
  const m = JAVA.exec(v);
  const month = m ? MONTHS.indexOf(m[1]!.toLowerCase()) + 1 : 0;
  if (!m || month === 0) return undefined;
  return {
    year: Number(m[7]),
    month,
    day: Number(m[2]),
    hour: Number(m[3]),
    minute: Number(m[4]),
    second: Number(m[5]),
    millis: 0,
    offset: 0,
  };
}

function monthNameParts(v: string): Parts | undefined {
  const m = MONTH_NAME.exec(v);
  const month = m ? MONTHS.indexOf(m[1]!.toLowerCase()) + 1 : 0;
  if (!m || month === 0) return undefined;
  let hour = Number(m[4] ?? 0);
  const meridiem = m[7]?.toLowerCase();
  if (meridiem !== undefined && (hour < 1 || hour > 12)) return undefined;
  if (meridiem === 'pm' && hour < 12) hour += 12;
  if (meridiem === 'am' && hour === 12) hour = 0;
  return {
    year: Number(m[3]),
    month,
    day: Number(m[2]),
    hour,
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    millis: 0,
    offset: 0,
  };
}

/**
 * A date or date-time as `YYYY-MM-DD HH:MM:SS.fff` (UTC). Accepts ISO 8601 (a value without a
 * zone is UTC, as RSA's reports are), Java's `Date.toString()` in UTC, and
 * `May 13, 2024[ 10:22:01 AM]`. Numeric day/month orders (`05/06/2024`) are refused: they cannot
 * be told apart.
 */
export function parseTimestamp(value: string, header: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  const parts = isoParts(v) ?? javaParts(v) ?? monthNameParts(v);
  const result = parts && toTimestamp(parts);
  return result ?? refuse(header, 'a date or date-time such as 2024-05-13 10:22:01 (UTC) or ISO 8601', value);
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function convert(column: RsaColumn, header: string, text: string): JsonValue {
  switch (column.type) {
    case 'boolean':
      return parseFlag(text, header);
    case 'timestamp':
      return parseTimestamp(text, header);
    default:
      return text;
  }
}

type ColumnIndex = ReadonlyMap<string, RsaColumn>;

/** Normalised name and aliases → column; a name wins over another column's alias. */
function indexColumns(columns: readonly RsaColumn[]): ColumnIndex {
  const byName = new Map<string, RsaColumn>();
  for (const column of columns) byName.set(column.name, column);
  for (const column of columns) for (const alias of column.aliases) if (!byName.has(alias)) byName.set(alias, column);
  return byName;
}

/**
 * One CSV record (keyed by header as delivered) → the archived record. Headers are matched by
 * normalised name, then by alias; the first header wins a column, and any header that wins none
 * goes to `extra` under its normalised name (`_2`, `_3`… when two normalise alike), so nothing
 * is dropped.
 */
export function toRsaRecord(
  columns: readonly RsaColumn[],
  raw: Readonly<Record<string, unknown>>,
  index: ColumnIndex = indexColumns(columns),
): JsonObject {
  const record: JsonObject = {};
  const extra: Record<string, string> = {};
  for (const [header, value] of Object.entries(raw)) {
    const text = asText(value);
    const name = normaliseHeader(header);
    const column = index.get(name);
    if (column && !(column.name in record)) {
      record[column.name] = text === null ? null : convert(column, header.replace(/^\uFEFF/, ''), text);
      continue;
    }
    const base = name === '' ? header.replace(/^\uFEFF/, '').trim() || 'unnamed' : name;
    let key = base;
    for (let n = 2; key in extra; n += 1) key = `${base}_${n}`;
    extra[key] = text ?? '';
  }
  for (const column of columns) if (!(column.name in record)) record[column.name] = null;
  record.extra = extra;
  return record;
}

/** The required columns a CSV header lacks, matched as `toRsaRecord` matches them (name, then alias). */
export function missingRsaColumns(
  columns: readonly RsaColumn[],
  header: readonly string[],
  index: ColumnIndex = indexColumns(columns),
): string[] {
  const present = new Set(header.map((name) => index.get(normaliseHeader(name))));
  return columns.filter((column) => column.optional === undefined && !present.has(column)).map((c) => c.name);
}

function definition(name: RsaReportName): ReportDefinition {
  const columns = COLUMNS[name];
  const index = indexColumns(columns);
  return {
    name,
    description: DESCRIPTIONS[name],
    columns: [...columns.map(({ name: n, type, comment }) => ({ name: n, type, comment })), EXTRA_COLUMN],
    toRecord: (raw) => toRsaRecord(columns, raw, index),
    missingColumns: (header) => missingRsaColumns(columns, header, index),
  };
}

export const RSA_REPORT_DEFINITIONS: readonly ReportDefinition[] = RSA_REPORTS.map(definition);
