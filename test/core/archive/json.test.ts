import { describe, expect, it } from 'vitest';
import { JsonRecordReader, quoteUnsafeIntegers } from '../../../lambdas/core/archive/json.ts';
import { MalformedJsonError } from '../../../lambdas/core/errors.ts';

function parse(chunks: readonly Buffer[]) {
  const records: unknown[] = [];
  const reader = new JsonRecordReader({ what: 'test.json', onRecord: (raw) => records.push(raw) });
  for (const chunk of chunks) reader.write(chunk);
  reader.end();
  return { records, reader };
}

function chunked(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

// Strings holding every character the scanner cares about.
const TRICKY = [
  { id: 'a', note: 'braces {}[] and "quotes" and \\ backslash \\"', nested: { list: [1, [2, { x: '}' }]] } },
  { id: 'b', note: 'ünïcödé 🎉 \u2028', empty: '', n: -1.5e3, t: true, f: false, z: null },
];

describe('JsonRecordReader', () => {
  it.each([
    ['array', 'array', `\uFEFF${JSON.stringify(TRICKY, null, 1)}`],
    ['NDJSON', 'ndjson', `${TRICKY.map((r) => JSON.stringify(r)).join('\n')}\n`],
    ['wrapper', 'wrapper', JSON.stringify({ total: 2, items: TRICKY })],
  ])('parses %s identically however the bytes are chunked', (_label, shape, text) => {
    const bytes = Buffer.from(text);
    for (let size = 1; size <= bytes.length; size++) {
      const { records, reader } = parse(chunked(bytes, size));
      expect(records).toEqual(TRICKY);
      expect(reader.shape).toBe(shape);
    }
  });

  it('streams a wrapper object larger than the detection window', () => {
    // Prepare: > 1 MiB, so the records are scanned as they arrive
    const records = Array.from({ length: 3_000 }, (_, i) => ({ ...TRICKY[i % 2], i, pad: '[{"x"}]'.repeat(40) }));
    const text = JSON.stringify({ meta: { page: [1, 2] }, count: 3_000, data: records, done: true });
    expect(text.length).toBeGreaterThan(1024 * 1024);
    // Act / Assess
    for (const size of [4093, 65_536]) {
      const result = parse(chunked(Buffer.from(text), size));
      expect(JSON.stringify(result.records)).toBe(JSON.stringify(records));
      expect(result.reader.shape).toBe('wrapper');
      expect(result.reader.recordsProperty).toBe('data');
    }
  });

  it('takes a small object without array properties as one record', () => {
    expect(parse([Buffer.from('{"id":"x","tags":{"a":1}}')]).records).toEqual([{ id: 'x', tags: { a: 1 } }]);
  });

  it('reads an empty array and an empty wrapper as zero records', () => {
    expect(parse([Buffer.from(' [ ] ')]).records).toEqual([]);
    expect(parse([Buffer.from('{"entries": []}')]).records).toEqual([]);
  });

  it.each([
    ['a scalar document', '42', /expected "\[" or "\{"/],
    ['a trailing comma', '[{"a":1},]', /record 2 is/],
    ['text after the array', '[{"a":1}] x', /after the end/],
    ['an array in NDJSON', '{"a":1}\n{"b":2}\n[1]\n', /expected an object on each line/],
    ['a wrapper with non-object records', '{"entries": [1, 2]}', /record 1 is a number/],
  ])('rejects %s', (_label, text, message) => {
    expect(() => parse([Buffer.from(text)])).toThrow(MalformedJsonError);
    expect(() => parse([Buffer.from(text)])).toThrow(message);
  });

  it('rejects a second array property in a streamed wrapper', () => {
    const big = JSON.stringify({ a: Array.from({ length: 150_000 }, (_, i) => ({ i })), b: [] });
    expect(() => parse(chunked(Buffer.from(big), 65_536))).toThrow(/a second array property \("b"\)/);
  });

  it('does not echo record contents in parse errors', () => {
    expect(() => parse([Buffer.from('[{"password": "hunter2", "x": }]')])).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  describe('quoteUnsafeIntegers', () => {
    it.each([
      ['{"a":12345678901234567891}', '{"a":"12345678901234567891"}'],
      ['[-9007199254740993, 9007199254740991]', '["-9007199254740993", 9007199254740991]'],
      [
        '{"s":"12345678901234567891","t":"a\\"12345678901234567891"}',
        '{"s":"12345678901234567891","t":"a\\"12345678901234567891"}',
      ],
      // a true fraction is a double's to round; an integer in exponent form is an integer
      ['{"f":1234567890123456789.5,"e":12345678901234567e3}', '{"f":1234567890123456789.5,"e":"12345678901234567e3"}'],
      [
        '{"g":1234567890123456789.0,"h":123456789012345678900e-2}',
        '{"g":"1234567890123456789.0","h":"123456789012345678900e-2"}',
      ],
      [
        '{"big":1E400,"small":-1e999,"fine":[1.5e-300,1200e-2,-0]}',
        '{"big":"1E400","small":"-1e999","fine":[1.5e-300,1200e-2,-0]}',
      ],
      ['{"k":[1,22,333]}', '{"k":[1,22,333]}'],
    ])('%s', (text, expected) => {
      expect(quoteUnsafeIntegers(text)).toBe(expected);
      expect(() => JSON.parse(quoteUnsafeIntegers(text))).not.toThrow();
    });
  });
});
