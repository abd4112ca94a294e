/**
 * Experiment behind an earlier change to the core (not part of `npm run bench`; the core has since
 * replaced node:zlib streams with `lambdas/core/archive/inflate.ts`, whose two output buffers give
 * the same overlap without a queue): node:zlib hands each output chunk to `push()` and only then
 * asks its thread pool for the next one, so a meter that hashes synchronously inside `_transform`
 * runs in series with the inflater. Handing the chunk on first and hashing it from a queue a moment later lets the two
 * overlap when a second core is free.
 *
 *   node --import tsx bench/experiments/hash-overlap.ts [none|sync|deferred]
 *
 * none: gunzip only; sync: SHA-256 + CRC-32 in `_transform`; deferred: the same work from a
 * `setImmediate` queue, after the chunk was passed on. Compare wall and CPU seconds: wall ≈ CPU
 * means nothing ran in parallel (on a machine with no idle core, nothing can). Needs the 1g data
 * set (`npm run bench -- --generate-only`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createGunzip } from 'node:zlib';
import { FORMAT_FILES, parseSize } from '../common.ts';
import { dataSetDir } from '../generate.ts';

const mode = process.argv[2] ?? 'deferred';
if (!['none', 'sync', 'deferred'].includes(mode)) throw new Error(`expected none, sync or deferred; received ${mode}`);
const data = readFileSync(join(dataSetDir(parseSize('1g'), 1), FORMAT_FILES.gzip));

const hash = createHash('sha256');
let crc = 0;
let queue: Buffer[] = [];
let scheduled = false;
const drain = () => {
  scheduled = false;
  const chunks = queue;
  queue = [];
  for (const chunk of chunks) {
    hash.update(chunk);
    crc = crc32(chunk, crc);
  }
};
const meter = new Transform({
  highWaterMark: 256 * 1024,
  transform(chunk: Buffer, _encoding, callback) {
    if (mode === 'sync') {
      hash.update(chunk);
      crc = crc32(chunk, crc);
      callback(null, chunk);
    } else if (mode === 'deferred') {
      callback(null, chunk);
      queue.push(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    } else callback(null, chunk);
  },
  flush(callback) {
    drain();
    callback();
  },
});
let bytes = 0;
const sink = new Writable({
  highWaterMark: 256 * 1024,
  write(chunk: Buffer, _encoding, callback) {
    bytes += chunk.length;
    callback();
  },
});
function* slices() {
  for (let offset = 0; offset < data.length; offset += 1024 * 1024) yield data.subarray(offset, offset + 1024 * 1024);
}

const started = performance.now();
const cpuBefore = process.cpuUsage();
await pipeline(Readable.from(slices()), createGunzip({ chunkSize: 256 * 1024 }), meter, sink);
const cpu = process.cpuUsage(cpuBefore);
console.log(
  `${mode}: ${bytes} bytes, ${((performance.now() - started) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU${mode === 'none' ? '' : `, sha256 ${hash.digest('hex').slice(0, 16)}, crc32 ${crc.toString(16)}`}`,
);
