/**
 * Format detection from the first bytes. Content-Type headers and file names are never trusted:
 * vendors serve error pages with status 200 and zips as `application/octet-stream`.
 */
import { isUtf8 } from 'node:buffer';
import { UnsupportedFormatError } from '../errors.ts';
import { utf8CompleteLength } from './utf8.ts';

export type FileFormat = 'zip' | 'gzip' | 'csv' | 'json';
export type TextFormat = 'csv' | 'json';

/** Bytes looked at to decide a format. */
export const SNIFF_BYTES = 4096;

const EXPECTED = 'expected zip, gzip, CSV or JSON';

const BINARY_SIGNATURES: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a 7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
  ['a RAR archive', [0x52, 0x61, 0x72, 0x21]],
  ['a bzip2 stream', [0x42, 0x5a, 0x68]],
  ['an xz stream', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['a zstd stream', [0x28, 0xb5, 0x2f, 0xfd]],
  ['an OLE document (legacy .xls)', [0xd0, 0xcf, 0x11, 0xe0]],
  ['UTF-16 text (expected UTF-8)', [0xff, 0xfe]],
  ['UTF-16 text (expected UTF-8)', [0xfe, 0xff]],
];

function startsWith(head: Buffer, signature: readonly number[]): boolean {
  return head.length >= signature.length && signature.every((byte, i) => head[i] === byte);
}

/**
 * Decides the format of a downloaded file, or of a file inside a container when
 * `allowContainers` is false (nested archives are not supported).
 */
export function sniffFormat(bytes: Buffer, what: string, allowContainers = true): FileFormat {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.length === 0) throw new UnsupportedFormatError(`${what} is empty; ${EXPECTED}`);
  const zip = startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]);
  const gzip = startsWith(head, [0x1f, 0x8b, 0x08]);
  if (zip || gzip) {
    const format = zip ? 'zip' : 'gzip';
    if (!allowContainers) {
      throw new UnsupportedFormatError(`${what} is itself a ${format} archive; nested archives are not supported`);
    }
    return format;
  }
  for (const [name, signature] of BINARY_SIGNATURES) {
    if (startsWith(head, signature)) throw new UnsupportedFormatError(`${what} looks like ${name}; ${EXPECTED}`);
  }
  return sniffText(head, what);
}

function sniffText(head: Buffer, what: string): TextFormat {
  let start = startsWith(head, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  const body = head.subarray(start, utf8CompleteLength(head));
  if (body.includes(0) || !isUtf8(body) || countControlBytes(body) > Math.max(2, body.length / 200)) {
    throw new UnsupportedFormatError(`${what} looks like binary data, not UTF-8 text; ${EXPECTED}`);
  }
  while (start < head.length && isSpace(head[start]!)) start++;
  if (start === head.length) throw new UnsupportedFormatError(`${what} holds only whitespace; ${EXPECTED}`);
  const first = head[start]!;
  if (first === 0x3c /* < */) {
    const text = head.subarray(start, start + 512).toString('utf8');
    if (/^<\?xml/i.test(text) && !/<html/i.test(text)) {
      throw new UnsupportedFormatError(`${what} looks like an XML document, not a report; ${EXPECTED}`);
    }
    throw new UnsupportedFormatError(
      `${what} looks like an HTML page (often an error or sign-in page served with status 200), not a report; ${EXPECTED}`,
    );
  }
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) return 'json';
  return 'csv';
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Control bytes other than tab, line feed, carriage return and form feed: text files have none. */
function countControlBytes(body: Buffer): number {
  let count = 0;
  for (const byte of body) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) || byte === 0x7f) count++;
  }
  return count;
}
