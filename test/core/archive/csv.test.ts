import { describe, expect, it } from 'vitest';
import { CsvRecordReader } from '../../../lambdas/core/archive/csv.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';
import { openathensCsv } from '../../support/archive-fixtures.ts';

function parse(chunks: readonly Buffer[], maxRecordChars?: number) {
  const records: Record<string, string>[] = [];
  const reader = new CsvRecordReader({ what: 'test.csv', onRecord: (raw) => records.push(raw), maxRecordChars });
  for (const chunk of chunks) reader.write(chunk);
  reader.end();
  return { records, reader };
}

/** Every way of cutting `bytes` into two pieces, plus one-byte pieces. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], Array.from(bytes, (byte) => Buffer.from([byte]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

const EXPECTED = [
  { id: '1', name: 'Smith, Jane', note: 'said "hi"' },
  { id: '2', name: 'Ōsaka 🎉', note: 'two\nlines' },
  { id: '3', name: '', note: '' },
];

describe('CsvRecordReader', () => {
  it.each([
    ['CRLF with BOM', '\uFEFFid,name,note\r\n1,"Smith, Jane","said ""hi"""\r\n2,Ōsaka 🎉,"two\nlines"\r\n3,,""\r\n'],
    ['LF', 'id,name,note\n1,"Smith, Jane","said ""hi"""\n2,Ōsaka 🎉,"two\nlines"\n3,,""\n'],
    ['CR', 'id,name,note\r1,"Smith, Jane","said ""hi"""\r2,Ōsaka 🎉,"two\nlines"\r3,,""\r'],
    ['no final line break', 'id,name,note\n1,"Smith, Jane","said ""hi"""\n2,Ōsaka 🎉,"two\nlines"\n3,,""'],
  ])('parses %s identically however the bytes are chunked', (_label, text) => {
    for (const chunks of splits(Buffer.from(text))) {
      expect(parse(chunks).records).toEqual(EXPECTED);
    }
  });

  it('keeps CRLF inside a quoted field of a CRLF file', () => {
    const { records } = parse([Buffer.from('a,b\r\n"x\r\ny",z\r\n')]);
    expect(records).toEqual([{ a: 'x\r\ny', b: 'z' }]);
  });

  it('skips blank lines and counts them', () => {
    const { records, reader } = parse([Buffer.from('a,b\r\n1,2\r\n\r\n3,4\r\n\r\n')]);
    expect(records).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(reader.blankLines).toBe(2);
  });

  it('counts lines inside quoted fields when naming a bad record', () => {
    const text = 'a,b\n"1\n2\n3",x\n4,5,6\n';
    expect(() => parse([Buffer.from(text)])).toThrow(/record 2 \(line 5\) has 3 fields; the header has 2/);
  });

  it('rejects a quote followed by text', () => {
    expect(() => parse([Buffer.from('a,b\n"x"y,z\n')])).toThrow(MalformedCsvError);
  });

  it('rejects mixed line endings rather than keeping a stray carriage return', () => {
    expect(() => parse([Buffer.from('a,b\n1,2\r\n')])).toThrow(/mixed line endings/);
  });

  it('stops an unterminated quote at the record size limit instead of buffering the file', () => {
    const text = `a,b\n1,"${'x'.repeat(5000)}\n`;
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.from(text.slice(i * 600, (i + 1) * 600)));
    expect(() => parse(chunks, 1000)).toThrow(/longer than 1000 characters/);
  });

  it('rejects a file with no header row', () => {
    expect(() => parse([Buffer.from('\n\n')])).toThrow(/no header row/);
  });

  it('rejects a multi-byte character cut off at the end', () => {
    expect(() => parse([Buffer.from('a,b\n1,'), Buffer.from([0xe2, 0x82])])).toThrow(/UTF-8/);
  });
});

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

const TRICKY = '\uFEFFid,name,note\r\n1,"Smith, Jane","said ""hi"""\r\n\r\n2,Ōsaka 🎉,"two\nlines"\r\n3,,""\r\n';

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
