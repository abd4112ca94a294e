/**
 * Rows of a large OpenAthens raw statistics report, generated from a seed.
 *
 * The simulator's generator (`simulators/openathens/data.ts`) draws from two dozen accounts and a
 * handful of user agents, which is right for tests but compresses 15:1; a real day of a large
 * organisation has hundreds of thousands of accounts, many browser builds, and distinct IPs and
 * referrers, and compresses about 4-6:1. Compression ratio changes inflate speed per output byte,
 * so the benchmark uses this richer population. The CSV quirks are the simulator's: quoted
 * permission sets and user agents with commas, doubled quotes, line breaks inside quoted titles,
 * non-ASCII names, IPv4 and IPv6, empty fields, two `attribute.*` columns and one column the
 * connector does not know (`request.referrer`, archived in `extra`).
 */
import { COUNTRIES, DOCUMENTED_HEADERS, formatEventTime, hashString, prng } from '../simulators/openathens/data.ts';
import { pick, weighted } from '../simulators/random.ts';

export const HEADER: readonly string[] = [
  ...DOCUMENTED_HEADERS,
  'attribute.department',
  'attribute.eduPersonAffiliation',
  'request.referrer',
];

type Random = () => number;

const ACCOUNTS = 400_000;
const AUTH_SYSTEMS = [
  ['Student login', '5859e555-ecf1-5afb-ba05-852355423ea6'],
  ['Staff SSO (Azure AD)', '0b7b6a0e-3c1d-5e7f-9a2b-4c6d8e0f1a2b'],
  ['Bibliothèque – accès, invités', 'c4f1d2e3-5a6b-5c7d-8e9f-0a1b2c3d4e5f'],
  ['Alumni (Shibboleth)', '9e8d7c6b-5a49-4837-a261-5f4e3d2c1b0a'],
  ['NHS Athens – Trust staff', '1a2b3c4d-5e6f-4a8b-9c0d-e1f2a3b4c5d6'],
] as const;
const PERMISSION_SET_NAMES = [
  'demo#default',
  'demo#extra',
  'nhs#clinical',
  'nhs#library',
  'nhs#"core"',
  'uni#students',
  'uni#staff',
  'uni#walk-in',
  'med#bmj',
  'med#uptodate',
];
const ISPS = [
  'virginm.net',
  'Btcentralplus',
  'Deutsche Telekom AG',
  'Comcast Cable Communications, LLC',
  'Orange S.A.',
  'Telefónica de España',
  'NTT Communications Corporation',
  'Sky Broadband',
  'TalkTalk Communications Limited',
  'Vodafone Ireland',
  'Jisc Services Limited',
  'KPN B.V.',
  'Bharti Airtel Ltd., Telemedia Services',
  'Claro S.A.',
  'KDDI CORPORATION',
  'Free SAS',
  '',
];
const DEPARTMENTS = ['Physics', 'Chemistry, Biology', 'Médecine', 'Law "LLM"', 'Économie', 'Informatik', '法学部', ''];
const AFFILIATIONS = ['student', 'staff', 'member;student', 'affiliate', 'alum'];
const TITLE_WORDS = [
  'Journal',
  'of',
  'Clinical',
  'Medicine',
  'Revue',
  'française',
  'Zeitschrift',
  'für',
  'Physik',
  'Arts & Sciences',
  '"Collection I"',
  'Academic',
  'Search',
  'Ultimate',
  'Bibliothèque',
  'numérique',
  'Zürich',
  '図書館',
  'Review,',
  'Letters',
];

export interface RowGenerator {
  /** one CSV record (with its line break) for an event at `secondOfDay` */
  next(secondOfDay: number): string;
}

export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function hex(random: Random, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i += 8) {
    out += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  }
  return out.slice(0, digits);
}

function uuid(random: Random): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function userAgent(random: Random): string {
  const roll = random();
  const build = Math.floor(random() * 7000);
  const patch = Math.floor(random() * 250);
  if (roll < 0.45) {
    return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${110 + Math.floor(random() * 20)}.0.${build}.${patch} Safari/537.36`;
  }
  if (roll < 0.65) {
    return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${15 + Math.floor(random() * 3)}.${Math.floor(random() * 6)} Safari/605.1.15`;
  }
  if (roll < 0.85) {
    return `Mozilla/5.0 (iPhone; CPU iPhone OS ${15 + Math.floor(random() * 3)}_${Math.floor(random() * 7)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148`;
  }
  if (roll < 0.97) {
    return `Mozilla/5.0 (X11; Linux x86_64; rv:${100 + Math.floor(random() * 25)}.0) Gecko/20100101 Firefox/${100 + Math.floor(random() * 25)}.0`;
  }
  return random() < 0.5 ? `Java/17.0.${patch % 12} "library-proxy" (EZproxy, v7.${build % 9})` : '';
}

function ipAddress(random: Random): string {
  if (random() < 0.1) return `2001:db8:${hex(random, 4)}:${hex(random, 3)}::${hex(random, 4)}`;
  return `${1 + Math.floor(random() * 223)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
}

interface Account {
  readonly id: string;
  readonly fields: string;
  readonly local: boolean;
}

interface Resource {
  readonly fields: string;
}

/** A generator whose output depends on `seed` only. */
export function rowGenerator(seed: number): RowGenerator {
  const random = prng(hashString(`bench|rows|${seed}`));
  const accountRandom = prng(hashString(`bench|accounts|${seed}`));
  const accounts: Account[] = [];
  const account = (index: number): Account => {
    // built on first use, in index order, so the population is the same whatever the row count
    while (accounts.length <= index) {
      const local = accountRandom() < 0.6;
      const auth = local ? pick(accountRandom, AUTH_SYSTEMS) : undefined;
      const sets = PERMISSION_SET_NAMES.filter(() => accountRandom() < 0.2).join(', ');
      const status = weighted(accountRandom, [
        ['ACTIVE', 90],
        ['PENDING', 5],
        ['INVALID', 5],
      ]);
      const expiry = local
        ? ''
        : `${2026 + Math.floor(accountRandom() * 3)}-${String(1 + Math.floor(accountRandom() * 12)).padStart(2, '0')}-${String(1 + Math.floor(accountRandom() * 28)).padStart(2, '0')}`;
      const id = uuid(accountRandom);
      // account.authsystemname .. account.expiry, minus the id (placed by `next`)
      accounts.push({
        id,
        local,
        fields: [
          csvField(auth?.[0] ?? ''),
          auth?.[1] ?? '',
          csvField(sets),
          accountRandom() < 0.9 ? '123456' : '123457',
          `${id},${local ? 'LOCAL' : 'PERSONAL'},${status},${expiry}`,
        ].join(','),
      });
    }
    return accounts[index]!;
  };
  const resourceRandom = prng(hashString(`bench|resources|${seed}`));
  const resources: Resource[] = Array.from({ length: 300 }, (_, i) => {
    const words = Array.from({ length: 2 + Math.floor(resourceRandom() * 5) }, () => pick(resourceRandom, TITLE_WORDS));
    if (i % 17 === 0) words.splice(1, 0, '–\n'); // admins paste titles with line breaks
    const host = `sp${i}.${pick(resourceRandom, ['publisher.example', 'jstor.example', 'ebsco.example', 'wiley.example'])}`;
    return {
      fields: [
        `https://${host}/shibboleth`,
        pick(resourceRandom, ['oafed', 'ukfed', 'edugain', 'example.org']),
        csvField(words.join(' ')),
      ].join(','),
    };
  });

  return {
    next(secondOfDay) {
      // a few heavy users, a long tail
      const a = account(Math.floor(random() ** 2 * ACCOUNTS));
      const transfer = random() < 0.45;
      const action = transfer
        ? a.local
          ? 'LOCAL_FEDERATED_TRANSFER'
          : 'FEDERATED_TRANSFER'
        : a.local
          ? 'LOCAL_AUTHENTICATE'
          : 'AUTHENTICATE';
      const status = transfer
        ? random() < 0.9
          ? 'SUCCESS'
          : 'FAILURE_RESTRICTIVE'
        : random() < 0.88
          ? 'SUCCESS'
          : 'ACCOUNT_ERROR_BAD_PASSWORD';
      const referrer =
        random() < 0.4
          ? ''
          : `https://library.example.org/a-z?q=${hex(random, 6)},${Math.floor(random() * 100)}&page=${Math.floor(random() * 9)}`;
      return `${[
        formatEventTime('2026-11-21', secondOfDay),
        action,
        status,
        a.fields,
        csvField(pick(random, ISPS)),
        weighted(random, COUNTRIES),
        csvField(userAgent(random)),
        ipAddress(random),
        transfer ? pick(random, resources).fields : ',,',
        csvField(pick(random, DEPARTMENTS)),
        pick(random, AFFILIATIONS),
        csvField(referrer),
      ].join(',')}\n`;
    },
  };
}
