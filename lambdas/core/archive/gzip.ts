/**
 * gzip input, inflated by `inflate.ts` (zlib, 1 MiB chunks). Multi-member files (concatenated gzip
 * streams) decompress as one; a truncated stream fails with Z_BUF_ERROR.
 */
import { type InflateOptions, inflate } from './inflate.ts';
import type { OpenedEntry } from './zip.ts';

export function gunzip(compressed: AsyncIterable<Buffer>, options?: InflateOptions): OpenedEntry {
  return inflate(compressed, 'gzip', options);
}
