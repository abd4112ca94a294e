/**
 * The `mfa_devices` table: one row per user-device, the 45 documented report fields as columns.
 *
 * 1. Columns are the snake_case of the documented field names, in the documented order, plus
 *    `extra` (map) for any column the vendor adds that the docs do not list: never dropped.
 * 2. Headers are matched case-insensitively, ignoring a BOM, spaces, `_` and `-`, so `userId`,
 *    `USERID` and `user_id` all land in `user_id`.
 * 3. The field types are undocumented. Only formats that parse strictly are typed: the six
 *    boolean-named fields (true/false, 1/0) and the nine timestamp-named fields (ISO 8601, or
 *    epoch seconds/milliseconds). Everything else, including `device_order` and
 *    `fido_min_pin_length`, stays a string. A typed field with another value stops the archive
 *    with an error naming the field, rather than archiving a guess.
 * 4. Empty strings and JSON nulls both become null, so file mode (CSV) and entries mode (JSON)
 *    give the same rows.
 * 5. Every field the request asked for is required in the CSV header: all 45 when it names none
 *    ("If omitted, the report has every field", `fields`, create_report_mfa_enabled_results_in_file;
 *    docs/vendors/pingone.md). A header without one (`isMfaEnabled` for `mfaEnabled`) fails the
 *    file rather than archive that column as nulls. Entries mode's JSON is not checked: its shape is
 *    undocumented, and an entry may well leave out an empty field.
 */
import { z } from 'zod';
import { MalformedCsvError, MalformedJsonError } from '../../core/errors.ts';
import type { ColumnDefinition, ColumnType, JsonObject, JsonValue, ReportDefinition } from '../../core/types.ts';

/** The documented report fields, in the documented order. */
export const PINGONE_FIELDS = [
  'userId',
  'environmentId',
  'populationId',
  'username',
  'givenName',
  'familyName',
  'mfaEnabled',
  'bypassUntil',
  'userCreatedAt',
  'userUpdatedAt',
  'deviceId',
  'deviceOrder',
  'deviceNickname',
  'deviceType',
  'deviceStatus',
  'deviceIntegrityStateCompromised',
  'deviceIntegrityStateReason',
  'deviceIntegrityStateTimestamp',
  'deviceIntegrityStateAdvice',
  'phone',
  'extension',
  'email',
  'deviceBlocked',
  'blockedAt',
  'deviceLocked',
  'lockExpiration',
  'fidoBackupEligibility',
  'fidoBackupState',
  'fidoUserVerification',
  'fidoMinPinLength',
  'sdkVersion',
  'manufacturer',
  'deviceName',
  'modelName',
  'osType',
  'osVersion',
  'appId',
  'appVersion',
  'mobileUnitId',
  'installedApplicationId',
  'rpId',
  'deviceCreatedAt',
  'deviceUpdatedAt',
  'lastDeviceTrxTime',
  'serialNumber',
] as const;

export type PingOneField = (typeof PINGONE_FIELDS)[number];

const BOOLEAN_FIELDS: ReadonlySet<PingOneField> = new Set([
  'mfaEnabled',
  'deviceIntegrityStateCompromised',
  'deviceBlocked',
  'deviceLocked',
  'fidoBackupEligibility',
  'fidoBackupState',
]);

const TIMESTAMP_FIELDS: ReadonlySet<PingOneField> = new Set([
  'bypassUntil',
  'userCreatedAt',
  'userUpdatedAt',
  'deviceIntegrityStateTimestamp',
  'blockedAt',
  'lockExpiration',
  'deviceCreatedAt',
  'deviceUpdatedAt',
  'lastDeviceTrxTime',
]);

const COMMENTS: Partial<Record<PingOneField, string>> = {
  userId: 'PingOne user id',
  environmentId: 'PingOne environment id',
  mfaEnabled: 'whether MFA is enabled for the user',
  bypassUntil: 'MFA bypass end (UTC)',
  deviceId: 'MFA device id; null for a user without devices',
  deviceOrder: 'device position in the user device order (as delivered)',
  deviceType: 'EMAIL, SMS, VOICE, MOBILE, TOTP, FIDO2, OATH_TOKEN, ... (open list)',
  deviceStatus: 'ACTIVE, ACTIVATION_REQUIRED, ... (open list)',
  deviceIntegrityStateCompromised: 'mobile device integrity check: compromised (rooted, jailbroken, ...)',
  deviceBlocked: 'device blocked by an administrator',
  deviceLocked: 'device temporarily locked (too many failures)',
  lockExpiration: 'end of the temporary lock (UTC)',
  phone: 'phone number for SMS/VOICE devices, with country prefix',
  fidoMinPinLength: 'FIDO authenticator minimum PIN length (as delivered)',
  lastDeviceTrxTime: 'last transaction with the device (UTC)',
};

export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function typeOf(field: PingOneField): ColumnType {
  if (BOOLEAN_FIELDS.has(field)) return 'boolean';
  if (TIMESTAMP_FIELDS.has(field)) return 'timestamp';
  return 'string';
}

export const MFA_DEVICE_COLUMNS: readonly ColumnDefinition[] = [
  ...PINGONE_FIELDS.map((field) => {
    const comment = COMMENTS[field];
    return { name: snakeCase(field), type: typeOf(field), ...(comment ? { comment } : {}) };
  }),
  {
    name: 'extra',
    type: 'map<string,string>',
    comment: 'columns the vendor delivered that are not documented (header → value)',
  },
];

/** Header key without BOM, case, spaces, `_` or `-`: `userId`, `USER_ID` and `user id` are one key. */
function normalizeKey(key: string): string {
  return key
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

const FIELD_BY_KEY: ReadonlyMap<string, PingOneField> = new Map(PINGONE_FIELDS.map((f) => [normalizeKey(f), f]));

function fail(field: string, raw: unknown, expected: string): never {
  const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw) : String(raw);
  const message = `field ${field}: expected ${expected}; received ${shown}`;
  // A non-string value can only come from JSON (entries mode); CSV cells are strings.
  if (typeof raw === 'string') throw new MalformedCsvError(message);
  throw new MalformedJsonError(message);
}

function isBlank(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

export function toBoolean(field: string, raw: unknown): boolean | null {
  if (isBlank(raw)) return null;
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw === 'string') {
    const text = raw.trim().toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
  }
  return fail(field, raw, 'a boolean (true/false)');
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function formatUtc(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** Epoch seconds (10 digits) or milliseconds (13 digits): years 2001-2286, nothing ambiguous. */
function fromEpoch(value: number): number | undefined {
  if (!Number.isInteger(value)) return undefined;
  if (value >= 1e9 && value < 1e10) return value * 1000;
  if (value >= 1e12 && value < 1e13) return value;
  return undefined;
}

const TIMESTAMP_EXPECTED =
  'an ISO 8601 timestamp (e.g. 2024-05-01T10:20:30.123Z; no zone means UTC) or epoch seconds/milliseconds';

/** `YYYY-MM-DD HH:MM:SS.fff` (UTC) or null. */
export function toTimestamp(field: string, raw: unknown): string | null {
  if (isBlank(raw)) return null;
  if (typeof raw === 'number') {
    const ms = fromEpoch(raw);
    return ms === undefined ? fail(field, raw, TIMESTAMP_EXPECTED) : formatUtc(ms);
  }
  if (typeof raw !== 'string') return fail(field, raw, TIMESTAMP_EXPECTED);
  const text = raw.trim();
  if (/^\d{10}$|^\d{13}$/.test(text)) return formatUtc(fromEpoch(Number(text)) as number);
  const m = ISO.exec(text);
  if (!m) return fail(field, raw, TIMESTAMP_EXPECTED);
  const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
    v === undefined ? undefined : Number(v),
  ) as number[];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const base = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, millis);
  const check = new Date(base);
  if (
    Number.isNaN(base) ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== (month as number) - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return fail(field, raw, TIMESTAMP_EXPECTED);
  }
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!zm) return fail(field, raw, TIMESTAMP_EXPECTED);
    const hours = Number(zm[2]);
    const minutes = Number(zm[3] ?? '0');
    if (hours > 14 || minutes > 59) return fail(field, raw, TIMESTAMP_EXPECTED);
    offsetMinutes = (zm[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  return formatUtc(base - offsetMinutes * 60_000);
}

/** Any JSON value as a string column: strings as-is, others in their JSON text; blanks become null. */
export function toText(raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return raw === '' ? null : raw;
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  return JSON.stringify(raw);
}

function toExtraValue(raw: unknown): string {
  return toText(raw) ?? '';
}

/** One CSV row (keyed by header) or one JSON entry → one archived record keyed by column name. */
export function toMfaDeviceRecord(raw: Readonly<Record<string, unknown>>): JsonObject {
  const seen = new Map<PingOneField, unknown>();
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = FIELD_BY_KEY.get(normalizeKey(key));
    if (field !== undefined && !seen.has(field)) {
      seen.set(field, value);
    } else {
      // Undocumented, or a second header for a field already seen: kept, never dropped.
      extra[key.replace(/^\uFEFF/, '').trim()] = toExtraValue(value);
    }
  }
  const record: JsonObject = {};
  for (const field of PINGONE_FIELDS) {
    const value = seen.get(field);
    const column = snakeCase(field);
    let converted: JsonValue;
    if (BOOLEAN_FIELDS.has(field)) converted = toBoolean(field, value);
    else if (TIMESTAMP_FIELDS.has(field)) converted = toTimestamp(field, value);
    else converted = toText(value);
    record[column] = converted;
  }
  record.extra = extra;
  return record;
}

/** `fields` of the manifest's request parameters (`job.ts`): the list sent, or `all` when none was. */
const RequestedFieldsSchema = z.object({ fields: z.union([z.literal('all'), z.array(z.enum(PINGONE_FIELDS))]) });

/**
 * The requested fields a CSV header lacks, matched as `toMfaDeviceRecord` matches them. Parameters
 * that do not say which fields were asked for require all of them.
 */
export function missingMfaDeviceFields(header: readonly string[], requestParameters: JsonObject): PingOneField[] {
  const requested = RequestedFieldsSchema.safeParse(requestParameters);
  const required = requested.success && requested.data.fields !== 'all' ? requested.data.fields : PINGONE_FIELDS;
  const present = new Set(header.map((name) => FIELD_BY_KEY.get(normalizeKey(name))));
  return required.filter((field) => !present.has(field));
}

export const mfaDevicesReport: ReportDefinition = {
  name: 'mfa_devices',
  description:
    'PingOne MFA devices report (dataExplorations template db632bfd-…): one row per user and MFA device, a snapshot of the environment when the run asked for it (data up to 15 minutes old, or up to 2 hours when PingOne served its cached file).',
  columns: MFA_DEVICE_COLUMNS,
  toRecord: toMfaDeviceRecord,
  missingColumns: missingMfaDeviceFields,
};
