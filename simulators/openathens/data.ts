/**
 * Deterministic raw statistics for the OpenAthens simulator: the same seed, organisation and
 * date always give the same rows. Values follow the documented examples and include what a real
 * export can hold and a CSV parser must survive: commas (user agents, ISP names, permission
 * sets), quotes and line breaks (resource titles entered by admins), non-ASCII text, empty fields.
 */
import { pick, mulberry32 as prng, weighted } from '../random.ts';

/** Documented columns, in the documented order. */
export const DOCUMENTED_HEADERS = [
  'date',
  'action',
  'status',
  'account.authsystemname',
  'account.authsystemid',
  'account.permissionsets',
  'account.organisation',
  'account.accountid',
  'account.type',
  'account.status',
  'account.expiry',
  'location.isp',
  'request.countrycode',
  'request.useragent',
  'request.ipaddress',
  'attribute.resourceid',
  'attribute.federationctx',
  'attribute.resourcetitle',
] as const;

export interface GeneratedReport {
  readonly header: readonly string[];
  /** one array of field values per row, in header order */
  readonly rows: readonly (readonly string[])[];
}

export interface GenerateOptions {
  readonly seed: number;
  readonly apiName: string;
  /** `account.organisation` value of the organisation's accounts */
  readonly organisationId: string;
  readonly date: string;
  readonly rows: number;
  /** reportable attributes of this organisation (names without `attribute.`) */
  readonly attributes: readonly string[];
  /** undocumented non-attribute columns to append (schema drift) */
  readonly extraColumns: readonly string[];
}

/** FNV-1a, to turn names into seeds. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export { prng };

type Random = () => number;

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(random() * 4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Number of rows for a report when none is configured: 50–500, fixed per seed, organisation and date. */
export function defaultRowCount(seed: number, apiName: string, date: string): number {
  return 50 + Math.floor(prng(hashString(`${seed}|rows|${apiName}|${date}`))() * 451);
}

const AUTH_SYSTEMS = [
  { name: 'Student login', id: '5859e555-ecf1-5afb-ba05-852355423ea6' },
  { name: 'Staff SSO (Azure AD)', id: '0b7b6a0e-3c1d-5e7f-9a2b-4c6d8e0f1a2b' },
  { name: 'Bibliothèque – accès, invités', id: 'c4f1d2e3-5a6b-5c7d-8e9f-0a1b2c3d4e5f' },
] as const;

const PERMISSION_SETS = [
  'demo#default',
  'demo#default, demo#extra',
  'nhs#clinical, nhs#library, nhs#"core"',
  '',
] as const;

const ISPS = [
  'virginm.net',
  'Btcentralplus',
  'Deutsche Telekom AG',
  'Comcast Cable Communications, LLC',
  'Orange S.A.',
  'Telefónica de España',
  'NTT Communications Corporation',
  '',
] as const;

/** country codes with their weights (the benchmark's rows use them too) */
export const COUNTRIES: readonly (readonly [string, number])[] = [
  ['GB', 50],
  ['US', 12],
  ['IE', 8],
  ['DE', 6],
  ['FR', 5],
  ['NL', 4],
  ['IN', 4],
  ['JP', 2],
  ['BR', 2],
  ['', 3],
];

const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:108.0) Gecko/20100101 Firefox/108.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
  'Java/17.0.2 "library-proxy" (EZproxy, v7.2)',
  '',
] as const;

interface Resource {
  readonly entityId: string;
  readonly federation: string;
  readonly title: string;
}

function resources(apiName: string): readonly Resource[] {
  return [
    { entityId: 'https://sp.coolresource.co/entity', federation: 'oafed', title: 'Cool Stuff Inc.' },
    {
      entityId: 'https://sp.jstor.example/shibboleth',
      federation: 'ukfed',
      title: 'JSTOR, Arts & Sciences "Collection I"',
    },
    { entityId: 'urn:mace:example:ebsco', federation: 'oafed', title: 'EBSCOhost –\nAcademic Search Ultimate' },
    {
      entityId: `https://intranet.${apiName}/saml/metadata`,
      federation: apiName,
      title: 'Bibliothèque numérique – Zürich 図書館',
    },
    { entityId: 'https://sp.untitled.example/sp', federation: 'ukfed', title: '' },
  ];
}

const ATTRIBUTE_VALUES: Readonly<Record<string, readonly string[]>> = {
  department: ['Physics', 'Chemistry, Biology', 'Médecine', 'Law "LLM"', ''],
  eduPersonAffiliation: ['student', 'staff', 'member;student', 'affiliate'],
  costCentre: ['CC-1001', 'CC-2040', 'CC-3300', ''],
  jobTitle: ['Registrar', 'Consultant, Cardiology', 'Bibliothécaire', 'Nurse\nBand 6'],
};

function attributeValue(random: Random, name: string, index: number): string {
  const values = ATTRIBUTE_VALUES[name];
  if (values) return pick(random, values);
  return random() < 0.2 ? '' : `${name} value ${index % 7}, ü`;
}

function extraValue(random: Random, name: string): string {
  if (name === 'request.referrer')
    return pick(random, ['https://library.example.org/a-z?q=x,y', '', 'android-app://com.example']);
  return random() < 0.3 ? '' : `${name}: ${Math.floor(random() * 1000)}`;
}

interface Account {
  readonly accountId: string;
  readonly type: 'LOCAL' | 'PERSONAL';
  readonly status: string;
  readonly expiry: string;
  readonly authSystem: (typeof AUTH_SYSTEMS)[number] | undefined;
  readonly permissionSets: string;
  readonly attributes: readonly string[];
}

function accountsOf(options: GenerateOptions): readonly Account[] {
  const random = prng(hashString(`${options.seed}|accounts|${options.apiName}`));
  return Array.from({ length: 24 }, (_, index) => {
    const type = random() < 0.6 ? 'LOCAL' : 'PERSONAL';
    const expiryYear = 2024 + Math.floor(random() * 4);
    return {
      accountId: uuid(random),
      type,
      status: weighted(random, [
        ['ACTIVE', 90],
        ['PENDING', 5],
        ['INVALID', 5],
      ]),
      expiry:
        type === 'PERSONAL'
          ? `${expiryYear}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}`
          : '',
      authSystem: type === 'LOCAL' ? pick(random, AUTH_SYSTEMS) : undefined,
      permissionSets: pick(random, PERMISSION_SETS),
      attributes: options.attributes.map((name) => attributeValue(random, name, index)),
    } satisfies Account;
  });
}

function ipAddress(random: Random): string {
  if (random() < 0.1)
    return `2001:db8:${Math.floor(random() * 65536).toString(16)}::${Math.floor(random() * 65536).toString(16)}`;
  return [
    Math.floor(random() * 223) + 1,
    Math.floor(random() * 256),
    Math.floor(random() * 256),
    Math.floor(random() * 254) + 1,
  ].join('.');
}

/** `dd/MM/yyyyTHH:mm:ss`, as the raw report writes it (read as day first: see the connector). */
export function formatEventTime(date: string, secondOfDay: number): string {
  const [year, month, day] = date.split('-');
  const hh = String(Math.floor(secondOfDay / 3600)).padStart(2, '0');
  const mm = String(Math.floor((secondOfDay % 3600) / 60)).padStart(2, '0');
  const ss = String(secondOfDay % 60).padStart(2, '0');
  return `${day}/${month}/${year}T${hh}:${mm}:${ss}`;
}

export function generateReport(options: GenerateOptions): GeneratedReport {
  const header = [
    ...DOCUMENTED_HEADERS,
    ...options.attributes.map((name) => `attribute.${name}`),
    ...options.extraColumns,
  ];
  const random = prng(hashString(`${options.seed}|rows|${options.apiName}|${options.date}|${options.rows}`));
  const accounts = accountsOf(options);
  const orgResources = resources(options.apiName);
  // One account per day tries a wrong password 3–5 times: the auditor query must find it.
  const victim = pick(random, accounts);
  const forcedBadPasswords = Math.min(options.rows, 3 + Math.floor(random() * 3));

  const events: { second: number; fields: string[] }[] = [];
  for (let index = 0; index < options.rows; index += 1) {
    const forced = index < forcedBadPasswords;
    const account = forced ? victim : pick(random, accounts);
    const local = account.type === 'LOCAL';
    const transfer = !forced && random() < 0.45;
    const action = transfer
      ? local
        ? 'LOCAL_FEDERATED_TRANSFER'
        : 'FEDERATED_TRANSFER'
      : local
        ? 'LOCAL_AUTHENTICATE'
        : 'AUTHENTICATE';
    const status = forced
      ? 'ACCOUNT_ERROR_BAD_PASSWORD'
      : transfer
        ? weighted(random, [
            ['SUCCESS', 90],
            ['FAILURE_RESTRICTIVE', 10],
          ])
        : weighted(random, [
            ['SUCCESS', 88],
            ['ACCOUNT_ERROR_BAD_PASSWORD', 12],
          ]);
    const resource = transfer ? pick(random, orgResources) : undefined;
    const fields = [
      '', // date, set below
      action,
      status,
      account.authSystem?.name ?? '',
      account.authSystem?.id ?? '',
      account.permissionSets,
      options.organisationId,
      account.accountId,
      account.type,
      account.status,
      account.expiry,
      pick(random, ISPS),
      weighted(random, COUNTRIES),
      pick(random, USER_AGENTS),
      ipAddress(random),
      resource?.entityId ?? '',
      resource?.federation ?? '',
      resource?.title ?? '',
      ...account.attributes,
      ...options.extraColumns.map((name) => extraValue(random, name)),
    ];
    events.push({ second: Math.floor(random() * 86_400), fields });
  }
  events.sort((a, b) => a.second - b.second);
  const rows = events.map(({ second, fields }) => {
    fields[0] = formatEventTime(options.date, second);
    return fields;
  });
  return { header, rows };
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(report: GeneratedReport, options: { bom: boolean; lineEnding: '\r\n' | '\n' }): string {
  const lines = [report.header, ...report.rows].map((fields) => fields.map(csvField).join(','));
  return `${options.bom ? '\uFEFF' : ''}${lines.join(options.lineEnding)}${options.lineEnding}`;
}
