/**
 * Streaming JSON to records. Accepted shapes:
 *   - an array of objects: `[{...}, {...}]`
 *   - NDJSON / concatenated objects: `{...}\n{...}`
 *   - an object whose single array property holds the records: `{"entries": [{...}], "count": 2}`
 *     (other properties must not be arrays). A small file that is a single object with no array
 *     property is one record (a one-line NDJSON file).
 *
 * 1. The shape is decided on the first MiB: NDJSON when the first object ends there and another
 *    value follows.
 * 2. A byte-level scanner finds where each record starts and ends (strings and nesting tracked);
 *    each record's bytes are handed to `JSON.parse`, so memory holds one record at a time.
 * 3. Structure around the records (commas, keys, other properties) is checked by the scanner;
 *    anything else is a `MalformedJsonError` naming the record number and byte offset.
 * 4. A record nested deeper than `MAX_JSON_DEPTH` is refused by name: `JSON.parse` copes, but
 *    everything after it that walks the value recursively (`JSON.stringify` among them) would die
 *    with a bare `RangeError`. Integers past 2^53 (exponent form included) and numbers past the
 *    double range reach the report's `toRecord` as strings of their text, so they are never
 *    silently rounded or turned into null (see `quoteUnsafeIntegers`).
 */
import { MalformedJsonError } from '../errors.ts';
import { InvalidUtf8Error, Utf8Decoder } from './utf8.ts';

export const MAX_JSON_RECORD_BYTES = 16 * 1024 * 1024;
/** Vendor records nest a handful of levels; far deeper is hostile or broken. */
export const MAX_JSON_DEPTH = 64;
const DETECT_BYTES = 1024 * 1024;

export type JsonShape = 'array' | 'ndjson' | 'wrapper' | 'object';

export interface JsonReaderOptions {
  readonly what: string;
  readonly onRecord: (raw: Record<string, unknown>) => void;
  readonly maxRecordBytes?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

type Purpose = 'record' | 'key' | 'skip';

/** Where the scanner is, outside of a captured value. */
type Expect =
  | 'start' // before the top-level value
  | 'ndjson' // between NDJSON values
  | 'records-first' // after `[` of the records array: a record or `]`
  | 'records-next' // after a record: `,` or `]`
  | 'records-value' // after `,`: a record
  | 'member-first' // after the wrapper's `{`: a key or `}`
  | 'member-next' // after a member: `,` or `}`
  | 'member-key' // after `,`: a key
  | 'member-colon'
  | 'member-value'
  | 'end'; // after the top-level value: whitespace only

export class JsonRecordReader {
  records = 0;
  shape?: JsonShape;
  /** name of the wrapper's array property */
  recordsProperty?: string;
  private readonly decoder = new Utf8Decoder();
  private readonly maxRecordBytes: number;
  private head: Buffer[] = [];
  private headBytes = 0;
  private nextDetectAt = 1;
  private expect: Expect = 'start';
  /** bytes scanned before the current chunk, for error offsets */
  private offset = 0;
  private bomChecked = false;
  // the value being captured
  private capturing?: Purpose;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;
  private key?: string;

  constructor(private readonly options: JsonReaderOptions) {
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_JSON_RECORD_BYTES;
  }

  write(chunk: Buffer): void {
    this.validate(chunk);
    if (this.shape) {
      this.scan(chunk);
      return;
    }
    this.head.push(Buffer.from(chunk)); // the caller may reuse `chunk` once this returns
    this.headBytes += chunk.length;
    // Re-examine the head only when it doubled: many small chunks must not make this quadratic.
    if (this.headBytes >= this.nextDetectAt) {
      this.nextDetectAt = this.headBytes * 2;
      this.detect(false);
    }
  }

  end(): void {
    try {
      this.decoder.end();
    } catch (error) {
      throw this.utf8Error(error);
    }
    if (!this.shape) this.detect(true);
    if (this.shape === 'object') return;
    if (this.capturing || (this.expect !== 'end' && this.expect !== 'ndjson')) {
      throw new MalformedJsonError(
        `${this.options.what} ends in the middle of its JSON (after record ${this.records})`,
      );
    }
    if (this.shape === 'wrapper' && this.recordsProperty === undefined) {
      throw new MalformedJsonError(`${this.options.what} is one large object without an array property of records`);
    }
  }

  private validate(chunk: Buffer): void {
    try {
      this.decoder.check(chunk);
    } catch (error) {
      throw this.utf8Error(error);
    }
  }

  private utf8Error(error: unknown): unknown {
    if (error instanceof InvalidUtf8Error) {
      return new MalformedJsonError(`${this.options.what} is not valid UTF-8 (${error.message})`);
    }
    return error;
  }

  private detect(final: boolean): void {
    const buf = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [buf];
    const bom = [0xef, 0xbb, 0xbf];
    if (!final && buf.length < 3 && buf.every((byte, i) => byte === bom[i])) return; // maybe a BOM cut short
    let i = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    while (i < buf.length && isSpace(buf[i]!)) i++;
    if (i === buf.length) {
      if (!final) {
        this.checkHeadSize();
        return;
      }
      throw new MalformedJsonError(`${this.options.what} holds no JSON value`);
    }
    const first = buf[i]!;
    let shape: JsonShape;
    if (first === OPEN_BRACKET) {
      shape = 'array';
    } else if (first !== OPEN_BRACE) {
      throw this.malformed(`expected "[" or "{" at the start, found ${describeByte(first)}`, i);
    } else {
      const end = endOfValue(buf, i);
      if (end === -1) {
        if (final) throw new MalformedJsonError(`${this.options.what} ends in the middle of its first object`);
        if (this.headBytes < DETECT_BYTES) return;
        shape = 'wrapper';
      } else {
        let next = end;
        while (next < buf.length && isSpace(buf[next]!)) next++;
        if (next < buf.length) {
          if (buf[next] !== OPEN_BRACE) {
            throw this.malformed(`expected a new line with the next object, found ${describeByte(buf[next]!)}`, next);
          }
          shape = 'ndjson';
        } else if (final) {
          shape = 'object';
        } else {
          this.checkHeadSize();
          return;
        }
      }
    }
    this.shape = shape;
    this.head = [];
    if (shape === 'object') {
      this.singleObject(buf);
      return;
    }
    this.scan(buf);
  }

  private checkHeadSize(): void {
    if (this.headBytes > this.maxRecordBytes) {
      throw new MalformedJsonError(`${this.options.what}: the first value is longer than ${this.maxRecordBytes} bytes`);
    }
  }

  /** A small file holding one object: unwrap its array property, or take it as the one record. */
  private singleObject(buf: Buffer): void {
    if (deepestNesting(buf) > MAX_JSON_DEPTH) throw this.tooDeep();
    const value = this.parse(buf.toString('utf8').replace(/^\uFEFF/, ''), 0) as Record<string, unknown>;
    const arrays = Object.keys(value).filter((key) => Array.isArray(value[key]));
    if (arrays.length > 1) {
      throw new MalformedJsonError(
        `${this.options.what} has ${arrays.length} array properties (${arrays.map((k) => JSON.stringify(k)).join(', ')}); expected one holding the records`,
      );
    }
    this.expect = 'end';
    if (arrays.length === 0) {
      this.emit(value);
      return;
    }
    this.shape = 'wrapper';
    this.recordsProperty = arrays[0]!;
    for (const record of value[this.recordsProperty] as unknown[]) this.emit(record);
  }

  private scan(buf: Buffer): void {
    const len = buf.length;
    let i = 0;
    if (!this.bomChecked) {
      this.bomChecked = true;
      if (len >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
    }
    while (i < len) {
      if (this.capturing) {
        const start = i;
        i = this.scalar ? this.scanScalar(buf, i) : this.scanValue(buf, i);
        if (i === -1) {
          this.addPiece(Buffer.from(buf.subarray(start))); // kept past this write: copied
          break;
        }
        this.addPiece(buf.subarray(start, i));
        this.finishCapture();
        continue;
      }
      const c = buf[i]!;
      if (isSpace(c)) {
        i++;
        continue;
      }
      this.structural(c, this.offset + i);
      if (!this.capturing) i++;
    }
    this.offset += len;
  }

  /** One structural byte outside captured values. May start a capture (then the byte is not consumed). */
  private structural(c: number, at: number): void {
    switch (this.expect) {
      case 'start':
        if (this.shape === 'array' && c === OPEN_BRACKET) this.expect = 'records-first';
        else if (this.shape === 'wrapper' && c === OPEN_BRACE) this.expect = 'member-first';
        else if (this.shape === 'ndjson' && c === OPEN_BRACE) this.startCapture('record', c);
        else throw this.malformed(`unexpected ${describeByte(c)} at the start`, at);
        return;
      case 'ndjson':
        if (c === OPEN_BRACE) {
          this.startCapture('record', c);
          return;
        }
        throw this.malformed(`expected an object on each line, found ${describeByte(c)}`, at);
      case 'records-first':
        if (c === CLOSE_BRACKET) {
          this.closeRecords();
          return;
        }
        {
          this.startRecord(c, at);
          return;
        }
      case 'records-value': {
        this.startRecord(c, at);
        return;
      }
      case 'records-next':
        if (c === COMMA) this.expect = 'records-value';
        else if (c === CLOSE_BRACKET) this.closeRecords();
        else throw this.malformed(`expected "," or "]" after record ${this.records}, found ${describeByte(c)}`, at);
        return;
      case 'member-first':
        if (c === CLOSE_BRACE) this.expect = 'end';
        else if (c === QUOTE) this.startCapture('key', c);
        else throw this.malformed(`expected a property name, found ${describeByte(c)}`, at);
        return;
      case 'member-key':
        if (c === QUOTE) {
          this.startCapture('key', c);
          return;
        }
        throw this.malformed(`expected a property name, found ${describeByte(c)}`, at);
      case 'member-colon':
        if (c === COLON) this.expect = 'member-value';
        else throw this.malformed(`expected ":" after a property name, found ${describeByte(c)}`, at);
        return;
      case 'member-value':
        if (c === OPEN_BRACKET) {
          if (this.recordsProperty !== undefined) {
            throw this.malformed(
              `a second array property (${JSON.stringify(this.key)}) after ${JSON.stringify(this.recordsProperty)}; expected one array of records`,
              at,
            );
          }
          this.recordsProperty = this.key ?? '';
          this.expect = 'records-first';
          return;
        }
        {
          this.startCapture('skip', c);
          return;
        }
      case 'member-next':
        if (c === COMMA) this.expect = 'member-key';
        else if (c === CLOSE_BRACE) this.expect = 'end';
        else throw this.malformed(`expected "," or "}" after a property, found ${describeByte(c)}`, at);
        return;
      case 'end':
        throw this.malformed(`unexpected ${describeByte(c)} after the end of the JSON value`, at);
    }
  }

  private startRecord(c: number, at: number): void {
    if (c !== OPEN_BRACE) {
      throw this.malformed(`record ${this.records + 1} is ${describeValue(c)}; expected an object`, at);
    }
    this.startCapture('record', c);
  }

  private closeRecords(): void {
    this.expect = this.shape === 'wrapper' ? 'member-next' : 'end';
  }

  private startCapture(purpose: Purpose, first: number): void {
    this.capturing = purpose;
    this.pieces = [];
    this.pieceBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scalar = first !== OPEN_BRACE && first !== OPEN_BRACKET && first !== QUOTE;
  }

  /** Scans an object, array or string from `i`; returns the index after its end, or -1. */
  private scanValue(buf: Buffer, i: number): number {
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    const len = buf.length;
    for (; i < len; i++) {
      const c = buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (depth === 0) return i + 1;
        }
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > MAX_JSON_DEPTH) throw this.tooDeep();
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) return i + 1;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return -1;
  }

  /** Scans a number, `true`, `false` or `null`; ends before the delimiter that follows it. */
  private scanScalar(buf: Buffer, i: number): number {
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) return i;
    }
    return -1;
  }

  private addPiece(piece: Buffer): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.pieceBytes += piece.length;
    if (this.pieceBytes > this.maxRecordBytes) {
      throw new MalformedJsonError(
        `${this.options.what}: record ${this.records + 1} is longer than ${this.maxRecordBytes} bytes (or a string is not closed)`,
      );
    }
  }

  private finishCapture(): void {
    const purpose = this.capturing!;
    const bytes = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pieceBytes);
    this.capturing = undefined;
    this.pieces = [];
    const value = this.parse(bytes.toString('utf8'), bytes.length);
    if (purpose === 'record') {
      this.emit(value);
      this.expect = this.shape === 'ndjson' ? 'ndjson' : 'records-next';
    } else if (purpose === 'key') {
      this.key = value as string;
      this.expect = 'member-colon';
    } else {
      this.expect = 'member-next';
    }
  }

  private tooDeep(): MalformedJsonError {
    return new MalformedJsonError(
      `${this.options.what}: record ${this.records + 1} nests deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }

  private parse(text: string, length: number): unknown {
    try {
      // a long run of digits or an exponent may be a number a double cannot hold: look closer
      return JSON.parse(LONG_DIGITS.test(text) ? quoteUnsafeIntegers(text) : text);
    } catch (error) {
      const detail = error instanceof Error ? error.message.replace(/"[^"]*"/g, '…') : '';
      throw new MalformedJsonError(
        `${this.options.what}: record ${this.records + 1} (${length} bytes) is not valid JSON: ${detail}`,
      );
    }
  }

  private emit(value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new MalformedJsonError(
        `${this.options.what}: record ${this.records + 1} is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}; expected an object`,
      );
    }
    this.records++;
    this.options.onRecord(value as Record<string, unknown>);
  }

  private malformed(message: string, at: number): MalformedJsonError {
    return new MalformedJsonError(`${this.options.what}: ${message} (byte ${at})`);
  }
}

/** 16 digits in a row (maybe an integer past 2^53), or an exponent (maybe past the double range) */
const LONG_DIGITS = /\d{16}|\d[eE]/;
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

/**
 * Rewrites number literals that a double cannot hold as JSON strings of the same text: integers
 * past 2^53, in plain or exponent form (`12345678901234567e3`, `1234567890123456789.0`), and
 * numbers past the double range (`1E400`, which `JSON.parse` makes Infinity and `JSON.stringify`
 * then writes as null). Strings, true fractions and safe integers are left as they are. Only
 * called for text that `LONG_DIGITS` matches, so the common record pays one regex test.
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    NUMBER.lastIndex = i;
    const token = NUMBER.exec(text)?.[0] ?? text[i]!;
    if (NUMBER.lastIndex > i && doubleLosesIt(token)) {
      out += `${text.slice(copied, i)}"${token}"`;
      copied = i + token.length;
    }
    i += token.length - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** True for a number literal past the double range, or an integer a double cannot hold safely. */
function doubleLosesIt(token: string): boolean {
  const value = Number(token);
  if (!Number.isFinite(value)) return true;
  if (Number.isSafeInteger(value)) return false;
  const [, whole = '', fraction = '', exponent = '0'] = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token) ?? [];
  // An integer when the exponent leaves no non-zero digit right of the point.
  const digits = `${whole}${fraction}`.replace(/0+$/, '');
  return digits.length <= whole.length + Number(exponent);
}

/** How deep objects and arrays nest anywhere in `buf` (strings skipped). */
function deepestNesting(buf: Buffer): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  let escaped = false;
  for (const c of buf) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) deepest = Math.max(deepest, ++depth);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

/** End of the JSON value starting at `start` (object, array or string), or -1 if it does not end in `buf`. */
function endOfValue(buf: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function describeValue(c: number): string {
  if (c === QUOTE) return 'a string';
  if (c === OPEN_BRACKET) return 'an array';
  if (c === 0x74 || c === 0x66) return 'a boolean';
  if (c === 0x6e) return 'null';
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
  return describeByte(c);
}
