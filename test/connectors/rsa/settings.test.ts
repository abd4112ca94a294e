import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rsaDefinition } from '../../../lambdas/connectors/rsa/definition.ts';
import {
  expandCronField,
  RsaCredentialsSchema,
  RsaSectionSchema,
  shortestScheduleGapSeconds,
} from '../../../lambdas/connectors/rsa/settings.ts';

const pkcs1 = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

const keyFile = {
  customerName: 'Acme Corp',
  accessID: '139f6495-e447-4a26-a765-5c01b6b152d5',
  description: 'archiver',
  accessKey: pkcs1,
  adminRestApiUrl: 'https://acme.access.securid.com/AdminInterface/restapi/v1',
};

const section = (extra: Record<string, unknown> = {}) => ({
  baseUrl: 'https://acme.access.securid.com',
  tenants: [{ id: 'acme', since: '2026-01-01', secretName: 'rsa/acme' }],
  ...extra,
});

function issues(raw: unknown): string[] {
  const result = RsaSectionSchema.safeParse(raw);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('config section', () => {
  it('applies the defaults: every report, once a day, polls sized for 15-minute waits', () => {
    // Act
    const parsed = RsaSectionSchema.parse(section());

    // Assess
    expect(parsed.reports).toEqual(['users', 'hardware_tokens', 'mfa_clients', 'admin_users', 'radius_clients']);
    expect(shortestScheduleGapSeconds(parsed.schedule)).toBe(24 * 3600);
    expect(parsed.poll.intervalSeconds).toBe(300);
    expect(parsed.initialWaitSeconds).toBe(300);
    expect(parsed.throttleWaitSeconds).toBeGreaterThanOrEqual(900);
    // several 16-minute waits fit in the deadline and the attempts
    expect(parsed.poll.deadlineMinutes * 60).toBeGreaterThanOrEqual(
      parsed.initialWaitSeconds + 6 * parsed.throttleWaitSeconds + 4 * parsed.poll.intervalSeconds,
    );
    expect(parsed.poll.maxAttempts).toBeGreaterThanOrEqual(12);
  });

  it('requires baseUrl: RSA hosts are tenant-specific', () => {
    // Act / Assess
    expect(issues({ tenants: [{ id: 'acme', since: '2026-01-01', secretName: 'x' }] }).join('\n')).toMatch(
      /^baseUrl:/m,
    );
  });

  it('refuses unknown fields and reports', () => {
    // Act / Assess
    expect(issues(section({ reports: ['users', 'audit_log'] })).join('\n')).toMatch(/^reports\.1:/m);
    expect(issues(section({ pollSeconds: 5 })).join('\n')).toMatch(/pollSeconds/);
  });

  it('refuses a throttle wait under the 15-minute download limit', () => {
    // Act / Assess
    expect(issues(section({ throttleWaitSeconds: 600 })).join('\n')).toMatch(
      /throttleWaitSeconds: expected at least 900/,
    );
  });

  it.each([
    'rate(1 day)',
    'rate(8 hours)',
    'rate(12 hours)',
    'cron(30 2 * * ? *)',
    'cron(0 2,14 * * ? *)',
    'cron(0 0,8,16 * * ? *)',
    'cron(15 6 ? * MON-FRI *)',
    'cron(0 3 1 * ? *)',
  ])('accepts %s', (schedule) => {
    // Act / Assess
    expect(issues(section({ schedule }))).toEqual([]);
  });

  it.each([
    ['rate(1 hour)', /fires every 1 hour; RSA lets each report be generated once every 8 hours/],
    ['rate(7 hours)', /fires every 7 hours/],
    ['rate(30 minutes)', /fires every 30 minutes/],
    ['cron(0 * * * ? *)', /fires every 1 hour/],
    ['cron(0 */4 * * ? *)', /fires every 4 hours/],
    ['cron(0 1,8 * * ? *)', /fires every 7 hours/],
    ['cron(0 20,2 * * ? *)', /fires every 6 hours/],
    ['cron(0,30 2 * * ? *)', /fires every 30 minutes/],
    ['cron(0 2-4 * * ? *)', /fires every 1 hour/],
  ])('refuses %s, saying why', (schedule, message) => {
    // Act
    const found = issues(section({ schedule }));

    // Assess
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^schedule: /);
    expect(found[0]).toMatch(message);
    expect(found[0]).toMatch(/cron\(30 2 \* \* \? \*\)/);
  });

  it('refuses every 8 local hours in a daylight-saving zone, accepts it in UTC', () => {
    // Act / Assess
    expect(issues(section({ schedule: 'cron(0 0,8,16 * * ? *)', scheduleTimezone: 'Europe/Berlin' })).join()).toMatch(
      /daylight-saving change shortens to 7 hours/,
    );
    expect(issues(section({ schedule: 'cron(0 0,8,16 * * ? *)', scheduleTimezone: 'UTC' }))).toEqual([]);
    expect(issues(section({ schedule: 'cron(30 2 * * ? *)', scheduleTimezone: 'Europe/Berlin' }))).toEqual([]);
  });

  it('refuses a cron it cannot read rather than guessing', () => {
    // Act / Assess
    expect(issues(section({ schedule: 'cron(0 L * * ? *)' })).join()).toMatch(/cannot tell how often/);
  });

  it('expands cron fields', () => {
    // Act / Assess
    expect(expandCronField('*/6', 0, 23)).toEqual([0, 6, 12, 18]);
    expect(expandCronField('5/10', 0, 59)).toEqual([5, 15, 25, 35, 45, 55]);
    expect(expandCronField('1-3,7', 0, 23)).toEqual([1, 2, 3, 7]);
    expect(expandCronField('24', 0, 23)).toBeUndefined();
    expect(expandCronField('?', 0, 23)).toBeUndefined();
  });

  it('is the connector\u2019s settings schema', () => {
    // Assess
    expect(rsaDefinition.sectionSchema).toBe(RsaSectionSchema);
    expect(rsaDefinition.vendor).toBe('rsa');
  });
});

describe('credentials (the key file)', () => {
  it('accepts the key file as RSA issues it and keeps adminRestApiUrl verbatim', () => {
    // Act
    const parsed = RsaCredentialsSchema.parse({
      ...keyFile,
      adminRestApiUrl: 'https://Acme.access.securid.com/AdminInterface/restapi/',
    });

    // Assess
    expect(parsed.adminRestApiUrl).toBe('https://Acme.access.securid.com/AdminInterface/restapi/');
    expect(parsed.accessKey).toContain('-----BEGIN RSA PRIVATE KEY-----');
  });

  it('accepts a key whose line breaks arrived as literal \\n sequences', () => {
    // Act
    const parsed = RsaCredentialsSchema.parse({ ...keyFile, accessKey: pkcs1.trim().replace(/\n/g, '\\n') });

    // Assess
    expect(parsed.accessKey).toBe(pkcs1.trim());
  });

  it('accepts a PKCS#8 key too', () => {
    // Prepare
    const pkcs8 = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;

    // Act / Assess
    expect(RsaCredentialsSchema.safeParse({ ...keyFile, accessKey: pkcs8 }).success).toBe(true);
  });

  it.each([
    ['a missing accessID', { accessID: undefined }, /accessID/],
    ['a missing adminRestApiUrl', { adminRestApiUrl: undefined }, /adminRestApiUrl/],
    ['an adminRestApiUrl that is not a URL', { adminRestApiUrl: 'access.securid.com' }, /adminRestApiUrl/],
    [
      'an accessKey that is not a key',
      { accessKey: '-----BEGIN RSA PRIVATE KEY-----\nnot-base64\n-----END RSA PRIVATE KEY-----' },
      /accessKey/,
    ],
  ])('refuses %s, naming the field and never echoing the key', (_label, change, field) => {
    // Act
    const result = RsaCredentialsSchema.safeParse({ ...keyFile, ...change });

    // Assess
    expect(result.success).toBe(false);
    const text = JSON.stringify(result.error?.issues);
    expect(text).toMatch(field);
    expect(text).not.toContain('PRIVATE KEY-----\\nMII');
    expect(text).not.toContain('not-base64');
  });

  it('refuses an EC key: RSA signs with RS256 only', () => {
    // Prepare
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;

    // Act / Assess
    expect(RsaCredentialsSchema.safeParse({ ...keyFile, accessKey: ec }).success).toBe(false);
  });
});

describe('docs/vendors/rsa.md', () => {
  const doc = readFileSync(new URL('../../../docs/vendors/rsa.md', import.meta.url), 'utf8');

  it('shows every saved query exactly as saved', () => {
    for (const query of rsaDefinition.queries) {
      // Assess
      expect(doc, query.name).toContain(`### \`${query.name}\``);
      expect(doc, query.name).toContain(query.sql);
    }
  });

  it('lists every column of every table', () => {
    for (const report of rsaDefinition.reports) {
      // Assess
      expect(doc).toContain(`### \`rsa_${report.name}\``);
      for (const column of report.columns) {
        const row = new RegExp(`^\\| \`${column.name}\` +\\| ${column.type.replace(/[<>]/g, '.')} +\\|`, 'm');
        expect(doc, `${report.name}.${column.name}`).toMatch(row);
      }
    }
  });
});
