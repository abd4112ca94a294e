/**
 * The `rsa` config section, the key file secret, and the check that the schedule respects RSA's
 * 8-hour limit.
 *
 * 1. `baseUrl` has no default: RSA hosts are tenant-specific (`https://<company>.access.securid.com`).
 *    It, each tenant's `baseUrl` and `downloadHosts` make the host allowlist, so the host of each
 *    key file's `adminRestApiUrl` must be among them.
 * 2. A report can be generated once every 8 hours; a schedule that fires more often is refused.
 *    The default runs once a day.
 * 3. Poll defaults are sized for the download waits: 300 s between "not generated yet" checks and
 *    several 16-minute waits when the per-tenant 15-minute download limit answers 429.
 * 4. The tenant's secret is the Administration API key file (`customerName`, `accessID`,
 *    `description`, `accessKey`: a PEM RSA private key, PKCS#1 as RSA issues it, PKCS#8 also
 *    accepted, and `adminRestApiUrl`).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { TenantBaseSchema, vendorSectionSchema } from '../../core/settings.ts';
import { RSA_REPORTS } from './records.ts';

export const GENERATE_INTERVAL_SECONDS = 8 * 60 * 60;
export const DOWNLOAD_INTERVAL_SECONDS = 15 * 60;
export const DEFAULT_SCHEDULE = 'cron(30 2 * * ? *)';

export const RsaTenantSchema = TenantBaseSchema.extend({});

export type RsaTenant = z.infer<typeof RsaTenantSchema>;

const UTC_ZONES = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'z', 'zulu', 'universal', 'etc/universal']);

/** Values of one cron field (`*`, `a`, `a-b`, `a/n`, `a-b/n`, `* /n`, lists), or undefined if not understood. */
export function expandCronField(field: string, min: number, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const [from, to] =
      m[1] === '*'
        ? [min, max]
        : m[1]!.includes('-')
          ? m[1]!.split('-').map(Number)
          : [Number(m[1]), m[2] ? max : Number(m[1])];
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (from === undefined || to === undefined || from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };

/**
 * The shortest time between two firings of an EventBridge Scheduler expression, in seconds, or
 * undefined when it cannot be told. For cron, consecutive days are assumed to fire (the gap
 * across midnight counts).
 */
export function shortestScheduleGapSeconds(expression: string): number | undefined {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return Number(rate[1]) * UNIT_SECONDS[rate[2]!]!;
  const cron = /^cron\((.*)\)$/.exec(expression);
  const fields = cron?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) return undefined;
  const minutes = expandCronField(fields[0]!, 0, 59);
  const hours = expandCronField(fields[1]!, 0, 23);
  if (!minutes || !hours) return undefined;
  if (minutes.length > 1) {
    let gap = 60 - minutes[minutes.length - 1]! + minutes[0]!;
    for (let i = 1; i < minutes.length; i += 1) gap = Math.min(gap, minutes[i]! - minutes[i - 1]!);
    return gap * 60;
  }
  let gap = 24 - hours[hours.length - 1]! + hours[0]!;
  for (let i = 1; i < hours.length; i += 1) gap = Math.min(gap, hours[i]! - hours[i - 1]!);
  return gap * 3600;
}

function describeGap(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  return `${Math.round(seconds / 60)} minute${seconds === 60 ? '' : 's'}`;
}

/** Issues for a schedule that would fire more often than RSA lets a report be generated. */
export function scheduleProblems(schedule: string, timezone: string): string[] {
  const gap = shortestScheduleGapSeconds(schedule);
  const why =
    'RSA lets each report be generated once every 8 hours (a second request answers 429), so the schedule must not fire more often than every 8 hours';
  if (gap === undefined) {
    return [
      `cannot tell how often "${schedule}" fires; ${why}; write the minute and hour fields as numbers, lists, ranges or steps, e.g. "${DEFAULT_SCHEDULE}"`,
    ];
  }
  if (gap < GENERATE_INTERVAL_SECONDS) {
    return [`"${schedule}" fires every ${describeGap(gap)}; ${why}; the default is once a day: "${DEFAULT_SCHEDULE}"`];
  }
  // Spring-forward makes local "every 8 hours" one hour shorter once a year.
  if (
    !UTC_ZONES.has(timezone.toLowerCase()) &&
    gap < GENERATE_INTERVAL_SECONDS + 3600 &&
    !schedule.startsWith('rate(')
  ) {
    return [
      `"${schedule}" in ${timezone} fires every ${describeGap(gap)}, which a daylight-saving change shortens to ${describeGap(gap - 3600)}; ${why}; leave at least 9 hours between local times or use scheduleTimezone "UTC"`,
    ];
  }
  return [];
}

export const RsaSectionSchema = vendorSectionSchema({
  tenant: RsaTenantSchema,
  reports: RSA_REPORTS,
  defaults: {
    schedule: DEFAULT_SCHEDULE,
    // 24 checks and 6 hours: room for an initial 5-minute wait, several 5-minute "not generated
    // yet" polls and several 16-minute waits behind the per-tenant download limit.
    poll: { intervalSeconds: 300, maxAttempts: 24, deadlineMinutes: 360 },
    maxConcurrency: 2,
  },
  extra: {
    /** seconds to wait after a 201 from generate before the first download attempt */
    initialWaitSeconds: z.number().int().min(0).max(3600).default(300),
    /** seconds to wait after a 429 from download (downloaded less than 15 minutes ago); at least 900 */
    throttleWaitSeconds: z
      .number()
      .int()
      .min(DOWNLOAD_INTERVAL_SECONDS, 'expected at least 900: RSA allows one download per tenant every 15 minutes')
      .max(3600)
      .default(960),
  },
}).superRefine((section, ctx) => {
  for (const message of scheduleProblems(section.schedule, section.scheduleTimezone)) {
    ctx.addIssue({ code: 'custom', path: ['schedule'], message });
  }
});

export type RsaSection = z.infer<typeof RsaSectionSchema>;

/** A key pasted through config may carry literal `\n` sequences instead of line breaks. */
export function unescapePem(pem: string): string {
  return pem.replace(/\\r/g, '').replace(/\\n/g, '\n').replace(/\r\n/g, '\n').trim();
}

export function readPrivateKey(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'rsa' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The Administration API key file, as downloaded from the Cloud Administration Console. */
export const RsaCredentialsSchema = z.object({
  customerName: z.string().default(''),
  accessID: z.string().trim().min(1, 'expected the key file\u2019s accessID'),
  description: z.string().default(''),
  accessKey: z
    .string()
    .min(1, 'expected the key file\u2019s accessKey (a PEM RSA private key)')
    .transform(unescapePem)
    .refine((pem) => readPrivateKey(pem) !== undefined, {
      // Never echo the value: it is a private key.
      message:
        'expected accessKey to be a PEM RSA private key ("-----BEGIN RSA PRIVATE KEY-----", PKCS#1, as in the key file); it could not be read',
    }),
  adminRestApiUrl: z.url({
    protocol: /^https?$/,
    error:
      'expected adminRestApiUrl to be an http(s) URL such as https://mycompany.access.securid.com/AdminInterface/restapi/v1',
  }),
});

export type RsaCredentials = z.infer<typeof RsaCredentialsSchema>;
