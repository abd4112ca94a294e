import { Writable } from 'node:stream';

/** Discards what it is given and counts it. */
export class CountingSink extends Writable {
  bytes = 0;

  constructor() {
    super({ highWaterMark: 256 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    callback();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.bytes += chunk.length;
    callback();
  }
}
