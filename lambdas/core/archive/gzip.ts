/**
 * gzip input: node:zlib with 1 MiB chunks (about twice the default's throughput). Multi-member files
 * (concatenated gzip streams) decompress as one; a truncated stream fails with Z_BUF_ERROR.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ByteCounter } from './limits.ts';
import type { OpenedEntry } from './zip.ts';

const CHUNK = 1024 * 1024;

export function gunzip(compressed: Readable): OpenedEntry {
  const counter = new ByteCounter({ highWaterMark: CHUNK });
  const stream = createGunzip({ chunkSize: CHUNK });
  compressed.on('error', (error) => counter.destroy(error));
  counter.on('error', (error) => stream.destroy(error));
  stream.on('close', () => {
    compressed.destroy();
    counter.destroy();
  });
  compressed.pipe(counter).pipe(stream);
  return { stream, compressedBytes: () => counter.bytes };
}
