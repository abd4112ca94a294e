/**
 * `compileCsv` of raw_statistics against the definition of truth: for any header and row, the
 * compiled line must be `JSON.stringify(toRecord(raw))` byte for byte, or the same error, where
 * `raw` is the object the CSV reader would have keyed by that header.
 */
import { describe, expect, it } from 'vitest';
import {
  compileRawStatisticsCsv,
  rawStatisticsReport,
  toRawStatisticsRecord,
} from '../../../lambdas/connectors/openathens/records.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';
import { DOCUMENTED_HEADERS, generateReport, prng } from '../../../simulators/openathens/data.ts';
import { pick } from '../../../simulators/random.ts';

type Random = () => number;
type Outcome = { readonly line: string } | { readonly error: string };

/** The object `CsvRecordReader` hands to `onRecord` for this row. */
function keyed(header: readonly string[], row: readonly string[]): Record<string, string> {
  const raw: Record<string, string> = {};
  for (let f = 0; f < header.length; f++) raw[header[f]!] = row[f]!;
  return raw;
}

function outcome(produce: () => string): Outcome {
  try {
    return { line: produce() };
  } catch (error) {
    if (!(error instanceof MalformedCsvError)) throw error;
    return { error: error.message };
  }
}

/** Runs every row through both paths (one compiled mapper per header, as per file) and compares. */
function expectSameOutput(header: readonly string[], rows: readonly (readonly string[])[]): Outcome[] {
  const toLine = compileRawStatisticsCsv(header);
  const outcomes: Outcome[] = [];
  for (const row of rows) {
    const expected = outcome(() => JSON.stringify(toRawStatisticsRecord(keyed(header, row))));
    const actual = outcome(() => toLine(row));
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      // the failing case, readable
      expect({ header, row, actual }).toEqual({ header, row, actual: expected });
    }
    outcomes.push(actual);
  }
  return outcomes;
}

function chance(random: Random, p: number): boolean {
  return random() < p;
}

/** Spellings `toRecord` reads as the same header: case, blanks, a BOM. */
function spell(random: Random, header: string): string {
  const capitalised = header.replace(/(^|\.)([a-z])/g, (_m, dot: string, c: string) => dot + c.toUpperCase());
  return pick(random, [
    header,
    header,
    header,
    header.toUpperCase(),
    capitalised,
    ` ${header}`,
    `${header} `,
    `\t${header}\u00a0`,
    `\uFEFF${header}`,
  ]);
}

const ATTRIBUTE_HEADERS = [
  'attribute.department',
  'Attribute.JobTitle',
  'ATTRIBUTE.eduPersonAffiliation',
  ' attribute.department ',
  'attribute.',
  'attribute.5',
  'attribute.12',
  'attribute.__proto__',
  'attribute.constructor',
  'attribute.x"y',
  'attribute.Ünïcödé',
];

/** Columns the docs do not list, including keys a plain object orders or treats specially. */
const EXTRA_HEADERS = [
  'request.referrer',
  'Request.Referrer ',
  '42',
  '7',
  '7 ',
  '3',
  ' 3',
  '0',
  '01',
  '-1',
  '1.5',
  '4294967294',
  '4294967295',
  '__proto__ ',
  'constructor',
  'toString',
  'hasOwnProperty',
  'Ünïcödé 図書館',
  'a\\b',
  'tab\tin',
  'new\nline',
  '😀',
  'x"quoted"',
  'date2',
  'dates',
];

const AWKWARD_VALUES = [
  '',
  '',
  'plain',
  'a,b,c',
  'said "hi"',
  '""',
  'two\nlines',
  'crlf\r\nhere',
  'cr\ronly',
  ' padded ',
  'Ünïcödé 図書館 – accès',
  'emoji 🎉 and 👍🏽',
  'lone \ud800 surrogate',
  '\udc00',
  'controls \u0000\u0001\u001f\u007f',
  'back\\slash \\u0041',
  'line sep \u2028 para sep \u2029',
  'null',
  '{"json":[1,2]}',
  'x'.repeat(300),
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)',
];

const BAD_EVENT_TIMES = [
  '',
  '06/20/2023T19:29:16',
  '31/04/2023T10:00:00',
  '29/02/2023T10:00:00',
  '20/06/2023T24:00:00',
  ' 20/06/2023T19:29:16',
  '20/06/2023 19:29:16',
  '2023-06-20T19:29:16Z',
  '20/06/2023T19:29:16.123',
  '２０/06/2023T19:29:16',
  'garbage',
];

const GOOD_DATES = ['2024-12-06', '2024-02-29', '2000-02-29', '1999-12-31', '0004-02-29', '9999-12-31'];
const BAD_DATES = [
  '2023-02-29',
  '06/12/2024',
  '2024-1-01',
  '2024-12-06 ',
  '２０２４-12-06',
  '2024-13-01',
  '0000-02-29',
];

function eventTime(second: number, day = '20/06/2023'): string {
  const hh = String(Math.floor(second / 3600)).padStart(2, '0');
  const mm = String(Math.floor((second % 3600) / 60)).padStart(2, '0');
  const ss = String(second % 60).padStart(2, '0');
  return `${day}T${hh}:${mm}:${ss}`;
}

/** A header as some organisation's export could spell it; names unique, as the CSV reader demands. */
function randomHeader(random: Random): string[] {
  const names: string[] = [];
  for (const documented of DOCUMENTED_HEADERS) {
    if (documented === 'date' ? chance(random, 0.04) : chance(random, 0.1)) continue; // dropped
    names.push(spell(random, documented));
    if (chance(random, 0.08)) names.push(spell(random, documented)); // the same column twice
  }
  for (let n = Math.floor(random() * 4); n > 0; n--) names.push(pick(random, ATTRIBUTE_HEADERS));
  for (let n = Math.floor(random() * 5); n > 0; n--) names.push(pick(random, EXTRA_HEADERS));
  if (chance(random, 0.4)) {
    for (let i = names.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [names[i], names[j]] = [names[j]!, names[i]!];
    }
  }
  return [...new Set(names)];
}

function randomRows(random: Random, header: readonly string[], count: number): string[][] {
  let second = Math.floor(random() * 86_000);
  const rows: string[][] = [];
  for (let r = 0; r < count; r++) {
    if (chance(random, 0.3)) second += 1 + Math.floor(random() * 3);
    const row = header.map((name) => {
      const lower = name
        .replace(/^\uFEFF/, '')
        .trim()
        .toLowerCase();
      if (lower === 'date') {
        if (chance(random, 0.04)) return pick(random, BAD_EVENT_TIMES);
        return chance(random, 0.1) ? eventTime(Math.floor(random() * 86_400)) : eventTime(second % 86_400);
      }
      if (lower === 'account.expiry') {
        if (chance(random, 0.03)) return pick(random, BAD_DATES);
        return chance(random, 0.3) ? '' : pick(random, GOOD_DATES);
      }
      return pick(random, AWKWARD_VALUES);
    });
    rows.push(row);
  }
  return rows;
}

describe('raw_statistics compileCsv', () => {
  it('is the fast path the archiver uses for the report', () => {
    expect(rawStatisticsReport.compileCsv).toBe(compileRawStatisticsCsv);
  });

  it('gives the bytes of JSON.stringify(toRecord) for the documented header and generated rows', () => {
    // Prepare: the simulator's rows: quoted commas and quotes, line breaks, non-ASCII, empty fields
    const report = generateReport({
      seed: 11,
      apiName: 'example.org',
      organisationId: '123456',
      date: '2023-06-20',
      rows: 500,
      attributes: ['department', 'jobTitle'],
      extraColumns: ['request.referrer'],
    });
    // Act
    const outcomes = expectSameOutput(report.header, report.rows);
    // Assess: every row archived (no errors), with the attribute and extra maps filled
    expect(outcomes.every((o) => 'line' in o)).toBe(true);
    const first = JSON.parse((outcomes[0] as { line: string }).line);
    expect(Object.keys(first.attributes)).toEqual(['department', 'jobTitle']);
    expect(Object.keys(first.extra)).toEqual(['request.referrer']);
  });

  it('agrees with toRecord byte for byte, or on the error, over random headers and awkward rows', () => {
    // Prepare
    const random = prng(20_231_120);
    let lines = 0;
    let errors = 0;
    for (let file = 0; file < 400; file++) {
      const header = randomHeader(random);
      const rows = randomRows(random, header, 40);
      // Act + Assess
      for (const o of expectSameOutput(header, rows)) {
        if ('line' in o) lines++;
        else errors++;
      }
    }
    // Assess: both outcomes were exercised in bulk
    expect(lines).toBeGreaterThan(5_000);
    expect(errors).toBeGreaterThan(500);
  });

  it.each([
    ['a header alone without date', ['action', 'status'], []],
    ['two date columns (the last one read wins)', ['date', ' DATE', 'action'], [['01/02/2024T03:04:05', '', 'x']]],
    [
      'two spellings of a documented column (the last one read wins)',
      ['date', 'action', 'Action ', 'ACTION'],
      [['01/02/2024T03:04:05', 'first', 'second', 'third']],
    ],
    [
      'two expiry columns, the overwritten one bad',
      ['date', 'account.expiry', ' Account.Expiry'],
      [['01/02/2024T03:04:05', '31/12/2024', '2024-12-31']],
    ],
    [
      'integer-like map keys (a plain object puts them first)',
      ['7', 'date', '3', 'attribute.9', 'attribute.b', 'attribute.1'],
      [['a', '01/02/2024T03:04:05', 'b', 'c', 'd', 'e']],
    ],
    [
      'an integer-like header and another spelling of it (the row object visits integer keys first)',
      ['date', ' 7', '7'],
      [['01/02/2024T03:04:05', 'spaced', 'plain']],
    ],
    [
      '"__proto__" after cleaning (a plain object drops it)',
      ['date', ' __proto__', 'attribute.__proto__'],
      [['01/02/2024T03:04:05', 'x', 'y']],
    ],
    ['no date column', ['action'], [['AUTHENTICATE']]],
    ['an empty date', ['date', 'action'], [['', 'AUTHENTICATE']]],
  ])('agrees with toRecord on %s', (_label, header, rows) => {
    // Act + Assess
    expectSameOutput(header, rows);
  });

  it('stays exact past its caches: many distinct event times out of order and many expiry dates', () => {
    // Prepare: more distinct values than either cache holds, each seen again after it was evicted
    const random = prng(7);
    const header = ['date', 'account.expiry', 'action'];
    const rows: string[][] = [];
    for (let r = 0; r < 12_000; r++) {
      const expiry = new Date(Date.UTC(2000, 0, 1 + Math.floor(random() * 6000))).toISOString().slice(0, 10);
      rows.push([eventTime(Math.floor(random() * 86_400), pick(random, ['20/06/2023', '21/06/2023'])), expiry, 'x']);
    }
    // Act
    const outcomes = expectSameOutput(header, rows);
    // Assess
    expect(outcomes.every((o) => 'line' in o)).toBe(true);
  });

  it('throws MalformedCsvError for a bad row, then keeps mapping good rows correctly', () => {
    // Prepare
    const header = ['date', 'account.expiry'];
    const toLine = compileRawStatisticsCsv(header);
    // Act
    const good = toLine(['20/06/2023T19:29:16', '2024-12-06']);
    const badTime = () => toLine(['20/06/2023T19:29:61', '2024-12-06']);
    const badDate = () => toLine(['20/06/2023T19:29:16', '2024-12-32']);
    // Assess
    expect(badTime).toThrow(MalformedCsvError);
    expect(badTime).toThrow(/field "date" must be a UTC time .*"20\/06\/2023T19:29:61"/);
    expect(badDate).toThrow(/field "account.expiry" must be a date YYYY-MM-DD or empty; received "2024-12-32"/);
    expect(toLine(['20/06/2023T19:29:16', '2024-12-06'])).toBe(good);
    expect(JSON.parse(good)).toMatchObject({ event_time: '2023-06-20 19:29:16.000', account_expiry: '2024-12-06' });
  });
});
