/**
 * The raw limit: the same compressed bytes, already in memory, inflated by node:zlib with
 * 256 KiB output chunks into a null sink. No HTTP, no disk, no hashing, no checks.
 *
 * - deflate zip: the entry's raw deflate data (read with yauzl, untimed), `inflateRaw`.
 * - gzip: the whole file, `gunzip` (which also checks the gzip CRC-32, as it always does).
 * - AES zip: the entry's encrypted data, decrypted with AES-CTR on node:crypto (`winzip-aes.ts`,
 *   HMAC checked) and inflated: the best a node:crypto decryptor could do.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import type { Task } from '../common.ts';
import type { Prepared } from '../worker.ts';
import { CountingSink } from './sink.ts';
import { decryptWinZipAes } from './winzip-aes.ts';

const OUTPUT_CHUNK = 256 * 1024;
/** slices fed to the inflater (the size of a typical read from a file or socket, and then some) */
const INPUT_SLICE = 1024 * 1024;
const AES_EXTRA_FIELD = 0x9901;

export async function prepareRaw(task: Extract<Task, { kind: 'raw' }>): Promise<Prepared> {
  if (task.format === 'gzip') {
    const data = await readFile(task.file);
    return () => inflate(slices(data), createGunzip({ chunkSize: OUTPUT_CHUNK }), data.length);
  }
  const { data, strength } = await readSingleEntry(task.file);
  if (task.format === 'deflate') {
    return () => inflate(slices(data), createInflateRaw({ chunkSize: OUTPUT_CHUNK }), data.length);
  }
  if (strength === undefined) throw new Error(`${task.file}: expected an AES-encrypted entry`);
  if (!task.password) throw new Error('the AES raw limit needs the password');
  const password = task.password;
  return () =>
    inflate(
      decryptWinZipAes({ strength, data }, password, INPUT_SLICE),
      createInflateRaw({ chunkSize: OUTPUT_CHUNK }),
      data.length,
    );
}

function* slices(data: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += INPUT_SLICE) {
    yield data.subarray(offset, Math.min(offset + INPUT_SLICE, data.length));
  }
}

async function inflate(input: Iterable<Buffer>, inflater: NodeJS.ReadWriteStream, compressedBytes: number) {
  const sink = new CountingSink();
  await pipeline(Readable.from(input, { objectMode: false, highWaterMark: 2 * INPUT_SLICE }), inflater, sink);
  return { bytes: sink.bytes, detail: { compressedBytes } };
}

/** The raw data of the zip's only entry, and its AES strength if encrypted. */
async function readSingleEntry(path: string): Promise<{ data: Buffer; strength?: 1 | 2 | 3 }> {
  const zipfile = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  try {
    const entries: yauzl.Entry[] = [];
    for await (const entry of zipfile.eachEntry()) entries.push(entry);
    if (entries.length !== 1) throw new Error(`${path}: expected one entry; found ${entries.length}`);
    const entry = entries[0]!;
    const aes = entry.extraFields.find((field) => field.id === AES_EXTRA_FIELD);
    const strength = aes ? (aes.data.readUInt8(4) as 1 | 2 | 3) : undefined;
    if (!aes && entry.compressionMethod !== 8) throw new Error(`${path}: expected a deflated entry`);
    if (aes && aes.data.readUInt16LE(5) !== 8) throw new Error(`${path}: expected a deflated AES entry`);
    const stream = await zipfile.openReadStreamPromise(entry, { decodeFileData: false });
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    const data = Buffer.concat(chunks);
    if (data.length !== entry.compressedSize) {
      throw new Error(`${path}: read ${data.length} bytes of entry data; expected ${entry.compressedSize}`);
    }
    return strength === undefined ? { data } : { data, strength };
  } finally {
    zipfile.close();
  }
}
