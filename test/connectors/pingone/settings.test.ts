import { describe, expect, it } from 'vitest';
import { pingOneDefinition } from '../../../lambdas/connectors/pingone/definition.ts';
import {
  defaultDownloadHosts,
  FilterSyntaxError,
  normalizeApiBase,
  PingOneCredentialsSchema,
  PingOneSectionSchema,
  validateFilter,
} from '../../../lambdas/connectors/pingone/settings.ts';

const ENV = 'abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6';

function section(extra: Record<string, unknown> = {}, tenant: Record<string, unknown> = {}) {
  return {
    tenants: [{ id: 'prod', since: '2026-01-01', environmentId: ENV, secretName: 'pingone/prod', ...tenant }],
    ...extra,
  };
}

function issues(input: unknown): string[] {
  const result = PingOneSectionSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('config section', () => {
  it('defaults to the com region, ASYNC_FILE, all fields, basic auth and a 15 s poll', () => {
    // Act
    const parsed = PingOneSectionSchema.parse(section());
    // Assess
    expect(parsed.baseUrl).toBe('https://api.pingone.com/v1');
    expect(parsed.authUrl).toBe('https://auth.pingone.com');
    expect(parsed.reports).toEqual(['mfa_devices']);
    expect(parsed.callIntervalMs).toBe(5000);
    expect(parsed.poll.intervalSeconds).toBeGreaterThanOrEqual(10);
    expect(parsed.tenants[0]).toMatchObject({ deliverAs: 'ASYNC_FILE', tokenAuthMethod: 'client_secret_basic' });
    expect(parsed.tenants[0]?.fields).toBeUndefined();
    expect(parsed.downloadHosts).toEqual([...defaultDownloadHosts('com'), 'auth.pingone.com']);
  });

  it.each([
    ['eu', 'https://api.pingone.eu/v1', 'https://auth.pingone.eu', '*.s3.eu-central-1.amazonaws.com'],
    ['ca', 'https://api.pingone.ca/v1', 'https://auth.pingone.ca', '*.s3.ca-central-1.amazonaws.com'],
    ['com.au', 'https://api.pingone.com.au/v1', 'https://auth.pingone.com.au', '*.s3.ap-southeast-2.amazonaws.com'],
    ['sg', 'https://api.pingone.sg/v1', 'https://auth.pingone.sg', '*.s3.ap-southeast-1.amazonaws.com'],
    ['asia', 'https://api.pingone.asia/v1', 'https://auth.pingone.asia', '*.s3.ap-southeast-1.amazonaws.com'],
  ])('derives the %s URLs and storage hosts from the region', (region, api, auth, storage) => {
    // Act
    const parsed = PingOneSectionSchema.parse(section({ region }));
    // Assess
    expect(parsed.baseUrl).toBe(api);
    expect(parsed.authUrl).toBe(auth);
    expect(parsed.downloadHosts).toContain(storage);
    expect(parsed.downloadHosts).toContain(new URL(auth).host);
    expect(parsed.downloadHosts.some((h) => h === '*.amazonaws.com')).toBe(false);
  });

  it.each([
    ['https://api.pingone.eu', 'https://api.pingone.eu/v1'],
    ['https://api.pingone.eu/', 'https://api.pingone.eu/v1'],
    ['https://api.pingone.eu/v1', 'https://api.pingone.eu/v1'],
    ['https://api.pingone.eu/v1/', 'https://api.pingone.eu/v1'],
    ['http://127.0.0.1:8080/v1//', 'http://127.0.0.1:8080/v1'],
  ])('never doubles /v1: %s', (given, expected) => {
    // Act
    const parsed = PingOneSectionSchema.parse(section({ baseUrl: given, region: 'com' }));
    // Assess
    expect(parsed.baseUrl).toBe(expected);
    expect(normalizeApiBase(parsed.baseUrl)).toBe(expected);
  });

  it('an explicit baseUrl, authUrl and downloadHosts override the region, keeping the auth host allowed', () => {
    // Act
    const parsed = PingOneSectionSchema.parse(
      section({
        region: 'eu',
        baseUrl: 'https://p1.example.com',
        authUrl: 'https://login.example.com/',
        downloadHosts: ['p1-reports-prod-eu-central-1.s3.eu-central-1.amazonaws.com'],
      }),
    );
    // Assess
    expect(parsed.baseUrl).toBe('https://p1.example.com/v1');
    expect(parsed.authUrl).toBe('https://login.example.com');
    expect(parsed.downloadHosts).toEqual([
      'p1-reports-prod-eu-central-1.s3.eu-central-1.amazonaws.com',
      'login.example.com',
    ]);
    // Parsing the parsed section again changes nothing (it travels through the state machine).
    expect(PingOneSectionSchema.parse(parsed)).toEqual(parsed);
  });

  it('refuses an unknown region, a second tenant for the same environment, and a poll faster than the call spacing', () => {
    // Act
    const found = [
      ...issues(section({ region: 'us' })),
      ...issues({
        tenants: [
          { id: 'a', since: '2026-01-01', environmentId: ENV, secretName: 's1' },
          { id: 'b', since: '2026-01-01', environmentId: ENV.toUpperCase(), secretName: 's2' },
        ],
      }),
      ...issues(section({ poll: { intervalSeconds: 2, maxAttempts: 10, deadlineMinutes: 10 } })),
    ];
    // Assess
    expect(found.join('\n')).toMatch(/^region: /m);
    expect(found.join('\n')).toMatch(/tenants\.1\.environmentId: environment .* is already configured as tenant "a"/);
    expect(found.join('\n')).toMatch(/poll\.intervalSeconds: expected at least 5 \(callIntervalMs 5000\); received 2/);
  });

  it('refuses a tenant without a UUID environment id or with an unknown deliverAs', () => {
    // Act
    const found = [
      ...issues(section({}, { environmentId: 'prod-env' })),
      ...issues(section({}, { deliverAs: 'SYNC' })),
      ...issues(section({}, { tokenAuthMethod: 'private_key_jwt' })),
    ].join('\n');
    // Assess
    expect(found).toMatch(/tenants\.0\.environmentId: expected the PingOne environment id/);
    expect(found).toMatch(/tenants\.0\.deliverAs/);
    expect(found).toMatch(/tenants\.0\.tokenAuthMethod/);
  });

  it('validates fields against the documented names', () => {
    // Act
    const ok = PingOneSectionSchema.parse(
      section({}, { fields: ['userId', 'phone', 'deviceIntegrityStateCompromised'] }),
    );
    const found = [
      ...issues(section({}, { fields: ['userId', 'lastLogin'] })),
      ...issues(section({}, { fields: ['phone', 'phone'] })),
      ...issues(section({}, { fields: [] })),
    ].join('\n');
    // Assess
    expect(ok.tenants[0]?.fields).toHaveLength(3);
    expect(found).toMatch(
      /tenants\.0\.fields\.1: unknown report field "lastLogin"; expected one of the documented fields/,
    );
    expect(found).toMatch(/tenants\.0\.fields\.1: field "phone" is listed twice/);
    expect(found).toMatch(/tenants\.0\.fields: expected at least one field/);
  });
});

describe('filter validation', () => {
  it.each([
    '(deviceType eq "EMAIL")',
    '(phone sw "+972")',
    '(mfaEnabled eq "true")',
    'email sw "admin@"',
    '(userId eq "2f8e-1") or (deviceType eq "SMS")',
    '((mfaEnabled eq "false") and (phone sw "+1"))',
    '(email eq "a\\"b@example.com")',
  ])('accepts %s', (filter) => {
    expect(() => validateFilter(filter)).not.toThrow();
    expect(issues(section({}, { filter }))).toEqual([]);
  });

  it.each([
    [
      '(username eq "bob")',
      /expected a filter attribute \(email, phone, deviceType, userId, mfaEnabled\); received "username" at position 2/,
    ],
    ['(deviceType sw "SM")', /"sw" is allowed only on email and phone; received "deviceType sw"/],
    ['(userId sw "abc")', /"sw" is allowed only on email and phone; received "userId sw"/],
    ['(email co "x")', /expected operator eq or sw after email; received "co"/],
    ['(phone eq +972)', /unexpected character "\+" at position 11/],
    ['(phone eq x972)', /expected a double-quoted value after "phone eq"; received "x972" at position 11/],
    ['(mfaEnabled eq "yes")', /mfaEnabled takes "true" or "false"; received "yes"/],
    ['(email eq "x"', /expected "\)"; received the end of the filter/],
    ['(email eq "x") extra', /unexpected "extra" at position 16/],
    ['(email eq "x)', /unterminated string/],
    ['(email eq "x") and', /expected a filter attribute .* received the end of the filter/],
  ])('refuses %s naming the bad part', (filter, message) => {
    // Act
    const act = () => validateFilter(filter);
    // Assess
    expect(act).toThrow(FilterSyntaxError);
    expect(act).toThrow(message);
    expect(issues(section({}, { filter })).join('\n')).toMatch(/tenants\.0\.filter: invalid filter: /);
  });
});

describe('credentials', () => {
  it('takes clientId and clientSecret and names a missing one without echoing values', () => {
    // Act
    const ok = PingOneCredentialsSchema.safeParse({ clientId: 'id', clientSecret: 's3cr3t~x.y' });
    const bad = PingOneCredentialsSchema.safeParse({ clientId: 'id', clientSecret: 'has space' });
    const missing = PingOneCredentialsSchema.safeParse({ clientId: 'id' });
    // Assess
    expect(ok.success).toBe(true);
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).not.toContain('has space');
    expect(missing.error?.issues[0]?.path).toEqual(['clientSecret']);
  });
});

describe('planDates', () => {
  it('plans the UTC date of the scheduled time, or the requested date (which the start step skips)', () => {
    // Prepare
    const scheduledTime = new Date('2026-11-22T02:20:00Z');
    // Act
    const today = pingOneDefinition.planDates?.({ scheduledTime, archived: new Set() });
    const same = pingOneDefinition.planDates?.({ scheduledTime, requestedDate: '2026-11-22', archived: new Set() });
    const past = pingOneDefinition.planDates?.({ scheduledTime, requestedDate: '2026-11-01', archived: new Set() });
    // Assess
    expect(today).toEqual(['2026-11-22']);
    expect(same).toEqual(['2026-11-22']);
    expect(past).toEqual(['2026-11-01']);
  });
});
