/**
 * gzip input: node:zlib with 1 MiB chunks (about twice the default's throughput). Multi-member files
 * (concatenated gzip streams) decompress as one; a truncated stream fails with Z_BUF_ERROR.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { inflateThrough, type OpenedEntry } from './zip.ts';

const CHUNK = 1024 * 1024;

export function gunzip(compressed: Readable): OpenedEntry {
  return inflateThrough(compressed, createGunzip({ chunkSize: CHUNK }));
}
