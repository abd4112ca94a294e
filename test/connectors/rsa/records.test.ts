import { describe, expect, it } from 'vitest';
import {
  normaliseHeader,
  parseFlag,
  parseTimestamp,
  RSA_REPORT_DEFINITIONS,
  RSA_REPORTS,
} from '../../../lambdas/connectors/rsa/records.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';
import { generateTenantData, toCsv } from '../../../simulators/rsa/data.ts';
import { parseCsv } from './helpers.ts';

const definition = (name: string) => {
  const found = RSA_REPORT_DEFINITIONS.find((d) => d.name === name);
  if (!found) throw new Error(`no report ${name}`);
  return found;
};

describe('normaliseHeader', () => {
  it.each([
    ['Primary Unique Identifier (DN)', 'primary_unique_identifier_dn'],
    ['Device OS & Version', 'device_os_version'],
    ['High-Risk User', 'high_risk_user'],
    ['Used Cloud Service in the last 6 months', 'used_cloud_service_in_the_last_6_months'],
    ['Offline Data Expiration (UTC)', 'offline_data_expiration_utc'],
    ['\uFEFFEmail', 'email'],
    ['  Zoë’s  Côté ', 'zoe_s_cote'],
    ['2FA Method', 'c_2fa_method'],
    ['###', ''],
  ])('%j → %j', (header, expected) => {
    // Act / Assess
    expect(normaliseHeader(header)).toBe(expected);
  });
});

describe('report definitions', () => {
  it('has one table per report, lower snake_case columns, no partition clash, and an extra map', () => {
    // Assess
    expect(RSA_REPORT_DEFINITIONS.map((d) => d.name)).toEqual([...RSA_REPORTS]);
    for (const d of RSA_REPORT_DEFINITIONS) {
      const names = d.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(names).not.toContain('dt');
      expect(names).not.toContain('tenant');
      expect(d.columns.at(-1)).toMatchObject({ name: 'extra', type: 'map<string,string>' });
    }
  });
});

describe('users toRecord', () => {
  it('types flags and dates, keeps strings as delivered and puts unknown headers in extra', () => {
    // Prepare
    const raw = {
      '\uFEFFEmail': "zoë.o'brien@acme.example.com",
      'First Name': 'Zoë',
      'Last Name': '"The Rock" Johnson, Jr.',
      'Primary Unique Identifier (DN)': 'CN=Johnson\\, Zoë,OU=Users,DC=acme',
      'Identity Source Name': 'Azure AD, EU tenant',
      'Account Created': '2024-05-13 10:22:01 UTC',
      'Account Last Updated': '2024-05-13T10:22:01.5+02:00',
      Status: 'Enabled',
      'Device Name': 'Line one\nline two',
      'Device Registered': 'Yes',
      'SMS Registered': 'no',
      'FIDO Registered': '',
      'Alternate Username': '=HYPERLINK("http://attacker.example/x","open")',
      'Manager Email': 'boss@acme.example.com',
      'OTP Credential Expiration': '',
    };

    // Act
    const record = definition('users').toRecord(raw);

    // Assess
    expect(record).toMatchObject({
      email: "zoë.o'brien@acme.example.com",
      first_name: 'Zoë',
      last_name: '"The Rock" Johnson, Jr.',
      primary_unique_identifier_dn: 'CN=Johnson\\, Zoë,OU=Users,DC=acme',
      identity_source_name: 'Azure AD, EU tenant',
      account_created: '2024-05-13 10:22:01.000',
      account_last_updated: '2024-05-13 08:22:01.500',
      status: 'Enabled',
      device_name: 'Line one\nline two',
      device_registered: true,
      sms_registered: false,
      fido_registered: null,
      alternate_username: '=HYPERLINK("http://attacker.example/x","open")',
      // not in this file: null, not ''
      user_id: null,
      voice_registered: null,
      extra: { manager_email: 'boss@acme.example.com', otp_credential_expiration: '' },
    });
    const columns = definition('users').columns.map((c) => c.name);
    expect(Object.keys(record).sort()).toEqual([...columns].sort());
  });

  it('maps the older release headers onto the same columns', () => {
    // Act
    const record = definition('users').toRecord({
      'Distinguished Name': 'CN=a,DC=b',
      'Emergency Tokencode created on': '2023-01-02 03:04:05 UTC',
      'Device Type': 'iOS',
    });

    // Assess
    expect(record.primary_unique_identifier_dn).toBe('CN=a,DC=b');
    expect(record.emergency_access_code_created_on).toBe('2023-01-02 03:04:05.000');
    expect(record.device_type).toBe('iOS');
    expect(record.extra).toEqual({});
  });

  it('keeps a second header that normalises to a taken column in extra, not dropped', () => {
    // Act
    const record = definition('users').toRecord({
      Status: 'Enabled',
      'STATUS ': 'Locked',
      'Distinguished Name': 'x',
      DN: 'y',
    });

    // Assess
    expect(record.status).toBe('Enabled');
    expect(record.primary_unique_identifier_dn).toBe('x');
    expect(record.extra).toEqual({ status: 'Locked', dn: 'y' });
  });

  it('names the header and the value when a flag cannot be read', () => {
    // Act / Assess
    expect(() => definition('users').toRecord({ 'High-Risk User': 'maybe' })).toThrow(MalformedCsvError);
    expect(() => definition('users').toRecord({ 'High-Risk User': 'maybe' })).toThrow(/"High-Risk User".*"maybe"/);
  });

  it('names the header when a date cannot be read', () => {
    // Act / Assess
    expect(() => definition('users').toRecord({ 'Account Created': '05/06/2024' })).toThrow(
      /field "Account Created": expected a date.*"05\/06\/2024"/,
    );
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2024-05-13', '2024-05-13 00:00:00.000'],
    ['2024-05-13 10:22', '2024-05-13 10:22:00.000'],
    ['2024-05-13T10:22:01Z', '2024-05-13 10:22:01.000'],
    ['2024-05-13T10:22:01.123456789Z', '2024-05-13 10:22:01.123'],
    ['2024-05-13 10:22:01 GMT', '2024-05-13 10:22:01.000'],
    ['2024-05-13T00:30:00-0130', '2024-05-13 02:00:00.000'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31 23:30:00.000'],
    ['Mon May 13 10:22:01 UTC 2024', '2024-05-13 10:22:01.000'],
    ['May 13, 2024', '2024-05-13 00:00:00.000'],
    ['May 13, 2024 12:05:09 AM', '2024-05-13 00:05:09.000'],
    ['Sept. 3, 2024, 1:05 PM UTC', '2024-09-03 13:05:00.000'],
    ['  ', null],
  ])('%j → %j', (value, expected) => {
    // Act / Assess
    expect(parseTimestamp(value, 'When')).toBe(expected);
  });

  it.each([
    '2024-02-30',
    '2024-13-01',
    '2024-05-13 24:00:00',
    '13/05/2024',
    'Mon May 13 10:22:01 CEST 2024',
    'May 13, 2024 13:00 PM',
    'yesterday',
    '1715595721',
  ])('refuses %j', (value) => {
    // Act / Assess
    expect(() => parseTimestamp(value, 'When')).toThrow(MalformedCsvError);
  });
});

describe('parseFlag', () => {
  it.each([
    ['Yes', true],
    ['Y', true],
    ['true', true],
    ['1', true],
    [' No ', false],
    ['FALSE', false],
    ['0', false],
    ['', null],
  ])('%j → %j', (value, expected) => {
    // Act / Assess
    expect(parseFlag(value, 'Flag')).toBe(expected);
  });
});

describe('every simulated report converts', () => {
  it.each(['current', 'legacy'] as const)('%s headers, hostile values, every date style', (headerStyle) => {
    for (const dateStyle of ['utc', 'iso', 'java'] as const) {
      // Prepare
      const data = generateTenantData({
        seed: 11,
        tenantId: 'acme',
        domain: 'acme.example.com',
        rows: { users: 60, hardware_tokens: 20, mfa_clients: 10, admin_users: 5, radius_clients: 4 },
        hostile: true,
        headerStyle,
        dateStyle,
        extraColumns: ['Manager', 'Risk Score (0-100)'],
      });
      for (const report of RSA_REPORTS) {
        const csv = Buffer.from(toCsv(data.tables[report], { bom: true, lineEnding: 'crlf', quoteAll: false }));

        // Act
        const records = parseCsv(csv).map((raw) => definition(report).toRecord(raw));

        // Assess: either documented release's header has every required column
        expect(definition(report).missingColumns?.(data.tables[report].headers, {})).toEqual([]);
        expect(records).toHaveLength(data.tables[report].rows.length);
        for (const [i, record] of records.entries()) {
          expect(record.extra).toEqual({
            manager: `Manager ${i + 1}`,
            risk_score_0_100: `Risk Score (0-100) ${i + 1}`,
          });
          for (const column of definition(report).columns) {
            // every known header of the simulator matched a column (no typed column left as a raw string)
            if (column.type === 'timestamp' && record[column.name] !== null) {
              expect(record[column.name]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
            }
          }
        }
      }
    }
  });
});
