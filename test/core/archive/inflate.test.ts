import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type InflateOptions, inflate, nativeInflateAvailable } from '../../../lambdas/core/archive/inflate.ts';
import { bulkCsv } from '../../support/archive-fixtures.ts';

/**
 * Feeds `data` in `size`-byte chunks from one buffer that is overwritten for every chunk (as the
 * spool's reader does), and records how far it was read and whether it was let go.
 */
function reusedInput(data: Buffer, size: number) {
  const state = { read: 0, returned: false };
  const buffer = Buffer.alloc(size);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let offset = 0; offset < data.length; offset += size) {
        const n = data.copy(buffer, 0, offset, offset + size);
        state.read = offset + n;
        yield buffer.subarray(0, n);
        buffer.fill(0xee); // the consumer asked for the next chunk: this one is gone
      }
    } finally {
      state.returned = true;
    }
  }
  return { chunks: chunks(), state };
}

/** Reads every chunk, copying it (a chunk is valid only until the next is asked for). */
async function collect(chunks: AsyncIterable<Buffer>): Promise<{ data: Buffer; buffers: Set<ArrayBufferLike> }> {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of chunks) {
    copies.push(Buffer.from(chunk));
    buffers.add(chunk.buffer);
  }
  return { data: Buffer.concat(copies), buffers };
}

describe('inflate', () => {
  it('uses the native zlib handle on this Node version', () => {
    // If this fails, node:zlib's internals changed: inflating still works (the fallback), but
    // allocates a Buffer per chunk again. See inflate.ts.
    expect(nativeInflateAvailable()).toBe(true);
  });

  describe.each([['native'], ['stream']] as const)('with the %s engine', (engine) => {
    const options: InflateOptions = { engine, chunkBytes: 64 };

    it('inflates raw deflate from reused input buffers, in small chunks, exactly', async () => {
      const text = Buffer.from(bulkCsv(400, 7));
      const compressed = deflateRawSync(text);
      const input = reusedInput(compressed, 100);
      const inflated = inflate(input.chunks, 'deflate-raw', options);
      const { data, buffers } = await collect(inflated.chunks);
      expect(data.equals(text)).toBe(true);
      expect(inflated.compressedBytes()).toBe(compressed.length);
      if (engine === 'native') expect(buffers.size).toBeLessThanOrEqual(2);
    });

    it('stops at the end of a deflate stream and reports exactly the bytes it took', async () => {
      const text = Buffer.from(bulkCsv(300, 8));
      const compressed = deflateRawSync(text);
      // a zip's next local header and a lot more after the entry's data
      const zip = Buffer.concat([compressed, Buffer.from('PK\x03\x04'), Buffer.alloc(100_000, 0x41)]);
      const input = reusedInput(zip, 1000);
      const inflated = inflate(input.chunks, 'deflate-raw', options);
      const { data } = await collect(inflated.chunks);
      expect(data.equals(text)).toBe(true);
      expect(inflated.compressedBytes()).toBe(compressed.length);
      expect(input.state.read).toBeLessThan(zip.length / 2);
      expect(input.state.returned).toBe(true);
    });

    it('reads gzip members one after another, also when a member ends on a chunk boundary', async () => {
      const [one, two, three] = [bulkCsv(50, 1), bulkCsv(60, 2), bulkCsv(70, 3)].map((s) => Buffer.from(s));
      const first = gzipSync(one!);
      const file = Buffer.concat([first, gzipSync(two!), gzipSync(three!)]);
      const inflated = inflate(reusedInput(file, first.length).chunks, 'gzip', options);
      const { data } = await collect(inflated.chunks);
      expect(data.equals(Buffer.concat([one!, two!, three!]))).toBe(true);
      expect(inflated.compressedBytes()).toBe(file.length);
    });

    it('fails a truncated stream with Z_BUF_ERROR and a damaged one with Z_DATA_ERROR', async () => {
      const compressed = gzipSync(Buffer.from(bulkCsv(200, 9)));
      const truncated = inflate(
        reusedInput(compressed.subarray(0, compressed.length - 20), 50).chunks,
        'gzip',
        options,
      );
      await expect(collect(truncated.chunks)).rejects.toMatchObject({ code: 'Z_BUF_ERROR' });

      const damaged = Buffer.from(compressed);
      damaged.writeUInt32LE(damaged.readUInt32LE(damaged.length - 8) ^ 1, damaged.length - 8); // its CRC-32
      const bad = inflate(reusedInput(damaged, 50).chunks, 'gzip', options);
      await expect(collect(bad.chunks)).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
    });

    it('lets its input go when the consumer stops early', async () => {
      const compressed = deflateRawSync(Buffer.from(bulkCsv(2000, 4)));
      const input = reusedInput(compressed, 256);
      const inflated = inflate(input.chunks, 'deflate-raw', options);
      let seen = 0;
      for await (const chunk of inflated.chunks) {
        seen += chunk.length;
        if (seen > 1000) break;
      }
      expect(input.state.returned).toBe(true);
      expect(input.state.read).toBeLessThan(compressed.length);
    });

    it('reads its next input while the consumer works, and stops cleanly if the consumer leaves meanwhile', async () => {
      const text = Buffer.from(bulkCsv(2000, 5));
      const compressed = deflateRawSync(text);
      const reads: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      async function* slowInput(): AsyncGenerator<Buffer> {
        yield compressed.subarray(0, 64); // one small chunk, then a read that waits for the gate
        reads.push(Date.now());
        await gate;
        yield compressed.subarray(64);
      }
      const inflated = inflate(slowInput(), 'deflate-raw', options);
      for await (const chunk of inflated.chunks) {
        expect(chunk.length).toBeGreaterThan(0);
        // The first input is used up: the engine that reads ahead is already waiting for more.
        if (engine === 'native') expect(reads).toHaveLength(1);
        setTimeout(release, 10);
        break; // leaves while that read is under way; no write may reach the closed inflater
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      // still alive (a write after close would have aborted the process), and nothing leaked out
      expect(inflated.compressedBytes()).toBeLessThanOrEqual(compressed.length);
    });
  });
});
