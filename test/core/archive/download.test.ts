import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Spool } from '../../../lambdas/core/archive/download.ts';
import { inflate } from '../../../lambdas/core/archive/inflate.ts';
import { SizeLimitError, VendorRequestError, VendorUnavailableError } from '../../../lambdas/core/errors.ts';
import { bulkCsv, capturedLogger, handFedSpool } from '../../support/archive-fixtures.ts';

const MiB = 1024 * 1024;

describe('Spool', () => {
  let tmpDir: string;
  beforeEach(async () => {
    tmpDir = await mkdtemp(join(tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  const handFed = () => handFedSpool(tmpDir, 'report.zip');

  /** Writes `data` in pieces with pauses, so the reader catches up with the download. */
  async function trickle(body: PassThrough, data: Buffer, piece: number): Promise<void> {
    for (let offset = 0; offset < data.length; offset += piece) {
      body.write(data.subarray(offset, offset + piece));
      await sleep(2);
    }
  }

  it('reads the file while the download writes it, reading ahead into two buffers used in turn', async () => {
    const data = randomBytes(3.5 * MiB);
    const { body, spool } = handFed();
    const writing = trickle(body, data, 300 * 1024).then(() => body.end());
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of spool.chunks()) {
      copies.push(Buffer.from(chunk));
      buffers.add(chunk.buffer);
      await sleep(1); // a consumer that works on each chunk while the next is read
    }
    await writing;
    expect(Buffer.concat(copies).equals(data)).toBe(true);
    expect(copies.length).toBeGreaterThan(3);
    expect(buffers.size).toBe(2);
    const done = await spool.done;
    expect(done).toEqual({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });

  it('hands out the rest when the download ends while the reader holds a chunk', async () => {
    // The reader found nothing more on disk when it read ahead; the download then wrote the rest
    // and ended before the reader asked for its next chunk.
    const first = randomBytes(MiB / 2);
    const rest = randomBytes(MiB / 3);
    const { body, spool } = handFed();
    body.write(first);
    const chunks = spool.chunks();
    const held = await chunks.next();
    expect(Buffer.from(held.value as Buffer).equals(first)).toBe(true);
    body.end(rest);
    await spool.done;
    const copies: Buffer[] = [];
    for await (const chunk of chunks) copies.push(Buffer.from(chunk));
    expect(Buffer.concat(copies).equals(rest)).toBe(true);
  });

  it('reads from an offset', async () => {
    const data = randomBytes(2 * MiB + 17);
    const { body, spool } = handFed();
    body.end(data);
    await spool.done;
    const copies: Buffer[] = [];
    for await (const chunk of spool.chunks(MiB + 5)) copies.push(Buffer.from(chunk));
    expect(Buffer.concat(copies).equals(data.subarray(MiB + 5))).toBe(true);
  });

  it('hands out what reached the disk, then the download error', async () => {
    const data = randomBytes(1.5 * MiB);
    const { body, spool } = handFed();
    body.write(data);
    const received: Buffer[] = [];
    const reading = (async () => {
      for await (const chunk of spool.chunks()) {
        received.push(Buffer.from(chunk));
        if (Buffer.concat(received).length === data.length) body.destroy(new Error('socket hang up'));
      }
    })();
    await expect(reading).rejects.toBeInstanceOf(VendorUnavailableError);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    await expect(spool.done).rejects.toThrow(/download of report\.zip failed: socket hang up/);
  });

  it('lets a reader stop early while a read ahead is under way', async () => {
    const data = randomBytes(3 * MiB);
    const { body, spool } = handFed();
    body.end(data);
    await spool.done;
    let first: Buffer | undefined;
    for await (const chunk of spool.chunks()) {
      first = Buffer.from(chunk); // the second chunk is being read now
      break;
    }
    expect(first?.equals(data.subarray(0, MiB))).toBe(true);
    // the file handle was closed: the temp file can go, and a new reader starts afresh
    const again: Buffer[] = [];
    for await (const chunk of spool.chunks()) again.push(Buffer.from(chunk));
    expect(Buffer.concat(again).equals(data)).toBe(true);
  });

  /** `promise`'s outcome, or 'still waiting' after `ms` */
  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, sleep(ms).then(() => 'still waiting' as const)]);

  it('lets a reader go at once when it stops while waiting for the download', async () => {
    const { body, spool } = handFed();
    body.write(randomBytes(1000)); // then the vendor stalls
    const chunks = spool.chunks();
    expect((await chunks.next()).done).toBe(false);
    const waiting = chunks.next(); // nothing more on disk: waits for the download
    expect(await within(chunks.return!(), 1000)).toEqual({ value: undefined, done: true });
    expect(await waiting).toEqual({ value: undefined, done: true });
    body.end();
    await spool.done;
  });

  it.each([['native'], ['stream']] as const)(
    'lets an inflater (%s engine) reading ahead stop at once while the vendor stalls',
    async (engine) => {
      const gz = gzipSync(Buffer.from(bulkCsv(20_000, 1)));
      const { body, spool } = handFed();
      body.write(gz.subarray(0, 100_000)); // then the vendor stalls
      const { chunks } = inflate(spool.chunks(), 'gzip', { engine });
      const stop = (async () => {
        for await (const _chunk of chunks) break; // a consumer that fails on its first chunk
      })();
      expect(
        await within(
          stop.then(() => 'stopped'),
          2000,
        ),
      ).toBe('stopped');
      body.end(gz.subarray(100_000));
      await spool.done;
    },
  );

  it('writes what arrived while both batches were being written, once the vendor pauses', async () => {
    // One chunk larger than both batches: the last of it is copied after waiting for a write.
    const data = Buffer.alloc(64 * MiB + 100, 0x5a);
    const { body, spool } = handFed();
    body.write(data); // then the vendor pauses
    const head = await within(spool.head(data.length), 2000);
    body.end();
    await spool.done;
    expect(head === 'still waiting' ? head : head.length).toBe(data.length);
  });

  it('rejects done when aborted while the last batch is being written', async () => {
    const data = randomBytes(1.5 * MiB);
    for (let i = 0; i < 10; i++) {
      const dir = join(tmpDir, `run-${i}`);
      await mkdir(dir);
      const { body, spool } = handFedSpool(dir, 'report.zip');
      // the body has ended; the spool is writing its last batch
      body.on('end', () => setImmediate(() => spool.abort(new Error('another step failed'))));
      body.end(data);
      await expect(spool.done).rejects.toThrow('another step failed');
    }
  });

  it("keeps credentials and query strings of URLs out of a failed download's error", async () => {
    const source = {
      fileName: 'report.csv',
      role: 'data' as const,
      open: () =>
        Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED for https://user:hunter2@files.example.com/r.csv?sig=abc'), {
            code: 'ECONNREFUSED',
          }),
        ),
    };
    const spool = Spool.start(source, join(tmpDir, 'source-0'), { maxBytes: MiB, logger: capturedLogger().logger });
    const error = await spool.done.then(
      () => undefined,
      (caught: Error) => caught,
    );
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error?.message).toBe(
      'download of report.csv failed (ECONNREFUSED): connect ECONNREFUSED for https://files.example.com/r.csv',
    );
  });

  it('fails for good when a source sends more than its declared Content-Length', async () => {
    // Prepare: a source stream that is not the HTTP client's (which stops at Content-Length)
    const body = new PassThrough();
    const source = { fileName: 'report.csv', role: 'data' as const, open: async () => ({ body, contentLength: 10 }) };
    const spool = Spool.start(source, join(tmpDir, 'source-0'), { maxBytes: MiB, logger: capturedLogger().logger });

    // Act
    body.end(Buffer.from('0123456789ABCDEFGHIJ'));
    const error = await spool.done.then(
      () => undefined,
      (caught: Error) => caught,
    );

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error?.message).toBe(
      'download of report.csv sent more than the 10 bytes its Content-Length declares; the file cannot be trusted to be the whole report',
    );
  });

  it('fails for good, not as a retryable vendor fault, when the temporary storage is full', async () => {
    // Prepare: the first write to any file handle fails as a full disk does
    const probe = await open(join(tmpDir, 'probe'), 'w');
    const handle = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const write = vi.spyOn(handle, 'write').mockRejectedValueOnce(full);
    try {
      // Act
      const { body, spool } = handFed();
      body.end(randomBytes(2 * MiB));
      const error = await spool.done.then(
        () => undefined,
        (caught: Error) => caught,
      );
      // Assess
      expect(error).toBeInstanceOf(SizeLimitError);
      expect(error?.message).toMatch(/report\.zip ran out of temporary storage \(ENOSPC\)/);
    } finally {
      write.mockRestore();
    }
  });
});
