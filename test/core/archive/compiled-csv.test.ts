/**
 * The CSV fast path (`ReportDefinition.compileCsv`) through the core: the reader hands field
 * arrays to the compiled mapper, the writer takes ready JSON lines, and the archive is the same,
 * byte for byte and error for error, as through `toRecord`.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawStatisticsReport } from '../../../lambdas/connectors/openathens/records.ts';
import { CsvRecordReader } from '../../../lambdas/core/archive/csv.ts';
import { archiveReport } from '../../../lambdas/core/archive/index.ts';
import { JsonlUpload } from '../../../lambdas/core/archive/jsonl-writer.ts';
import { PartBuffers } from '../../../lambdas/core/archive/s3-upload.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';
import { dataKey } from '../../../lambdas/core/layout.ts';
import type { ReportDefinition } from '../../../lambdas/core/types.ts';
import { generateReport, toCsv } from '../../../simulators/openathens/data.ts';
import {
  archiveDeps,
  archiveInput,
  BUCKET,
  capturedLogger,
  httpSource,
  type LocalS3,
  newRequest,
  startLocalS3,
  USERS_REPORT,
  useArchiveTestBed,
} from '../../support/archive-fixtures.ts';

type Mode = 'objects' | 'fields';

/** Parses with the reader; in `fields` mode through `onHeader`, turning each row into the object `onRecord` would get. */
function read(mode: Mode, chunks: readonly Buffer[]) {
  const records: Record<string, string>[] = [];
  const headers: (readonly string[])[] = [];
  const reader = new CsvRecordReader({
    what: 'test.csv',
    onRecord: (raw) => {
      if (mode === 'fields') throw new Error('onRecord called although onHeader took the rows');
      records.push(raw);
    },
    onHeader:
      mode === 'fields'
        ? (header) => {
            headers.push([...header]);
            return (fields) => {
              expect(fields).toHaveLength(header.length);
              records.push(Object.fromEntries(header.map((name, i) => [name, fields[i]!])));
            };
          }
        : undefined,
  });
  for (const chunk of chunks) reader.write(chunk);
  reader.end();
  return { records, headers, reader };
}

function failure(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** Every way of cutting `bytes` into two pieces, plus one-byte pieces. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], Array.from(bytes, (byte) => Buffer.from([byte]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

const TRICKY = '\uFEFFid,name,note\r\n1,"Smith, Jane","said ""hi"""\r\n\r\n2,Ōsaka 🎉,"two\nlines"\r\n3,,""\r\n';

/** The bench's CSV shape, small: quoted commas and quotes, line breaks in fields, non-ASCII, attribute and extra columns. */
function openathensCsv(rows: number, options: { bom?: boolean; lineEnding?: '\r\n' | '\n' } = {}): string {
  const report = generateReport({
    seed: 3,
    apiName: 'example.org',
    organisationId: '123456',
    date: '2023-06-20',
    rows,
    attributes: ['department', 'eduPersonAffiliation'],
    extraColumns: ['request.referrer'],
  });
  return toCsv(report, { bom: options.bom ?? true, lineEnding: options.lineEnding ?? '\r\n' });
}

describe('CsvRecordReader with onHeader', () => {
  it('hands over the same rows as field arrays, however the bytes are chunked', () => {
    // Prepare
    const expected = read('objects', [Buffer.from(TRICKY)]);
    for (const chunks of splits(Buffer.from(TRICKY))) {
      // Act
      const { records, headers, reader } = read('fields', chunks);
      // Assess
      expect(records).toEqual(expected.records);
      expect(headers).toEqual([['id', 'name', 'note']]);
      expect(reader.records).toBe(3);
      expect(reader.blankLines).toBe(1);
    }
  });

  it('reads one large write (decoded in pieces) as it reads the same bytes in small writes', () => {
    // Prepare: over 1 MiB in one write, so multi-byte characters and quoted line breaks fall on
    // the reader's piece boundaries
    const bytes = Buffer.from(openathensCsv(4000, { bom: true, lineEnding: '\n' }));
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    const small = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
      bytes.subarray(i * 1000, (i + 1) * 1000),
    );
    const expected = read('objects', small);
    // Act
    const objects = read('objects', [bytes]);
    const fields = read('fields', [bytes]);
    // Assess
    expect(expected.records).toHaveLength(4000);
    expect(objects.records).toEqual(expected.records);
    expect(fields.records).toEqual(expected.records);
  });

  it('falls back to onRecord when onHeader returns nothing', () => {
    // Prepare
    const records: Record<string, string>[] = [];
    const reader = new CsvRecordReader({
      what: 'x.csv',
      onRecord: (raw) => records.push(raw),
      onHeader: () => undefined,
    });
    // Act
    reader.write(Buffer.from('a,b\n1,2\n'));
    reader.end();
    // Assess
    expect(records).toEqual([{ a: '1', b: '2' }]);
  });

  it('calls onHeader for a file with a header and no rows', () => {
    // Act
    const { records, headers, reader } = read('fields', [Buffer.from('a,b\r\n\r\n')]);
    // Assess
    expect(headers).toEqual([['a', 'b']]);
    expect(records).toEqual([]);
    expect(reader.records).toBe(0);
    expect(reader.blankLines).toBe(1);
  });

  it.each([
    ['a row with too many fields', 'a,b\n"1\n2\n3",x\n4,5,6\n', /record 2 \(line 5\) has 3 fields; the header has 2/],
    ['a row with too few fields', 'a,b\r\n1,2\r\n3\r\n', /record 2 \(line 3\) has 1 fields/],
    ['mixed line endings', 'a,b\n1,2\r\n', /line 2 ends with CRLF but the first line ends with LF/],
    ['an unterminated quote', 'a,b\n1,"2\n', /not closed/],
    ['text after a closing quote', 'a,b\n"x"y,z\n', /closing quote is followed/],
    ['a repeated header name', 'a,a\n1,2\n', /repeats the name "a"/],
    ['no header row', '\n\n', /no header row/],
  ])('fails on %s exactly as without it', (_label, text, message) => {
    // Act
    const objects = failure(() => read('objects', [Buffer.from(text)]));
    const fields = failure(() => read('fields', [Buffer.from(text)]));
    // Assess
    expect(fields).toBeInstanceOf(MalformedCsvError);
    expect(fields.message).toMatch(message);
    expect(fields.message).toBe(objects.message);
  });
});

describe('archiveReport with a report that compiles its CSV mapping', () => {
  const generic: ReportDefinition = { ...rawStatisticsReport, compileCsv: undefined };

  const bed = useArchiveTestBed('archive-compiled-');

  async function archive(report: ReportDefinition, fileName: string, body: Buffer | string) {
    bed.vendor.files.set(fileName, { body: Buffer.from(body) });
    const request = newRequest();
    const { logger } = capturedLogger();
    const result = await archiveReport(
      { ...archiveInput(request, [httpSource(bed.vendor, fileName)]), report },
      archiveDeps(bed.s3, bed.tmpDir, logger),
    );
    return { result, data: await bed.s3.getBytes(dataKey(request)) };
  }

  async function archiveError(report: ReportDefinition, fileName: string, body: string): Promise<Error> {
    const before = await bed.s3.keys();
    const error = await archive(report, fileName, body).then(
      () => new Error('expected the archive to fail'),
      (caught: unknown) => caught as Error,
    );
    expect(await bed.s3.keys()).toEqual(before); // nothing published
    expect(await readdir(bed.tmpDir)).toEqual([]);
    return error;
  }

  it('maps CSV rows with compileCsv, once per file, and JSON records with toRecord', async () => {
    // Prepare: a report whose toRecord refuses CSV rows (they come as objects keyed by "id")
    const headers: (readonly string[])[] = [];
    const report: ReportDefinition = {
      ...USERS_REPORT,
      toRecord(raw) {
        if (typeof raw.id === 'string') throw new Error('toRecord called for a CSV row');
        return USERS_REPORT.toRecord({ ...raw, id: String(raw.id) });
      },
      compileCsv(header) {
        headers.push(header);
        const at = header.indexOf('id');
        return (fields) => JSON.stringify({ id: fields[at]!, fields: fields.length });
      },
    };
    // Act
    const csv = await archive(report, 'users.csv', 'id,name\r\nu1,Ann\r\nu2,"Bob, Jr"\r\n');
    const json = await archive(report, 'users.json', '[{"id":1,"name":"Ann"}]');
    // Assess
    expect(headers).toEqual([['id', 'name']]);
    expect(gunzipSync(csv.data).toString('utf8')).toBe('{"id":"u1","fields":2}\n{"id":"u2","fields":2}\n');
    expect(csv.result.rowCount).toBe(2);
    expect(gunzipSync(json.data).toString('utf8')).toBe('{"id":"1","name":"Ann","note":null,"city":null}\n');
  });

  it.each([
    ['plain CSV', 'report.csv', (csv: string) => Buffer.from(csv)],
    ['gzip', 'report.csv.gz', (csv: string) => gzipSync(csv)],
  ])('stores the same data object, byte for byte, as toRecord does (%s)', async (_label, fileName, encode) => {
    // Prepare: several MiB of JSON Lines, so batches are flushed and reused
    const csv = openathensCsv(6000);
    // Act
    const fast = await archive(rawStatisticsReport, fileName, encode(csv));
    const slow = await archive(generic, fileName, encode(csv));
    // Assess
    expect(fast.result.rowCount).toBe(6000);
    expect(fast.result.rowCount).toBe(slow.result.rowCount);
    expect(gunzipSync(fast.data).length).toBeGreaterThan(4 * 1024 * 1024);
    expect(fast.data.equals(slow.data)).toBe(true);
    expect(fast.result.sha256.data).toBe(slow.result.sha256.data);
    expect(fast.result.bytes).toEqual(slow.result.bytes);
  });

  it.each([
    [
      'a bad event time',
      (csv: string) => csv.replace(/\r\n(\d\d\/06\/2023T)/, '\r\n99/06/2023T'),
      /field "date" must be a UTC time/,
    ],
    [
      'a row with a missing field',
      (csv: string) => `${csv}20/06/2023T23:59:59,AUTHENTICATE\r\n`,
      /record 301 \(line \d+\) has 2 fields/,
    ],
  ])('fails with the same error as toRecord on %s, and publishes nothing', async (_label, spoil, message) => {
    // Prepare
    const csv = spoil(openathensCsv(300));
    // Act
    const fast = await archiveError(rawStatisticsReport, 'report.csv', csv);
    const slow = await archiveError(generic, 'report.csv', csv);
    // Assess
    expect(fast).toBeInstanceOf(MalformedCsvError);
    expect(fast.message).toMatch(message);
    expect(fast.message).toBe(slow.message);
  });
});

describe('JsonlUpload', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3();
  });
  afterAll(async () => {
    await s3.close();
  });

  it('stores records and ready lines in order, across many reused batches and a line larger than one', async () => {
    // Prepare
    const key = `data/jsonl-${Date.now()}.jsonl.gz`;
    const writer = new JsonlUpload({ s3: s3.s3, bucket: BUCKET, parts: new PartBuffers(5 * 1024 * 1024) }, key);
    const expected: string[] = [];
    // Act
    for (let i = 0; i < 40_000; i++) {
      const record = { n: i, text: `Ōsaka 🎉 "${i}"\n${'x'.repeat(i % 300)}` };
      const line = JSON.stringify(record);
      if (i % 3 === 0) writer.add(record);
      else writer.addLine(line);
      expected.push(line);
      if (i === 20_000) {
        const huge = JSON.stringify({ huge: 'é'.repeat(1_500_000) });
        writer.addLine(huge);
        expected.push(huge);
      }
      if (i % 500 === 0) await writer.drain();
    }
    const written = await writer.finish();
    // Assess
    const stored = await s3.getBytes(key);
    const text = `${expected.join('\n')}\n`;
    expect(gunzipSync(stored).toString('utf8')).toBe(text);
    expect(written.bytes).toBe(stored.length);
    expect(written.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
  });
});
