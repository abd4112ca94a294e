/**
 * Deterministic report data for the RSA simulator: a seeded PRNG per tenant and report, realistic
 * values, and the CSV-hostile content RSA could deliver (commas, quotes and line breaks inside
 * fields, non-ASCII names, empty fields, a formula-like value).
 *
 * Header names follow the documented UI report columns (All Users, Agent Inventory); RSA does not
 * document the columns of hardware_tokens, admin_users or radius_clients, so those are assumed
 * (the connector keeps any header it does not know in `extra`).
 */
import { mulberry32 as prng } from '../random.ts';

export const SIM_REPORTS = ['users', 'hardware_tokens', 'mfa_clients', 'admin_users', 'radius_clients'] as const;
export type SimReport = (typeof SIM_REPORTS)[number];

export type HeaderStyle = 'current' | 'legacy';
export type DateStyle = 'utc' | 'iso' | 'java';

export interface DataOptions {
  readonly seed: number;
  readonly tenantId: string;
  /** e-mail domain of the tenant's users */
  readonly domain: string;
  readonly rows: Readonly<Record<SimReport, number>>;
  readonly hostile: boolean;
  readonly headerStyle: HeaderStyle;
  readonly dateStyle: DateStyle;
  /** headers appended to every report (a release adding columns); value `<header> <row>` */
  readonly extraColumns: readonly string[];
  /** headers sent under another name in every report (a release renaming columns) */
  readonly renamedHeaders?: Readonly<Record<string, string>>;
}

export interface SimTable {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** What the generator decided per user, for tests to compute expected answers. */
export interface SimUser {
  readonly username: string;
  readonly email: string;
  readonly identitySource: string;
  readonly status: string;
  readonly deviceRegistered: boolean;
  readonly fidoRegistered: boolean;
  readonly smsRegistered: boolean;
  readonly voiceRegistered: boolean;
  readonly hardwareToken: boolean;
}

export interface SimTenantData {
  readonly tables: Readonly<Record<SimReport, SimTable>>;
  readonly users: readonly SimUser[];
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export { prng };

export function seededRandom(seed: number, ...parts: string[]): () => number {
  return prng(hash(`${seed}:${parts.join(':')}`));
}

export function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: () => number, p: number) => random() < p;

const PLAIN_FIRST = [
  'Alice',
  'Bob',
  'Carol',
  'David',
  'Erin',
  'Frank',
  'Grace',
  'Heidi',
  'Ivan',
  'Judy',
  'Mallory',
  'Oscar',
];
const PLAIN_LAST = ['Smith', 'Jones', 'Brown', 'Taylor', 'Wilson', 'Evans', 'Walker', 'Wright', 'Green', 'Hall'];
const HOSTILE_FIRST = [...PLAIN_FIRST, 'José', 'Zoë', 'Łukasz', 'Søren', '山田', 'Nguyễn', "D'Arcy", 'Anne-Marie'];
const HOSTILE_LAST = [...PLAIN_LAST, "O'Brien", 'Müller', 'Smith, Jr.', '"The Rock" Johnson', 'Ó Súilleabháin', '佐藤'];
const PLAIN_SOURCES = ['Corporate AD', 'Cloud Directory', 'Partner LDAP'];
const HOSTILE_SOURCES = ['Corporate AD', 'Azure AD, EU tenant', 'Cloud Directory', 'LDAP "legacy"'];
const DEVICES = ['iPhone 15', 'Pixel 8', 'Galaxy S24', 'iPad Air'];
const HOSTILE_DEVICES = [...DEVICES, "Zoë's iPhone", 'Pixel 8, work', 'Line one\nline two', '📱 Galaxy "Ultra"'];
const ROLES = ['Super Admin', 'Help Desk Admin', 'Read-Only Help Desk Admin', 'Identity Router Admin'];

const BASE_MS = Date.UTC(2021, 0, 1);
const SPAN_MS = Date.UTC(2025, 6, 1) - BASE_MS;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatDate(ms: number, style: DateStyle): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  switch (style) {
    case 'iso':
      return `${date}T${time}.${pad(d.getUTCMilliseconds(), 3)}Z`;
    case 'java':
      return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${time} UTC ${d.getUTCFullYear()}`;
    default:
      return `${date} ${time} UTC`;
  }
}

const yesNo = (value: boolean) => (value ? 'Yes' : 'No');

function ascii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

const USER_HEADERS: Record<HeaderStyle, readonly string[]> = {
  current: [
    'Email',
    'Username',
    'Alternate Username',
    'First Name',
    'Last Name',
    'Primary Unique Identifier (DN)',
    'User Id',
    'Identity Source Name',
    'Account Created',
    'Account Last Updated',
    'Month Last Authenticated',
    'Status',
    'Device Name',
    'Device OS & Version',
    'App Name',
    'App Version',
    'Device Registered',
    'Cloud User',
    'Registered Credential',
    'Used Cloud Service in the last 6 months',
    'Unified Directory User',
    'FIDO Authenticator',
    'FIDO Registered',
    'FIDO Status',
    'FIDO Authenticator Manufacturer',
    'SMS Registered',
    'Voice Registered',
    'High-Risk User',
    'Emergency Access Code created on',
  ],
  legacy: [
    'Email',
    'Username',
    'Alternate Username',
    'First Name',
    'Last Name',
    'Distinguished Name',
    'Identity Source Name',
    'Account Created',
    'Account Last Updated',
    'Month Last Authenticated',
    'Status',
    'Device Name',
    'Device Type',
    'App Name',
    'App Version',
    'Device Registered',
    'FIDO Authenticator',
    'FIDO Registered',
    'FIDO Status',
    'SMS Registered',
    'Voice Registered',
    'High-Risk User',
    'Emergency Tokencode created on',
    'Emergency Tokencode expires on',
    'Emergency Tokencode last used',
    'Emergency Tokencode locked on',
    'Offline Emergency Tokencode enabled on',
  ],
};

const TOKEN_HEADERS = [
  'Serial Number',
  'Token Type',
  'Username',
  'Email',
  'Identity Source Name',
  'Status',
  'Assigned On',
  'Expiration Date',
  'Last Used',
];
const CLIENT_HEADERS = [
  'Client ID',
  'Host Name',
  'Initiating IP',
  'Platform',
  'Software ID',
  'Agent Type',
  'Version',
  'First Seen',
  'Last Authentication',
  'Last Offline Data Download',
  'Offline Data Expiration (UTC)',
];
const ADMIN_HEADERS = ['Email', 'First Name', 'Last Name', 'Administrative Role', 'Status', 'Last Login', 'Created On'];
const RADIUS_HEADERS = ['Name', 'IP Address', 'Description', 'Cluster', 'RADIUS Profile', 'Status'];

function table(headers: readonly string[], records: readonly Record<string, string>[], options: DataOptions): SimTable {
  const all = [...headers, ...options.extraColumns];
  return {
    headers: all.map((h) => options.renamedHeaders?.[h] ?? h),
    rows: records.map((record, i) => all.map((h) => (headers.includes(h) ? (record[h] ?? '') : `${h} ${i + 1}`))),
  };
}

interface UserRecord extends SimUser {
  readonly record: Record<string, string>;
  readonly first: string;
  readonly last: string;
}

function generateUsers(options: DataOptions): UserRecord[] {
  const random = seededRandom(options.seed, options.tenantId, 'users');
  const firsts = options.hostile ? HOSTILE_FIRST : PLAIN_FIRST;
  const lasts = options.hostile ? HOSTILE_LAST : PLAIN_LAST;
  const sources = options.hostile ? HOSTILE_SOURCES : PLAIN_SOURCES;
  const devices = options.hostile ? HOSTILE_DEVICES : DEVICES;
  const date = (ms: number) => formatDate(ms, options.dateStyle);
  const users: UserRecord[] = [];
  for (let i = 0; i < options.rows.users; i += 1) {
    const first = pick(random, firsts);
    const last = pick(random, lasts);
    const username = `${ascii(first) || 'user'}.${ascii(last) || 'name'}${i + 1}`;
    const email = `${username}@${options.domain}`;
    const created = BASE_MS + Math.floor(random() * SPAN_MS * 0.8);
    const updated = created + Math.floor(random() * (BASE_MS + SPAN_MS - created));
    const status = pick(random, ['Enabled', 'Enabled', 'Enabled', 'Enabled', 'Enabled', 'Disabled', 'Locked']);
    const hasDevice = chance(random, 0.5);
    const fido = chance(random, 0.2);
    const sms = chance(random, 0.3);
    const voice = chance(random, 0.1);
    const lastAuth = chance(random, 0.7) ? date(updated).slice(0, 7) : '';
    const credentials = [hasDevice && 'Authenticator App', fido && 'FIDO', sms && 'SMS', voice && 'Voice'].filter(
      Boolean,
    );
    const emergency = chance(random, 0.1) ? date(updated) : '';
    let alternate = chance(random, 0.3) ? `${ascii(first).slice(0, 1)}${ascii(last)}` : '';
    if (options.hostile && i === 3) alternate = '=HYPERLINK("http://attacker.example/x","open")';
    if (options.hostile && i === 4) alternate = '  padded value  ';
    const identitySource = pick(random, sources);
    const device = hasDevice ? pick(random, devices) : '';
    const android = device.includes('Pixel') || device.includes('Galaxy');
    const record: Record<string, string> = {
      Email: email,
      Username: username,
      'Alternate Username': alternate,
      'First Name': first,
      'Last Name': last,
      'Primary Unique Identifier (DN)': `CN=${last.replace(/,/g, '\\,')}\\, ${first},OU=Users,DC=${options.tenantId},DC=example,DC=com`,
      'User Id': uuidFrom(random),
      'Identity Source Name': identitySource,
      'Account Created': date(created),
      'Account Last Updated': date(updated),
      'Month Last Authenticated': lastAuth,
      Status: status,
      'Device Name': device,
      'Device OS & Version': hasDevice ? (android ? 'Android 14' : 'iOS 17.4') : '',
      'Device Type': hasDevice ? (android ? 'Android' : 'iOS') : '',
      'App Name': hasDevice ? 'RSA Authenticator' : '',
      'App Version': hasDevice ? pick(random, ['4.3.2', '4.4.0', '4.4.1']) : '',
      'Device Registered': yesNo(hasDevice),
      'Cloud User': yesNo(chance(random, 0.2)),
      'Registered Credential': credentials.join(', '),
      'Used Cloud Service in the last 6 months': yesNo(lastAuth !== ''),
      'Unified Directory User': yesNo(chance(random, 0.1)),
      'FIDO Authenticator': fido ? 'YubiKey 5 NFC' : '',
      'FIDO Registered': yesNo(fido),
      'FIDO Status': fido ? 'Active' : '',
      'FIDO Authenticator Manufacturer': fido ? 'Yubico' : '',
      'SMS Registered': yesNo(sms),
      'Voice Registered': yesNo(voice),
      'High-Risk User': yesNo(chance(random, 0.05)),
      'Emergency Access Code created on': emergency,
    };
    record['Distinguished Name'] = record['Primary Unique Identifier (DN)']!;
    record['Emergency Tokencode created on'] = emergency;
    users.push({
      record,
      first,
      last,
      username,
      email,
      identitySource,
      status,
      deviceRegistered: hasDevice,
      fidoRegistered: fido,
      smsRegistered: sms,
      voiceRegistered: voice,
      hardwareToken: false,
    });
  }
  return users;
}

/** All five reports of one tenant, and the per-user facts behind them. */
export function generateTenantData(options: DataOptions): SimTenantData {
  const date = (ms: number) => formatDate(ms, options.dateStyle);
  const users = generateUsers(options);

  const tokenRandom = seededRandom(options.seed, options.tenantId, 'hardware_tokens');
  const tokenHolders = new Set<number>();
  const tokens: Record<string, string>[] = [];
  for (let i = 0; i < options.rows.hardware_tokens; i += 1) {
    const assigned = users.length > 0 && chance(tokenRandom, 0.7);
    const index = assigned ? Math.floor(tokenRandom() * users.length) : -1;
    if (assigned) tokenHolders.add(index);
    const user = assigned ? users[index] : undefined;
    const assignedOn = BASE_MS + Math.floor(tokenRandom() * SPAN_MS);
    // Expirations spread over 2024-2031 so every run date has some within 90 days.
    const expires = Date.UTC(2024, 0, 1) + Math.floor(tokenRandom() * 8 * 365 * 86_400_000);
    tokens.push({
      'Serial Number': String(100_000_000_000 + Math.floor(tokenRandom() * 899_999_999_999)).padStart(12, '0'),
      'Token Type': pick(tokenRandom, ['SID700', 'SID800', 'DS100']),
      Username: user?.username ?? '',
      Email: user?.email ?? '',
      'Identity Source Name': user?.identitySource ?? '',
      Status: user ? 'Assigned' : pick(tokenRandom, ['Unassigned', 'Unassigned', 'Disabled']),
      'Assigned On': user ? date(assignedOn) : '',
      'Expiration Date': date(expires),
      'Last Used': user && chance(tokenRandom, 0.6) ? date(assignedOn + 86_400_000) : '',
    });
  }

  const clientRandom = seededRandom(options.seed, options.tenantId, 'mfa_clients');
  const clients: Record<string, string>[] = [];
  for (let i = 0; i < options.rows.mfa_clients; i += 1) {
    const first = BASE_MS + Math.floor(clientRandom() * SPAN_MS * 0.5);
    const lastAuth = first + Math.floor(clientRandom() * SPAN_MS * 0.5);
    const windows = chance(clientRandom, 0.6);
    let host = `${windows ? 'WIN-SRV' : 'lnx'}-${pad(i + 1, 3)}.${options.tenantId}.local`;
    if (options.hostile && i === 1) host = 'edge, "dmz" host';
    clients.push({
      'Client ID': uuidFrom(clientRandom),
      'Host Name': host,
      'Initiating IP': `10.${Math.floor(clientRandom() * 255)}.${Math.floor(clientRandom() * 255)}.${1 + Math.floor(clientRandom() * 254)}`,
      Platform: windows ? 'Windows Server 2022' : pick(clientRandom, ['RHEL 9', 'Ubuntu 22.04', 'macOS 14']),
      'Software ID': uuidFrom(clientRandom),
      'Agent Type': windows ? 'RSA MFA Agent for Microsoft Windows' : 'RSA MFA Agent for PAM',
      Version: pick(clientRandom, ['2.3.6', '2.4.0', '9.1.1']),
      'First Seen': date(first),
      'Last Authentication': date(lastAuth),
      'Last Offline Data Download': chance(clientRandom, 0.5) ? date(lastAuth) : '',
      'Offline Data Expiration (UTC)': chance(clientRandom, 0.5) ? date(lastAuth + 14 * 86_400_000) : '',
    });
  }

  const adminRandom = seededRandom(options.seed, options.tenantId, 'admin_users');
  const admins: Record<string, string>[] = [];
  for (let i = 0; i < options.rows.admin_users; i += 1) {
    const user = users[i % Math.max(1, users.length)];
    const created = BASE_MS + Math.floor(adminRandom() * SPAN_MS);
    admins.push({
      Email: user ? user.email : `admin${i + 1}@${options.domain}`,
      'First Name': user?.first ?? 'Admin',
      'Last Name': user?.last ?? String(i + 1),
      'Administrative Role':
        i === 0
          ? 'Super Admin'
          : options.hostile && i === 1
            ? 'Super Admin, Help Desk Admin'
            : pick(adminRandom, ROLES),
      Status: pick(adminRandom, ['Active', 'Active', 'Active', 'Inactive']),
      'Last Login': chance(adminRandom, 0.8) ? date(created + Math.floor(adminRandom() * 86_400_000 * 90)) : '',
      'Created On': date(created),
    });
  }

  const radiusRandom = seededRandom(options.seed, options.tenantId, 'radius_clients');
  const radius: Record<string, string>[] = [];
  for (let i = 0; i < options.rows.radius_clients; i += 1) {
    radius.push({
      Name: `${pick(radiusRandom, ['VPN gateway', 'Wi-Fi controller', 'Firewall'])} ${i + 1}`,
      'IP Address': `192.168.${Math.floor(radiusRandom() * 255)}.${1 + Math.floor(radiusRandom() * 254)}`,
      Description:
        options.hostile && i === 0
          ? 'Cisco ASA, "primary" DC\nfailover: manual'
          : pick(radiusRandom, ['', 'Primary site', 'Branch office']),
      Cluster: pick(radiusRandom, ['EU-Cluster', 'US-Cluster']),
      'RADIUS Profile': pick(radiusRandom, ['Default', 'VPN users', '']),
      Status: pick(radiusRandom, ['Enabled', 'Enabled', 'Disabled']),
    });
  }

  const simUsers: SimUser[] = users.map(({ record: _r, first: _f, last: _l, ...user }, index) => ({
    ...user,
    hardwareToken: tokenHolders.has(index),
  }));
  return {
    users: simUsers,
    tables: {
      users: table(
        USER_HEADERS[options.headerStyle],
        users.map((u) => u.record),
        options,
      ),
      hardware_tokens: table(TOKEN_HEADERS, tokens, options),
      mfa_clients: table(CLIENT_HEADERS, clients, options),
      admin_users: table(ADMIN_HEADERS, admins, options),
      radius_clients: table(RADIUS_HEADERS, radius, options),
    },
  };
}

export interface CsvOptions {
  readonly bom: boolean;
  readonly lineEnding: 'crlf' | 'lf';
  /** quote every field (as some Java CSV writers do), not only those that need it */
  readonly quoteAll: boolean;
}

function csvField(value: string, quoteAll: boolean): string {
  const needs = quoteAll || /[",\r\n]/.test(value) || value !== value.trim();
  return needs ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(data: SimTable, options: CsvOptions): string {
  const eol = options.lineEnding === 'crlf' ? '\r\n' : '\n';
  const lines = [data.headers, ...data.rows].map((row) => row.map((v) => csvField(v, options.quoteAll)).join(','));
  return `${options.bom ? '\uFEFF' : ''}${lines.join(eol)}${eol}`;
}
