/**
 * Deterministic MFA-device rows for the PingOne simulator.
 *
 * 1. A seeded PRNG (mulberry32) per environment, so the same options always give the same rows.
 * 2. One row per user-device; a user without devices still has one row with empty device fields.
 * 3. Values are realistic and CSV-hostile where PingOne could plausibly produce them: commas,
 *    quotes and newlines in names and nicknames, non-ASCII names, empty fields.
 *
 * Kept independent of the connector's field list on purpose: a shared mistake would be invisible.
 */
import { mulberry32 } from '../random.ts';

/** The documented report fields, in the documented order (the default CSV header order). */
export const SIM_FIELDS = [
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

export type SimField = (typeof SIM_FIELDS)[number];
export type SimValue = string | boolean | number | null;
export type SimRow = Record<SimField, SimValue>;

export const SIM_BOOLEAN_FIELDS: ReadonlySet<string> = new Set([
  'mfaEnabled',
  'deviceIntegrityStateCompromised',
  'deviceBlocked',
  'deviceLocked',
  'fidoBackupEligibility',
  'fidoBackupState',
]);

export const SIM_TIMESTAMP_FIELDS: ReadonlySet<string> = new Set([
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

export { mulberry32 };

export function hashSeed(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const ch of parts.join('|')) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  alnum(length: number): string {
    const chars = 'abcdefghijkmnopqrstuvwxyz23456789';
    let out = '';
    for (let i = 0; i < length; i++) out += chars[Math.floor(this.next() * chars.length)];
    return out;
  }
}

const GIVEN = [
  'Anna',
  'José',
  'Zoë',
  'Łukasz',
  'Noa',
  'Siobhán',
  '山田',
  'Ngữ',
  'Ólafur',
  'Mary-Kate',
  'Robert "Bob"',
  'Émilie',
  'Björn',
  'Priya',
  'Chen',
  '',
] as const;
const FAMILY = [
  'Smith',
  "O'Brien",
  'Müller',
  'Smith, Jr.',
  'Nguyễn',
  'Cohen',
  'García Márquez',
  'Kowalski',
  'Tanaka',
  'Dubois\nde la Tour',
  'Ægisdóttir',
  'Lee',
  '',
] as const;
const DEVICE_TYPES = ['EMAIL', 'SMS', 'VOICE', 'MOBILE', 'TOTP', 'FIDO2', 'OATH_TOKEN', 'WHATSAPP'] as const;
const COUNTRY_PREFIXES = ['+1', '+44', '+972', '+49', '+33', '+61', '+65', '+81'] as const;
const NICKNAMES = [
  'Work phone, backup',
  'My "old" key',
  'Line one\nline two',
  'Téléphone ☎',
  'YubiKey 5C',
  '',
  '',
  'personal',
] as const;

/** Fixed reference time: generated timestamps never depend on the wall clock. */
const REFERENCE_MS = Date.parse('2026-11-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

function iso(rng: Rng, fromDaysAgo: number, toDaysAgo: number): string {
  const offset = rng.int(toDaysAgo * 1000, fromDaysAgo * 1000) / 1000;
  const ms = REFERENCE_MS - Math.round(offset * DAY_MS) + rng.int(0, 999);
  return new Date(ms).toISOString();
}

function emptyDevice(row: Partial<SimRow>): void {
  for (const field of SIM_FIELDS.slice(SIM_FIELDS.indexOf('deviceId'))) {
    if (field === 'email') continue;
    row[field] = null;
  }
}

export interface GenerateOptions {
  readonly environmentId: string;
  readonly rows: number;
  readonly seed: number;
}

/** Rows for one environment: `rows` rows exactly. */
export function generateRows(options: GenerateOptions): SimRow[] {
  const rng = new Rng(hashSeed(options.seed, options.environmentId));
  const populations = [rng.uuid(), rng.uuid()];
  const rows: SimRow[] = [];
  let userIndex = 0;
  while (rows.length < options.rows) {
    userIndex++;
    const givenName = rng.pick(GIVEN);
    const familyName = rng.pick(FAMILY);
    const username = `user${String(userIndex).padStart(4, '0')}${rng.alnum(2)}`;
    const email = rng.chance(0.05) ? null : `${username}@example.com`;
    const userCreatedAt = iso(rng, 2000, 30);
    const user: Partial<SimRow> = {
      userId: rng.uuid(),
      environmentId: options.environmentId,
      populationId: rng.pick(populations),
      username,
      givenName,
      familyName,
      mfaEnabled: rng.chance(0.85),
      bypassUntil: rng.chance(0.06) ? new Date(REFERENCE_MS + rng.int(1, 48) * 3_600_000).toISOString() : null,
      userCreatedAt,
      userUpdatedAt: iso(rng, 29, 0),
    };
    const deviceCount = rng.pick([0, 1, 1, 1, 2, 2, 3]);
    if (deviceCount === 0) {
      const row = { ...user, email } as Partial<SimRow>;
      emptyDevice(row);
      rows.push(row as SimRow);
      continue;
    }
    for (let order = 1; order <= deviceCount && rows.length < options.rows; order++) {
      const type = rng.pick(DEVICE_TYPES);
      const row: Partial<SimRow> = { ...user };
      emptyDevice(row);
      row.email = null;
      row.deviceId = rng.uuid();
      row.deviceOrder = String(order);
      row.deviceNickname = rng.pick(NICKNAMES) || null;
      row.deviceType = type;
      row.deviceStatus = rng.chance(0.9) ? 'ACTIVE' : 'ACTIVATION_REQUIRED';
      row.deviceCreatedAt = iso(rng, 900, 10);
      row.deviceUpdatedAt = iso(rng, 9, 0);
      row.lastDeviceTrxTime = rng.chance(0.8) ? iso(rng, 9, 0) : null;
      const blocked = rng.chance(0.05);
      row.deviceBlocked = blocked;
      row.blockedAt = blocked ? iso(rng, 20, 1) : null;
      const locked = rng.chance(0.05);
      row.deviceLocked = locked;
      row.lockExpiration = locked ? new Date(REFERENCE_MS + rng.int(1, 30) * 60_000).toISOString() : null;
      switch (type) {
        case 'EMAIL':
          row.email = email ?? `${username}+mfa@example.org`;
          break;
        case 'SMS':
        case 'VOICE':
        case 'WHATSAPP':
          row.phone = `${rng.pick(COUNTRY_PREFIXES)}${rng.int(200000000, 999999999)}`;
          if (type === 'VOICE' && rng.chance(0.3)) row.extension = String(rng.int(10, 9999));
          break;
        case 'MOBILE': {
          const ios = rng.chance(0.5);
          const compromised = rng.chance(0.1);
          row.deviceIntegrityStateCompromised = compromised;
          row.deviceIntegrityStateReason = compromised ? rng.pick(['ROOTED', 'JAILBROKEN', 'EMULATOR']) : null;
          row.deviceIntegrityStateTimestamp = iso(rng, 9, 0);
          row.deviceIntegrityStateAdvice = compromised
            ? 'Device may be compromised; re-pair it on a trusted device'
            : null;
          row.sdkVersion = `1.${rng.int(5, 12)}.${rng.int(0, 9)}`;
          row.manufacturer = ios ? 'Apple' : rng.pick(['samsung', 'Google', 'OnePlus']);
          row.deviceName = ios ? `${givenName || username}'s iPhone` : 'Galaxy S24, work';
          row.modelName = ios ? 'iPhone15,3' : 'SM-S921B';
          row.osType = ios ? 'IOS' : 'ANDROID';
          row.osVersion = ios ? `17.${rng.int(0, 6)}` : String(rng.int(12, 15));
          row.appId = ios ? 'com.example.authenticator' : 'com.example.authenticator.android';
          row.appVersion = `4.${rng.int(0, 20)}.${rng.int(0, 9)}`;
          row.mobileUnitId = rng.uuid();
          row.installedApplicationId = rng.uuid();
          break;
        }
        case 'FIDO2': {
          const eligible = rng.chance(0.6);
          row.fidoBackupEligibility = eligible;
          row.fidoBackupState = eligible && rng.chance(0.7);
          row.fidoUserVerification = rng.pick(['REQUIRED', 'PREFERRED', 'DISCOURAGED']);
          row.fidoMinPinLength = rng.chance(0.5) ? String(rng.pick([4, 6, 8])) : null;
          row.rpId = 'auth.example.com';
          break;
        }
        case 'OATH_TOKEN':
          row.serialNumber = `OATH-${rng.hex(10).toUpperCase()}`;
          break;
        default:
          break;
      }
      rows.push(row as SimRow);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Filters: the documented grammar, `(attr op "value")`, optionally joined with `and` / `or`.

const FILTER_ATTRIBUTES = new Set(['email', 'phone', 'deviceType', 'userId', 'mfaEnabled']);

export class SimFilterError extends Error {}

type Token = { kind: 'lp' | 'rp' | 'word' | 'string'; text: string };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch === '(' ? 'lp' : 'rp', text: ch });
      i++;
    } else if (ch === '"') {
      let text = '';
      i++;
      while (i < filter.length && filter[i] !== '"') {
        if (filter[i] === '\\' && i + 1 < filter.length) i++;
        text += filter[i];
        i++;
      }
      if (i >= filter.length) throw new SimFilterError('unterminated string');
      i++;
      tokens.push({ kind: 'string', text });
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(i));
      if (!match) throw new SimFilterError(`unexpected character ${JSON.stringify(ch)}`);
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

export type SimPredicate = (row: SimRow) => boolean;

export function compileFilter(filter: string): SimPredicate {
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = () => {
    const token = tokens[pos++];
    if (!token) throw new SimFilterError('unexpected end of filter');
    return token;
  };
  const term = (): SimPredicate => {
    const first = take();
    if (first.kind === 'lp') {
      const inner = expr();
      if (take().kind !== 'rp') throw new SimFilterError('expected ")"');
      return inner;
    }
    if (first.kind !== 'word' || !FILTER_ATTRIBUTES.has(first.text)) {
      throw new SimFilterError(`unsupported filter attribute ${JSON.stringify(first.text)}`);
    }
    const op = take();
    if (op.kind !== 'word' || (op.text !== 'eq' && op.text !== 'sw')) {
      throw new SimFilterError(`unsupported operator ${JSON.stringify(op.text)}`);
    }
    if (op.text === 'sw' && first.text !== 'email' && first.text !== 'phone') {
      throw new SimFilterError(`"sw" is not supported for ${first.text}`);
    }
    const value = take();
    if (value.kind !== 'string') throw new SimFilterError('expected a quoted value');
    const field = first.text as SimField;
    if (op.text === 'eq') return (row) => row[field] !== null && String(row[field]) === value.text;
    const prefix = value.text.toLowerCase();
    return (row) => row[field] !== null && String(row[field]).toLowerCase().startsWith(prefix);
  };
  const expr = (): SimPredicate => {
    let left = term();
    for (;;) {
      const next = peek();
      if (next?.kind !== 'word' || (next.text !== 'and' && next.text !== 'or')) return left;
      pos++;
      const right = term();
      const l = left;
      left = next.text === 'and' ? (row) => l(row) && right(row) : (row) => l(row) || right(row);
    }
  };
  const predicate = expr();
  if (pos !== tokens.length) throw new SimFilterError('unexpected text after the filter');
  return predicate;
}

// ---------------------------------------------------------------------------------------------
// Serialisation

export interface CsvOptions {
  readonly lineEnding: '\r\n' | '\n';
  readonly bom: boolean;
  /** header names sent instead of a field's own (a release renaming a column); default none */
  readonly headerNames?: Readonly<Partial<Record<SimField, string>>>;
}

function csvCell(value: SimValue): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows: readonly SimRow[], fields: readonly SimField[], options: CsvOptions): string {
  const lines = [fields.map((f) => options.headerNames?.[f] ?? f).join(',')];
  for (const row of rows) lines.push(fields.map((f) => csvCell(row[f])).join(','));
  return `${options.bom ? '\uFEFF' : ''}${lines.join(options.lineEnding)}${options.lineEnding}`;
}

export function project(
  row: SimRow,
  fields: readonly SimField[],
  booleansAsStrings: boolean,
): Record<string, SimValue> {
  const out: Record<string, SimValue> = {};
  for (const field of fields) {
    const value = row[field];
    out[field] = booleansAsStrings && typeof value === 'boolean' ? String(value) : value;
  }
  return out;
}
