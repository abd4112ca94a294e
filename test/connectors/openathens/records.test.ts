import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  parseEventTime,
  RAW_STATISTICS_COLUMNS,
  rawStatisticsReport,
  toRawStatisticsRecord,
} from '../../../lambdas/connectors/openathens/records.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';
import { DOCUMENTED_HEADERS, generateReport, toCsv } from '../../../simulators/openathens/data.ts';

const BASE_ROW: Record<string, string> = {
  date: '20/06/2023T19:29:16',
  action: 'FEDERATED_TRANSFER',
  status: 'SUCCESS',
  'account.authsystemname': 'Student login',
  'account.authsystemid': '5859e555-ecf1-5afb-ba05-852355423ea6',
  'account.permissionsets': 'demo#default, demo#extra',
  'account.organisation': '123456',
  'account.accountid': '07e70182-e565-4be8-b6b1-f2765f13164c',
  'account.type': 'PERSONAL',
  'account.status': 'ACTIVE',
  'account.expiry': '2024-12-06',
  'location.isp': 'virginm.net',
  'request.countrycode': 'GB',
  'request.useragent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:108.0) Gecko/20100101 Firefox/108.0',
  'request.ipaddress': '13.248.204.98',
  'attribute.resourceid': 'https://sp.coolresource.co/entity',
  'attribute.federationctx': 'oafed',
  'attribute.resourcetitle': 'Cool Stuff Inc.',
};

describe('raw_statistics columns', () => {
  it('are unique lower snake_case names, with the documented ones derived from the headers', () => {
    // Act
    const names = RAW_STATISTICS_COLUMNS.map((c) => c.name);
    // Assess
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
    for (const header of DOCUMENTED_HEADERS.filter((h) => h !== 'date')) {
      expect(names).toContain(header.replace(/\./g, '_'));
    }
    expect(RAW_STATISTICS_COLUMNS.find((c) => c.name === 'event_time')?.type).toBe('timestamp');
    expect(RAW_STATISTICS_COLUMNS.find((c) => c.name === 'account_expiry')?.type).toBe('date');
    expect(RAW_STATISTICS_COLUMNS.find((c) => c.name === 'attributes')?.type).toBe('map<string,string>');
    expect(RAW_STATISTICS_COLUMNS.find((c) => c.name === 'extra')?.type).toBe('map<string,string>');
  });

  it('leave dt and tenant to the partitions', () => {
    expect(RAW_STATISTICS_COLUMNS.map((c) => c.name)).not.toContain('dt');
    expect(RAW_STATISTICS_COLUMNS.map((c) => c.name)).not.toContain('tenant');
  });
});

describe('parseEventTime', () => {
  it.each([
    ['20/06/2023T19:29:16', '2023-06-20 19:29:16.000'],
    ['06/06/2023T19:29:16', '2023-06-06 19:29:16.000'],
    ['29/02/2024T00:00:00', '2024-02-29 00:00:00.000'],
    ['31/12/2023T23:59:59', '2023-12-31 23:59:59.000'],
  ])('reads %s day first', (value, expected) => {
    expect(parseEventTime(value)).toBe(expected);
  });

  it.each([
    ['month first (day 20 cannot be a month)', '06/20/2023T19:29:16'],
    ['31 April', '31/04/2023T10:00:00'],
    ['29 February of a common year', '29/02/2023T10:00:00'],
    ['hour 24', '20/06/2023T24:00:00'],
    ['a space instead of T', '20/06/2023 19:29:16'],
    ['ISO 8601', '2023-06-20T19:29:16Z'],
    ['fractional seconds', '20/06/2023T19:29:16.123'],
    ['one-digit day', '6/06/2023T19:29:16'],
    ['surrounding blanks', ' 20/06/2023T19:29:16'],
  ])('refuses %s', (_label, value) => {
    expect(parseEventTime(value)).toBeUndefined();
  });
});

describe('toRawStatisticsRecord', () => {
  it('maps the documented columns, the time and both maps', () => {
    // Prepare
    const raw = { ...BASE_ROW, 'attribute.department': 'Chemistry, Biology', 'request.referrer': 'https://x.example/' };
    // Act
    const record = rawStatisticsReport.toRecord(raw);
    // Assess
    expect(record).toEqual({
      event_time: '2023-06-20 19:29:16.000',
      event_time_raw: '20/06/2023T19:29:16',
      action: 'FEDERATED_TRANSFER',
      status: 'SUCCESS',
      account_authsystemname: 'Student login',
      account_authsystemid: '5859e555-ecf1-5afb-ba05-852355423ea6',
      account_permissionsets: 'demo#default, demo#extra',
      account_organisation: '123456',
      account_accountid: '07e70182-e565-4be8-b6b1-f2765f13164c',
      account_type: 'PERSONAL',
      account_status: 'ACTIVE',
      account_expiry: '2024-12-06',
      location_isp: 'virginm.net',
      request_countrycode: 'GB',
      request_useragent: BASE_ROW['request.useragent'],
      request_ipaddress: '13.248.204.98',
      attribute_resourceid: 'https://sp.coolresource.co/entity',
      attribute_federationctx: 'oafed',
      attribute_resourcetitle: 'Cool Stuff Inc.',
      attributes: { department: 'Chemistry, Biology' },
      extra: { 'request.referrer': 'https://x.example/' },
    });
    expect(Object.keys(record).sort()).toEqual(RAW_STATISTICS_COLUMNS.map((c) => c.name).sort());
  });

  it('keeps hostile text exactly: quotes, commas, line breaks, non-ASCII, empty strings', () => {
    // Prepare
    const title = 'EBSCOhost –\r\nAcademic "Search", Ünïcödé 図書館';
    const raw = {
      ...BASE_ROW,
      'attribute.resourcetitle': title,
      'account.authsystemname': '',
      'attribute.jobTitle': 'Nurse\nBand 6',
      'attribute.costCentre': '',
    };
    // Act
    const record = toRawStatisticsRecord(raw);
    // Assess
    expect(record.attribute_resourcetitle).toBe(title);
    expect(record.account_authsystemname).toBe('');
    expect(record.attributes).toEqual({ jobTitle: 'Nurse\nBand 6', costCentre: '' });
  });

  it('strips a BOM and blanks from header names and matches documented headers case-insensitively', () => {
    // Prepare
    const { date, action, ...rest } = BASE_ROW;
    const raw = { '\uFEFFdate': date, ' Action ': action, ...rest, 'Attribute.Department': 'Physics' };
    // Act
    const record = toRawStatisticsRecord(raw);
    // Assess
    expect(record.event_time).toBe('2023-06-20 19:29:16.000');
    expect(record.action).toBe('FEDERATED_TRANSFER');
    expect(record.attributes).toEqual({ Department: 'Physics' });
    expect(record.extra).toEqual({});
  });

  it('tolerates missing documented columns (null) and an empty expiry (null)', () => {
    // Act
    const record = toRawStatisticsRecord({ date: '01/02/2024T03:04:05', action: 'AUTHENTICATE', 'account.expiry': '' });
    // Assess
    expect(record.event_time).toBe('2024-02-01 03:04:05.000');
    expect(record.status).toBeNull();
    expect(record.account_expiry).toBeNull();
    expect(record.attribute_resourceid).toBeNull();
    expect(record.attributes).toEqual({});
  });

  it.each([
    ['a missing date column', { action: 'AUTHENTICATE' }, /field "date" is missing/],
    ['an empty date', { ...BASE_ROW, date: '' }, /field "date".*empty/],
    ['a month-first date', { ...BASE_ROW, date: '06/20/2023T19:29:16' }, /field "date".*"06\/20\/2023T19:29:16"/],
    ['a bad expiry', { ...BASE_ROW, 'account.expiry': '06/12/2024' }, /field "account.expiry".*"06\/12\/2024"/],
    ['a non-text value', { ...BASE_ROW, status: { nested: true } }, /field "status" must be text; received object/],
  ])('throws MalformedCsvError naming the field for %s', (_label, raw, pattern) => {
    // Act
    const act = () => toRawStatisticsRecord(raw);
    // Assess
    expect(act).toThrow(MalformedCsvError);
    expect(act).toThrow(pattern);
  });

  it('round-trips every field of a generated report exactly, through a real CSV parser', () => {
    // Prepare: CRLF, BOM, quoted commas/quotes/newlines, per-organisation attributes and drift
    const report = generateReport({
      seed: 7,
      apiName: 'example.org',
      organisationId: '123456',
      date: '2023-06-20',
      rows: 300,
      attributes: ['department', 'jobTitle', 'eduPersonAffiliation'],
      extraColumns: ['request.referrer'],
    });
    const csv = toCsv(report, { bom: true, lineEnding: '\r\n' });
    const rows = parse(csv, { columns: true, bom: false, relax_column_count: false }) as Record<string, string>[];
    // Act
    const records = rows.map((row) => toRawStatisticsRecord(row));
    // Assess
    expect(records).toHaveLength(report.rows.length);
    const hostile = report.rows.flat().filter((v) => /[",\n]|[^\x20-\x7e]/.test(v));
    expect(hostile.length).toBeGreaterThan(0);
    records.forEach((record, i) => {
      const fields = report.rows[i] as readonly string[];
      const byHeader = Object.fromEntries(report.header.map((h, j) => [h, fields[j] as string]));
      expect(record.event_time_raw).toBe(byHeader.date);
      expect(record.attribute_resourcetitle).toBe(byHeader['attribute.resourcetitle']);
      expect(record.request_useragent).toBe(byHeader['request.useragent']);
      expect(record.account_permissionsets).toBe(byHeader['account.permissionsets']);
      expect(record.attributes).toEqual({
        department: byHeader['attribute.department'],
        jobTitle: byHeader['attribute.jobTitle'],
        eduPersonAffiliation: byHeader['attribute.eduPersonAffiliation'],
      });
      expect(record.extra).toEqual({ 'request.referrer': byHeader['request.referrer'] });
      expect(String(record.event_time).slice(0, 10)).toBe('2023-06-20');
    });
  });
});
