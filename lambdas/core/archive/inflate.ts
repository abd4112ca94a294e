/**
 * Inflating (raw deflate or gzip) into two output buffers used in turn, on zlib's thread pool.
 *
 * node:zlib's streams allocate a fresh output Buffer per chunk: a GB of short-lived Buffers per
 * GB inflated. V8 counts them against a small heap's limit and answers with a full mark-compact
 * every few dozen MB; on the 1 GB benchmark that cost stage (a) a third of its throughput. Here
 * chunk k goes to the consumer while the pool inflates chunk k+1 into the other buffer, so
 * inflating overlaps hashing and parsing, and nothing is allocated per chunk.
 *
 * The engine is the native handle behind every node:zlib stream (`_handle.constructor`, with the
 * arguments node:zlib itself passes; ssh2 drives it the same way). It is probed once on a known
 * stream; if a Node version ever changes it, node:zlib's public streams are used instead, with
 * the same output and errors and a fresh Buffer per chunk.
 *
 * Contract, both ways: a chunk is valid until its reader asks for the next one. The consumer must
 * copy what it keeps (the extraction's sinks do); the input may reuse its buffers likewise.
 */
import { Readable } from 'node:stream';
import { constants, createGunzip, createInflateRaw, deflateRawSync } from 'node:zlib';

export type InflateFormat = 'deflate-raw' | 'gzip';

export interface Inflated {
  /** decompressed bytes; each chunk valid until the next is asked for */
  readonly chunks: AsyncIterable<Buffer>;
  /** compressed bytes consumed so far, for the ratio check while inflating */
  readonly compressedBytes: () => number;
}

export interface InflateOptions {
  /** output chunk size; small values make tests cross many chunk boundaries */
  readonly chunkBytes?: number;
  /** force node:zlib's public streams (tests of the fallback) */
  readonly engine?: 'native' | 'stream';
}

export const INFLATE_CHUNK_BYTES = 1024 * 1024;

/**
 * Inflates `input`. A deflate stream ends itself: input after its end is not read further (a
 * streamed zip entry runs on into the rest of the zip); gzip members are read one after another.
 */
export function inflate(input: AsyncIterable<Buffer>, format: InflateFormat, options: InflateOptions = {}): Inflated {
  const chunkBytes = options.chunkBytes ?? INFLATE_CHUNK_BYTES;
  const counter = { consumed: 0 };
  const native = options.engine === 'stream' ? undefined : NativeZlib;
  const chunks = native
    ? inflateNative(native, input, format, chunkBytes, counter)
    : inflateStream(input, format, chunkBytes, counter);
  return { chunks, compressedBytes: () => counter.consumed };
}

/** True when the native engine passed its probe; a test asserts it, so a Node upgrade that drops it is noticed. */
export function nativeInflateAvailable(): boolean {
  return NativeZlib !== undefined;
}

// --- the native engine -------------------------------------------------------------------------

interface ZlibHandle {
  onerror?: (message: string, errno: number, code?: string) => void;
  init(
    windowBits: number,
    level: number,
    memLevel: number,
    strategy: number,
    writeState: Uint32Array,
    processCallback: () => void,
    dictionary: Buffer | undefined,
  ): void;
  write(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
  close(): void;
}

type ZlibHandleClass = new (mode: number) => ZlibHandle;

const MODES: Record<InflateFormat, number> = { 'deflate-raw': constants.INFLATERAW, gzip: constants.GUNZIP };
// What node:zlib passes for inflaters (level, memLevel and strategy are unused, but checked).
const WINDOW_BITS = constants.Z_DEFAULT_WINDOWBITS;
const LEVEL = constants.Z_DEFAULT_COMPRESSION;
const MEM_LEVEL = constants.Z_DEFAULT_MEMLEVEL;
const STRATEGY = constants.Z_DEFAULT_STRATEGY;

/** One zlib context; `write` runs on the thread pool and resolves with what is left unused. */
class NativeInflater {
  private readonly handle: ZlibHandle;
  private readonly state = new Uint32Array(2);
  private closed = false;
  private pending?: {
    resolve: (left: { availOut: number; availIn: number }) => void;
    reject: (error: Error) => void;
    // the buffers zlib is reading and writing, kept referenced until it is done with them
    input: Buffer;
    output: Buffer;
  };

  constructor(Handle: ZlibHandleClass, format: InflateFormat) {
    this.handle = new Handle(MODES[format]);
    this.handle.onerror = (message, errno, code) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(Object.assign(new Error(message), { errno, code }));
    };
    this.handle.init(WINDOW_BITS, LEVEL, MEM_LEVEL, STRATEGY, this.state, () => this.written(), undefined);
  }

  write(flush: number, input: Buffer, inOff: number, output: Buffer): Promise<{ availOut: number; availIn: number }> {
    // a write after close() would abort the process (a CHECK in node's zlib binding)
    if (this.closed) return Promise.reject(new Error('inflater closed'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, input, output };
      this.handle.write(flush, input, inOff, input.length - inOff, output, 0, output.length);
    });
  }

  private written(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({ availOut: this.state[0]!, availIn: this.state[1]! });
  }

  /** Safe while a write runs: zlib closes once it is done. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }
}

const EMPTY = Buffer.alloc(0);

/** What one write into an output buffer produced. */
interface Round {
  readonly output: Buffer;
  readonly produced: number;
  /** the stream ended: room was left in the output, and the input has ended or runs on past it */
  readonly ended: boolean;
}

async function* inflateNative(
  Handle: ZlibHandleClass,
  input: AsyncIterable<Buffer>,
  format: InflateFormat,
  chunkBytes: number,
  counter: { consumed: number },
): AsyncGenerator<Buffer> {
  const zlib = new NativeInflater(Handle, format);
  const outputs = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  const source = input[Symbol.asyncIterator]();
  let chunk: Buffer = EMPTY;
  let offset = 0;
  let inputDone = false;
  /** Reads input if zlib has used all it had, then inflates into `output`. */
  const round = async (output: Buffer): Promise<Round> => {
    while (offset === chunk.length && !inputDone) {
      const next = await source.next();
      if (next.done) inputDone = true;
      else [chunk, offset] = [next.value, 0];
    }
    const { availOut, availIn } = await zlib.write(
      inputDone ? constants.Z_FINISH : constants.Z_NO_FLUSH,
      chunk,
      offset,
      output,
    );
    const used = chunk.length - offset - availIn;
    offset += used;
    counter.consumed += used;
    return { output, produced: output.length - availOut, ended: availOut > 0 && (availIn > 0 || inputDone) };
  };
  // The next round (input read included) starts before a chunk is handed out, into the other
  // buffer, so the pool works while the consumer does.
  let slot = 0;
  let next: Promise<Round> | undefined = round(outputs[slot]!);
  try {
    while (next) {
      const done: Round = await next;
      slot ^= 1;
      next = done.ended ? undefined : round(outputs[slot]!);
      next?.catch(() => {}); // awaited on the next turn, unless the consumer stops first
      if (done.produced > 0) yield done.output.subarray(0, done.produced);
    }
  } finally {
    zlib.close();
    await source.return?.();
  }
}

/**
 * The native handle class, or undefined when it is missing or does not inflate a known stream
 * exactly as node:zlib documents.
 */
const NativeZlib: ZlibHandleClass | undefined = (() => {
  try {
    const stream = createInflateRaw();
    const Handle = (stream as unknown as { _handle?: { constructor?: unknown } })._handle?.constructor;
    stream.close();
    if (typeof Handle !== 'function') return undefined;
    const text = Buffer.from('identity-report-archive '.repeat(8));
    const compressed = Buffer.concat([deflateRawSync(text), Buffer.from('after')]);
    const handle = new (Handle as ZlibHandleClass)(MODES['deflate-raw']);
    const state = new Uint32Array(2);
    let failed = false;
    handle.onerror = () => {
      failed = true;
    };
    handle.init(WINDOW_BITS, LEVEL, MEM_LEVEL, STRATEGY, state, () => {}, undefined);
    const out = Buffer.alloc(text.length + 16);
    handle.writeSync(constants.Z_NO_FLUSH, compressed, 0, compressed.length, out, 0, out.length);
    handle.close();
    const ok = !failed && state[0] === 16 && state[1] === 5 && out.subarray(0, text.length).equals(text);
    return ok ? (Handle as ZlibHandleClass) : undefined;
  } catch {
    return undefined;
  }
})();

// --- the fallback: node:zlib's public streams ---------------------------------------------------

async function* inflateStream(
  input: AsyncIterable<Buffer>,
  format: InflateFormat,
  chunkBytes: number,
  counter: { consumed: number },
): AsyncGenerator<Buffer> {
  const inflater =
    format === 'gzip' ? createGunzip({ chunkSize: chunkBytes }) : createInflateRaw({ chunkSize: chunkBytes });
  // A stream holds on to what it is given, so the input's chunks are copied.
  const raw = Readable.from(copies(input), { objectMode: false });
  raw.on('error', (error) => inflater.destroy(error));
  inflater.once('end', () => {
    raw.unpipe(inflater);
    raw.destroy();
  });
  inflater.on('close', () => raw.destroy());
  raw.pipe(inflater);
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      counter.consumed = inflater.bytesWritten;
      yield chunk;
    }
    counter.consumed = inflater.bytesWritten;
  } finally {
    inflater.destroy();
    // let the input go before returning, as the native engine does
    if (!raw.closed) await new Promise((resolve) => raw.once('close', resolve).destroy());
  }
}

/** The input's chunks, copied. Not a generator: one would hold `return()` back behind a read. */
function copies(input: AsyncIterable<Buffer>): AsyncIterableIterator<Buffer> {
  const source = input[Symbol.asyncIterator]();
  return {
    next: async () => {
      const next = await source.next();
      return next.done ? next : { value: Buffer.from(next.value), done: false };
    },
    return: async (value?: unknown) => (await source.return?.(value)) ?? { value, done: true },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
