import { describe, expect, it } from 'vitest';
import {
  MFA_DEVICE_COLUMNS,
  PINGONE_FIELDS,
  toMfaDeviceRecord,
  toTimestamp,
} from '../../../lambdas/connectors/pingone/records.ts';
import { MalformedCsvError, MalformedJsonError } from '../../../lambdas/core/errors.ts';
import { SIM_FIELDS } from '../../../simulators/pingone/data.ts';

describe('mfa_devices columns', () => {
  it('has the 45 documented fields in snake_case, in order, plus extra', () => {
    // Assess
    expect(PINGONE_FIELDS).toHaveLength(45);
    expect([...PINGONE_FIELDS]).toEqual([...SIM_FIELDS]);
    expect(MFA_DEVICE_COLUMNS.map((c) => c.name)).toContain('device_integrity_state_compromised');
    expect(MFA_DEVICE_COLUMNS.map((c) => c.name)).toContain('fido_min_pin_length');
    expect(MFA_DEVICE_COLUMNS.at(-1)).toMatchObject({ name: 'extra', type: 'map<string,string>' });
    for (const column of MFA_DEVICE_COLUMNS) expect(column.name).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it('types the boolean- and timestamp-named fields only', () => {
    // Act
    const byType = (type: string) =>
      MFA_DEVICE_COLUMNS.filter((c) => c.type === type)
        .map((c) => c.name)
        .sort();
    // Assess
    expect(byType('boolean')).toEqual(
      [
        'device_blocked',
        'device_integrity_state_compromised',
        'device_locked',
        'fido_backup_eligibility',
        'fido_backup_state',
        'mfa_enabled',
      ].sort(),
    );
    expect(byType('timestamp')).toHaveLength(9);
    expect(byType('string')).toHaveLength(45 - 6 - 9);
  });
});

describe('toRecord on CSV rows', () => {
  it('maps headers case-insensitively, keeps hostile strings, and nulls empty cells', () => {
    // Prepare
    const raw = {
      '\uFEFFUSERID': 'u-1',
      username: 'zoë',
      givenName: 'Robert "Bob"',
      familyName: 'Smith, Jr.\nthe second',
      mfa_enabled: 'TRUE',
      deviceNickname: '',
      device_integrity_state_compromised: 'false',
      phone: '+972501234567',
      userCreatedAt: '2024-05-01T10:20:30.123Z',
      blockedAt: '',
    };
    // Act
    const record = toMfaDeviceRecord(raw);
    // Assess
    expect(record).toMatchObject({
      user_id: 'u-1',
      username: 'zoë',
      given_name: 'Robert "Bob"',
      family_name: 'Smith, Jr.\nthe second',
      mfa_enabled: true,
      device_nickname: null,
      device_integrity_state_compromised: false,
      phone: '+972501234567',
      user_created_at: '2024-05-01 10:20:30.123',
      blocked_at: null,
      serial_number: null,
      extra: {},
    });
    expect(Object.keys(record)).toHaveLength(46);
  });

  it('keeps undocumented columns in extra, never dropping them', () => {
    // Act
    const record = toMfaDeviceRecord({ userId: 'u-1', riskLevel: 'HIGH', 'Last Login': '', user_id: 'dup' });
    // Assess
    expect(record.extra).toEqual({ riskLevel: 'HIGH', 'Last Login': '', user_id: 'dup' });
    expect(record.user_id).toBe('u-1');
  });

  it.each([
    ['mfaEnabled', 'maybe'],
    ['deviceLocked', 'yes'],
    ['fidoBackupState', 'ELIGIBLE'],
  ])('refuses %s = %s naming the field', (field, value) => {
    // Act
    const act = () => toMfaDeviceRecord({ [field]: value });
    // Assess
    expect(act).toThrow(MalformedCsvError);
    expect(act).toThrow(new RegExp(`field ${field}: expected a boolean`));
  });

  it.each([
    ['2024-05-01T10:20:30Z', '2024-05-01 10:20:30.000'],
    ['2024-05-01T10:20:30.5Z', '2024-05-01 10:20:30.500'],
    ['2024-05-01 10:20:30.123456', '2024-05-01 10:20:30.123'],
    ['2024-05-01T12:20:30+02:00', '2024-05-01 10:20:30.000'],
    ['2024-05-01T05:20:30-0500', '2024-05-01 10:20:30.000'],
    ['2024-05-01', '2024-05-01 00:00:00.000'],
    ['1714558830', '2024-05-01 10:20:30.000'],
    ['1714558830123', '2024-05-01 10:20:30.123'],
    [' 2024-12-31T23:59:59.999Z ', '2024-12-31 23:59:59.999'],
  ])('parses the timestamp %j', (raw, expected) => {
    expect(toTimestamp('deviceCreatedAt', raw)).toBe(expected);
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '01/05/2024 10:20',
    'yesterday',
    '2024-05-01T25:00:00Z',
    '12345',
    '2024-05-01T10:20:30+25:00',
  ])('refuses the timestamp %j naming the field', (raw) => {
    // Act
    const act = () => toMfaDeviceRecord({ lockExpiration: raw });
    // Assess
    expect(act).toThrow(MalformedCsvError);
    expect(act).toThrow(/field lockExpiration: expected an ISO 8601 timestamp/);
  });
});

describe('toRecord on JSON entries', () => {
  it('takes JSON booleans, numbers and nulls, and gives the same record as the CSV row', () => {
    // Prepare
    const json = {
      userId: 'u-2',
      mfaEnabled: false,
      deviceBlocked: true,
      deviceOrder: 2,
      fidoMinPinLength: null,
      deviceCreatedAt: 1714558830123,
      deviceNickname: 'Work phone, backup',
      custom: { nested: ['a'] },
    };
    const csv = {
      userId: 'u-2',
      mfaEnabled: 'false',
      deviceBlocked: 'true',
      deviceOrder: '2',
      fidoMinPinLength: '',
      deviceCreatedAt: '2024-05-01T10:20:30.123Z',
      deviceNickname: 'Work phone, backup',
      custom: '{"nested":["a"]}',
    };
    // Act
    const fromJson = toMfaDeviceRecord(json);
    const fromCsv = toMfaDeviceRecord(csv);
    // Assess
    expect(fromJson).toEqual(fromCsv);
    expect(fromJson).toMatchObject({
      mfa_enabled: false,
      device_blocked: true,
      device_order: '2',
      fido_min_pin_length: null,
    });
  });

  it('refuses a JSON value of the wrong type with MalformedJsonError', () => {
    // Act
    const act = () => toMfaDeviceRecord({ deviceLocked: 'locked' });
    const actNumber = () => toMfaDeviceRecord({ mfaEnabled: 7 });
    const actObject = () => toMfaDeviceRecord({ userCreatedAt: { at: 1 } });
    // Assess
    expect(act).toThrow(MalformedCsvError);
    expect(actNumber).toThrow(MalformedJsonError);
    expect(actNumber).toThrow(/field mfaEnabled/);
    expect(actObject).toThrow(MalformedJsonError);
  });
});
