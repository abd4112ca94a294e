import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spool } from '../../../lambdas/core/archive/download.ts';
import { extractSource } from '../../../lambdas/core/archive/extract.ts';
import { ExtractBudget } from '../../../lambdas/core/archive/limits.ts';
import { bulkCsv, capturedLogger, handFedSpool, rawZip, sha256, zipJs } from '../../support/archive-fixtures.ts';

const LIMITS = { maxDownloadBytes: 1e9, maxExtractedBytes: 1e9, maxCompressionRatio: 100, maxEntries: 10 };
const CENTRAL_SIGNATURE = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

/** Counts and hashes what it receives; `finished` settles when its writer ends it. */
class Collector extends Writable {
  bytes = 0;
  private readonly hash = createHash('sha256');
  readonly finished = new Promise<void>((resolve) => this.once('finish', resolve));
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback();
  }
  get sha256(): string {
    return this.hash.copy().digest('hex');
  }
}

describe('extractSource', () => {
  let tmpDir: string;
  beforeEach(async () => {
    tmpDir = await mkdtemp(join(tmpdir(), 'extract-'));
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  /**
   * Extracts `export.zip` from a download whose body the test writes by hand, into one
   * `Collector` per extracted file.
   */
  function extractHandFed() {
    const { body, spool } = handFedSpool(tmpDir, 'export.zip', LIMITS.maxDownloadBytes);
    const sinks: Collector[] = [];
    const extracting = extractSource(spool, {
      limits: LIMITS,
      budget: new ExtractBudget(LIMITS.maxExtractedBytes),
      logger: capturedLogger().logger,
      createSink: () => {
        const sink = new Collector();
        sinks.push(sink);
        return sink;
      },
    });
    return { body, spool, sinks, extracting };
  }

  it('refuses a plain file that was read short of its download', async () => {
    // A reader that stops early (the bug this guards against ended the file at a chunk boundary)
    const csv = Buffer.from(bulkCsv(100, 1));
    const shortReader = {
      source: { fileName: 'users.csv', role: 'data', open: () => Promise.reject(new Error('unused')) },
      head: async (n: number) => csv.subarray(0, n),
      chunks: async function* () {
        yield csv.subarray(0, 1000);
      },
      done: Promise.resolve({ bytes: csv.length, sha256: sha256(csv) }),
    } as unknown as Spool;
    const sink = new Collector();
    await expect(
      extractSource(shortReader, {
        limits: LIMITS,
        budget: new ExtractBudget(LIMITS.maxExtractedBytes),
        logger: capturedLogger().logger,
        createSink: () => sink,
      }),
    ).rejects.toThrow(`users.csv: 1000 of its ${csv.length} downloaded bytes were read; refusing a partial file`);
  });

  describe.each([
    ['sizes in the local header', 'raw'],
    ['sizes in a data descriptor', 'zipjs'],
  ] as const)('a zip with %s', (_label, writer) => {
    it('inflates the first entry while the rest of the zip is still downloading', async () => {
      const first = bulkCsv(3000, 1);
      const second = bulkCsv(50, 2);
      const entries = [
        { name: 'part-1.csv', data: Buffer.from(first) },
        { name: 'part-2.csv', data: Buffer.from(second) },
      ];
      const zip = writer === 'raw' ? rawZip(entries) : await zipJs(entries);
      const secondLocal = zip.indexOf(Buffer.from('PK\x03\x04'), 4);
      expect(secondLocal).toBeGreaterThan(0);

      const { body, spool, sinks, extracting } = extractHandFed();
      // Only the first entry and the signature after it have arrived (inflate learns that a
      // stream ended from the byte after it): the entry is read to its end before more is sent.
      body.write(zip.subarray(0, secondLocal + 4));
      await expect.poll(() => sinks[0]?.bytes, { timeout: 5000 }).toBe(first.length);
      await sinks[0]!.finished;
      expect(sinks).toHaveLength(1);

      body.end(zip.subarray(secondLocal + 4));
      const result = await extracting;
      expect(result.format).toBe('zip');
      expect(result.entries).toEqual([
        { name: 'part-1.csv', bytes: first.length, sha256: sha256(first), encryption: 'none' },
        { name: 'part-2.csv', bytes: second.length, sha256: sha256(second), encryption: 'none' },
      ]);
      expect(sinks.map((sink) => sink.sha256)).toEqual([sha256(first), sha256(second)]);
      expect(zip.indexOf(CENTRAL_SIGNATURE)).toBeGreaterThan(secondLocal);
      await spool.settled();
    });
  });

  it('leaves a zip whose first entry is OS junk to the central directory', async () => {
    const data = bulkCsv(100, 3);
    const zip = rawZip([
      { name: '__MACOSX/._users.csv', data: Buffer.from('junk') },
      { name: 'users.csv', data: Buffer.from(data) },
    ]);
    const { body, spool, sinks, extracting } = extractHandFed();
    body.end(zip);
    const result = await extracting;
    expect(result.entries.map((entry) => entry.name)).toEqual(['users.csv']);
    expect(sinks.map((sink) => sink.sha256)).toEqual([sha256(data)]);
    await spool.settled();
  });
});
