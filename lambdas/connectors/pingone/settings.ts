/**
 * The `pingone` config section: regions, URLs, environments (tenants) and credentials.
 *
 * 1. `region` picks the PingOne TLD; the API base (`https://api.pingone.<tld>/v1`) and the auth
 *    base (`https://auth.pingone.<tld>`) derive from it unless `baseUrl`/`authUrl` are given
 *    (the simulator, a custom domain). A base URL with or without `/v1` ends up with exactly one.
 * 2. The HTTP allowlist is the API host plus `downloadHosts`: the parsed section adds the auth
 *    host there (the token endpoint is not on the API host) and, unless `downloadHosts` is
 *    given, the regional S3 hosts Ping's report links point at.
 * 3. Each tenant is one environment; `fields` and `filter` are checked against the documented
 *    names and grammar before anything is sent.
 */
import { z } from 'zod';
import { checkCredentialSources, TenantBaseSchema, vendorSectionSchema } from '../../core/settings.ts';
import { PINGONE_FIELDS } from './records.ts';

export const PINGONE_VENDOR = 'pingone';
export const MFA_REPORT_TEMPLATE_ID = 'db632bfd-7054-4bde-b108-a384aac2d513';

export const PINGONE_REGIONS = ['com', 'eu', 'ca', 'com.au', 'sg', 'asia'] as const;
export type PingOneRegion = (typeof PINGONE_REGIONS)[number];

/**
 * AWS regions assumed to hold Ping's report bucket for each PingOne region. Only eu-central-1 is
 * seen in Ping's docs (`p1-reports-prod-eu-central-1.s3.eu-central-1.amazonaws.com`); the rest
 * follow where each PingOne region is hosted. The allowlist takes exact hosts or `*.suffix`, and
 * the bucket names outside the EU are unknown, so the entries are `*.s3.<aws-region>.amazonaws.com`:
 * S3 in that AWS region only, not all of `*.amazonaws.com`. Override with `downloadHosts` once
 * the real host is known (an exact host is tighter).
 */
export const REPORT_BUCKET_AWS_REGIONS: Readonly<Record<PingOneRegion, readonly string[]>> = {
  com: ['us-east-1', 'us-west-2'],
  eu: ['eu-central-1', 'eu-west-1'],
  ca: ['ca-central-1'],
  'com.au': ['ap-southeast-2'],
  sg: ['ap-southeast-1'],
  asia: ['ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1'],
};

export function defaultDownloadHosts(region: PingOneRegion): string[] {
  const hosts = REPORT_BUCKET_AWS_REGIONS[region].map((aws) => `*.s3.${aws}.amazonaws.com`);
  // us-east-1 links may use the legacy global endpoint (`<bucket>.s3.amazonaws.com`).
  if (region === 'com') hosts.push('*.s3.amazonaws.com');
  return hosts;
}

export function regionApiBase(region: PingOneRegion): string {
  return `https://api.pingone.${region}/v1`;
}

export function regionAuthBase(region: PingOneRegion): string {
  return `https://auth.pingone.${region}`;
}

/** Exactly one `/v1` at the end, no trailing slash: `https://h`, `https://h/`, `https://h/v1/` → `https://h/v1`. */
export function normalizeApiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v1$/i.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

export function normalizeAuthBase(url: string): string {
  return url.replace(/\/+$/, '');
}

// ---------------------------------------------------------------------------------------------
// filter: `(attr op "value")`, optionally joined with `and`/`or` and grouped with parentheses.

export const FILTER_ATTRIBUTES = ['email', 'phone', 'deviceType', 'userId', 'mfaEnabled'] as const;
const SW_ATTRIBUTES: ReadonlySet<string> = new Set(['email', 'phone']);

type FilterToken =
  | { kind: '(' | ')'; at: number }
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number };

export class FilterSyntaxError extends Error {}

function tokenizeFilter(filter: string): FilterToken[] {
  const tokens: FilterToken[] = [];
  let i = 0;
  while (i < filter.length) {
    const ch = filter[i] as string;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch, at: i + 1 });
      i++;
      continue;
    }
    if (ch === '"') {
      const start = i;
      let text = '';
      i++;
      while (i < filter.length && filter[i] !== '"') {
        if (filter[i] === '\\') {
          const next = filter[i + 1];
          if (next !== '"' && next !== '\\') {
            throw new FilterSyntaxError(`unsupported escape at position ${i + 1}; expected \\" or \\\\`);
          }
          i++;
        }
        text += filter[i];
        i++;
      }
      if (i >= filter.length) throw new FilterSyntaxError(`unterminated string starting at position ${start + 1}`);
      i++;
      tokens.push({ kind: 'string', text, at: start + 1 });
      continue;
    }
    const word = /^[A-Za-z][A-Za-z0-9_]*/.exec(filter.slice(i));
    if (!word) throw new FilterSyntaxError(`unexpected character ${JSON.stringify(ch)} at position ${i + 1}`);
    tokens.push({ kind: 'word', text: word[0], at: i + 1 });
    i += word[0].length;
  }
  return tokens;
}

/**
 * Checks a report filter against the documented grammar; throws FilterSyntaxError naming the
 * offending part. Returns the comparisons it found (for tests and logs).
 */
export function validateFilter(filter: string): { attribute: string; operator: 'eq' | 'sw'; value: string }[] {
  if (/[\r\n]/.test(filter)) throw new FilterSyntaxError('line breaks are not allowed');
  const tokens = tokenizeFilter(filter);
  if (tokens.length === 0) throw new FilterSyntaxError('the filter is empty');
  const comparisons: { attribute: string; operator: 'eq' | 'sw'; value: string }[] = [];
  let pos = 0;
  const describe = (t: FilterToken | undefined) =>
    t === undefined
      ? 'the end of the filter'
      : `${t.kind === 'string' ? JSON.stringify(t.text) : t.kind === 'word' ? `"${t.text}"` : `"${t.kind}"`} at position ${t.at}`;

  const term = (): void => {
    const first = tokens[pos++];
    if (first?.kind === '(') {
      expr();
      const close = tokens[pos++];
      if (close?.kind !== ')') throw new FilterSyntaxError(`expected ")"; received ${describe(close)}`);
      return;
    }
    if (first?.kind !== 'word' || !(FILTER_ATTRIBUTES as readonly string[]).includes(first.text)) {
      throw new FilterSyntaxError(
        `expected a filter attribute (${FILTER_ATTRIBUTES.join(', ')}); received ${describe(first)}`,
      );
    }
    const op = tokens[pos++];
    if (op?.kind !== 'word' || (op.text !== 'eq' && op.text !== 'sw')) {
      throw new FilterSyntaxError(`expected operator eq or sw after ${first.text}; received ${describe(op)}`);
    }
    if (op.text === 'sw' && !SW_ATTRIBUTES.has(first.text)) {
      throw new FilterSyntaxError(
        `"sw" is allowed only on email and phone; received "${first.text} sw" at position ${first.at}`,
      );
    }
    const value = tokens[pos++];
    if (value?.kind !== 'string') {
      throw new FilterSyntaxError(
        `expected a double-quoted value after "${first.text} ${op.text}"; received ${describe(value)}`,
      );
    }
    if (first.text === 'mfaEnabled' && value.text !== 'true' && value.text !== 'false') {
      throw new FilterSyntaxError(`mfaEnabled takes "true" or "false"; received ${JSON.stringify(value.text)}`);
    }
    comparisons.push({ attribute: first.text, operator: op.text, value: value.text });
  };
  const expr = (): void => {
    term();
    for (;;) {
      const next = tokens[pos];
      if (next?.kind !== 'word' || (next.text !== 'and' && next.text !== 'or')) return;
      pos++;
      term();
    }
  };
  expr();
  if (pos !== tokens.length) throw new FilterSyntaxError(`unexpected ${describe(tokens[pos])}`);
  return comparisons;
}

// ---------------------------------------------------------------------------------------------

const FieldsSchema = z
  .array(z.string())
  .min(1, 'expected at least one field; leave `fields` out to get all of them')
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    for (const [index, name] of fields.entries()) {
      if (!(PINGONE_FIELDS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `unknown report field ${JSON.stringify(name)}; expected one of the documented fields (${PINGONE_FIELDS.join(', ')})`,
        });
      } else if (seen.has(name)) {
        ctx.addIssue({ code: 'custom', path: [index], message: `field "${name}" is listed twice` });
      }
      seen.add(name);
    }
  });

const FilterSchema = z
  .string()
  .min(1)
  .max(2000)
  .superRefine((filter, ctx) => {
    try {
      validateFilter(filter);
    } catch (error) {
      if (!(error instanceof FilterSyntaxError)) throw error;
      ctx.addIssue({ code: 'custom', message: `invalid filter: ${error.message}` });
    }
  });

export const PingOneTenantSchema = TenantBaseSchema.extend({
  /** the PingOne environment (its id is in the admin console URL and the API paths) */
  environmentId: z.guid('expected the PingOne environment id (a UUID)'),
  /** ASYNC_FILE (zipped CSV + JSON, any size) or ENTRIES (paged JSON, small environments) */
  deliverAs: z.enum(['ASYNC_FILE', 'ENTRIES']).default('ASYNC_FILE'),
  /** documented field names; default all */
  fields: FieldsSchema.optional(),
  /** e.g. `(deviceType eq "SMS")`, `(phone sw "+972")`; default none */
  filter: FilterSchema.optional(),
  /** the worker app's token endpoint authentication method */
  tokenAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
});

/** The Secrets Manager secret of one environment's worker app: `{ "clientId": "...", "clientSecret": "..." }`. */
export const PingOneCredentialsSchema = z.object({
  clientId: z
    .string()
    .min(1, 'expected clientId: the client id of a worker application in the environment')
    .regex(/^[\x21-\x7e]+$/, 'expected clientId without spaces, line breaks or non-ASCII characters'),
  clientSecret: z
    .string()
    .min(1, 'expected clientSecret: the worker application client secret')
    .regex(/^[\x21-\x7e]+$/, 'expected clientSecret without spaces, line breaks or non-ASCII characters'),
});

const HostSchema = z.string().regex(/^(\*\.)?[a-z0-9.-]+(:\d+)?$/i, 'expected a host name or *.suffix');

const baseSection = vendorSectionSchema({
  tenant: PingOneTenantSchema,
  reports: ['mfa_devices'] as const,
  defaults: {
    // Replaced below: the default depends on `region`.
    baseUrl: regionApiBase('com'),
    // One snapshot a day; the reporting database lags up to 15 minutes, so the time is arbitrary.
    schedule: 'cron(20 2 * * ? *)',
    // Polls are dataExplorations calls (one per 5 s per environment): 15 s apart, ≤ 40 minutes.
    poll: { intervalSeconds: 15, maxAttempts: 160, deadlineMinutes: 60 },
  },
  extra: {
    region: z.enum(PINGONE_REGIONS).default('com'),
    /** token endpoint base; default `https://auth.pingone.<tld>` */
    authUrl: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Minimum spacing of dataExplorations calls per environment. The vendor's rule is 5 s; lower
     * values are for the simulator only.
     */
    callIntervalMs: z.number().int().min(0).max(60_000).default(5_000),
    /** PingOne caches report files for 2 hours; an older job is requested again */
    fileCacheMinutes: z.number().int().min(1).max(120).default(120),
    /** fresh-link attempts after the storage host refused a link (403) before the job fails */
    maxLinkRefreshes: z.number().int().min(0).max(10).default(3),
    /** ENTRIES mode paging */
    entries: z
      .object({
        /** `limit` per page (1-1000) */
        pageLimit: z.number().int().min(1).max(1000).default(1000),
        /** stop paging after this long, so the archive step ends before its Lambda timeout */
        deadlineSeconds: z.number().int().min(1).max(840).default(600),
      })
      .strict()
      .default({ pageLimit: 1000, deadlineSeconds: 600 }),
  },
});

// A new object over the base shape: zod refuses to override keys of a refined schema (`extend`).
export const PingOneSectionSchema = z
  .object({
    ...baseSection.shape,
    // No defaults here: whether they were given decides what the region derives.
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    downloadHosts: z.array(HostSchema).optional(),
  })
  .strict()
  .superRefine((section, ctx) => {
    checkCredentialSources(section, ctx);
    const seen = new Map<string, string>();
    for (const [index, tenant] of section.tenants.entries()) {
      const other = seen.get(tenant.environmentId.toLowerCase());
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tenants', index, 'environmentId'],
          message: `environment ${tenant.environmentId} is already configured as tenant "${other}"; PingOne allows one dataExplorations call per 5 seconds per environment, so configure each environment once`,
        });
      }
      seen.set(tenant.environmentId.toLowerCase(), tenant.id);
    }
    const intervalSeconds = Math.ceil(section.callIntervalMs / 1000);
    if (section.poll.intervalSeconds < intervalSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['poll', 'intervalSeconds'],
        message: `expected at least ${intervalSeconds} (callIntervalMs ${section.callIntervalMs}); received ${section.poll.intervalSeconds}`,
      });
    }
  })
  .transform((section) => {
    const baseUrl = normalizeApiBase(section.baseUrl ?? regionApiBase(section.region));
    const authUrl = normalizeAuthBase(section.authUrl ?? regionAuthBase(section.region));
    const hosts = section.downloadHosts ?? defaultDownloadHosts(section.region);
    // The token endpoint's host must pass the allowlist too; the shared allowlist has no other slot.
    const authHost = new URL(authUrl).host;
    const downloadHosts = hosts.includes(authHost) ? hosts : [...hosts, authHost];
    return { ...section, baseUrl, authUrl, downloadHosts };
  });

export type PingOneTenant = z.output<typeof PingOneTenantSchema>;
export type PingOneCredentials = z.output<typeof PingOneCredentialsSchema>;
export type PingOneSection = z.output<typeof PingOneSectionSchema>;
