import { describe, expect, it } from 'vitest';
import { CsvRecordReader } from '../../../lambdas/core/archive/csv.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';

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
