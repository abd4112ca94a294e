/**
 * Spools a vendor download to a temp file, hashing and counting on the way.
 *
 * 1. `Spool.start` calls the source's `open()` at once (vendor links can expire within minutes),
 *    so every source of a report downloads concurrently.
 * 2. Bytes are written to the temp file as they arrive; `chunks()` follows the file while it
 *    grows, so gzip, CSV and JSON are processed during the download, not after it.
 * 3. A zip's first entry is inflated while it downloads too (`extract.ts`); the rest of a zip is
 *    read through its central directory once `done`.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdtemp, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ArchiveError, SizeLimitError, VendorRequestError, VendorUnavailableError } from '../errors.ts';
import { redact } from '../logging.ts';
import type { DownloadedBody, ReportSource } from '../types.ts';

export interface SpooledFile {
  readonly bytes: number;
  readonly sha256: string;
}

export interface SpoolOptions {
  readonly maxBytes: number;
  readonly logger: Logger;
  /** the whole download must end within this; a vendor trickling bytes is cut off (default: none) */
  readonly deadlineMs?: number;
  /** a larger declared size cannot be parsed within the function's timeout (default: not checked) */
  readonly maxReportBytes?: number;
}

/** lets `chunks()`'s `return()` reach a reader that waits for the download */
interface ReaderControl {
  stopped: boolean;
  wake?: () => void;
}

const WRITE_BATCH_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
/** a batch not yet full is written once the download pauses this long */
const IDLE_FLUSH_MS = 5;

export class Spool {
  readonly done: Promise<SpooledFile>;
  contentType?: string;
  /** bytes on disk, readable by followers */
  private written = 0;
  private state: 'running' | 'done' | 'failed' = 'running';
  private failure?: Error;
  private abortReason?: Error;
  private body?: Readable;
  private readonly created: Promise<void>;
  private markCreated!: (error?: Error) => void;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly source: ReportSource,
    readonly path: string,
    private readonly options: SpoolOptions,
  ) {
    this.created = new Promise<void>((resolve, reject) => {
      this.markCreated = (error) => (error ? reject(error) : resolve());
    });
    this.created.catch(() => {});
    this.done = this.run();
    this.done.catch(() => {}); // observed by readers and by the orchestrator
  }

  /** Starts the download right away. */
  static start(source: ReportSource, path: string, options: SpoolOptions): Spool {
    return new Spool(source, path, options);
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Stops the download (another step failed); `done` rejects. */
  abort(reason: Error): void {
    if (this.state !== 'running') return;
    this.abortReason ??= reason;
    this.body?.destroy(reason);
  }

  /** Resolves once the download settled either way. */
  async settled(): Promise<void> {
    await this.done.catch(() => {});
  }

  /** The first `n` bytes (fewer when the file is shorter), as soon as they are on disk. */
  async head(n: number): Promise<Buffer> {
    while (this.state === 'running' && this.written < n) await this.changed();
    if (this.state === 'failed') throw this.failure;
    await this.created;
    const fh = await open(this.path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(n, this.written));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /**
   * The file from `start`, read while the download writes it, until the download ends or fails.
   * Two buffers are read into in turn, the next while the reader works on the current one: a
   * chunk is valid until the next one is asked for. A reader that stops (`return()`) while a read
   * ahead waits for the download is let go at once, not once the download next moves.
   */
  chunks(start = 0): AsyncIterableIterator<Buffer> {
    const control: ReaderControl = { stopped: false };
    const reader = this.read(start, control);
    return {
      next: () => reader.next(),
      return: (value?: unknown) => {
        control.stopped = true;
        control.wake?.();
        return reader.return(value);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private async *read(start: number, control: ReaderControl): AsyncGenerator<Buffer, unknown> {
    await this.created;
    const fh = await open(this.path, 'r');
    const buffers = [Buffer.allocUnsafe(READ_CHUNK_BYTES), Buffer.allocUnsafe(READ_CHUNK_BYTES)];
    let slot = 0;
    let position = start;
    /** what is on disk from `position`, read into the next buffer; undefined when nothing is */
    const readAhead = (): Promise<Buffer> | undefined => {
      if (position >= this.written) return undefined;
      const buffer = buffers[slot]!;
      slot ^= 1;
      const length = Math.min(buffer.length, this.written - position);
      const at = position;
      position += length;
      return fh.read(buffer, 0, length, at).then(({ bytesRead }) => {
        if (bytesRead < length) throw new Error(`temp file of ${this.source.fileName} is shorter than written`);
        return buffer.subarray(0, length);
      });
    };
    let next: Promise<Buffer> | undefined;
    try {
      for (;;) {
        // Again after every chunk: what reached the disk while the reader held the last one.
        next ??= readAhead();
        if (next) {
          const chunk = await next;
          next = readAhead();
          next?.catch(() => {}); // awaited on the next turn, unless the reader stops first
          yield chunk;
          continue;
        }
        // Only now, with nothing left on disk, does the download's state say whether more comes.
        if (this.state === 'failed') throw this.failure;
        if (this.state === 'done') return;
        await new Promise<void>((resolve) => {
          control.wake = resolve;
          this.waiters.push(resolve);
        });
        control.wake = undefined;
        if (control.stopped) return;
      }
    } finally {
      await next?.catch(() => {});
      await fh.close();
    }
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async run(): Promise<SpooledFile> {
    const { fileName } = this.source;
    let fh: FileHandle | undefined;
    const deadline = this.startDeadline();
    try {
      const opened = await this.source.open();
      this.body = opened.body;
      this.contentType = opened.contentType;
      if (this.abortReason) {
        opened.body.destroy();
        throw this.abortReason;
      }
      const max = this.options.maxBytes;
      if (opened.contentLength !== undefined && opened.contentLength > max) {
        opened.body.destroy();
        throw new SizeLimitError(`${fileName} is ${opened.contentLength} bytes (Content-Length); the limit is ${max}`);
      }
      this.checkParseTime(opened);
      fh = await open(this.path, 'wx', 0o600);
      this.markCreated();
      const hash = createHash('sha256');
      let received = 0;
      const writer = new BatchWriter(fh, (bytes) => {
        this.written += bytes;
        this.notify();
      });
      // A batch is written when full, or once the vendor pauses (readers follow what is on disk,
      // so nothing may wait long in memory).
      let idle: NodeJS.Timeout | undefined;
      try {
        await eachChunk(opened.body, (buf) => {
          received += buf.length;
          if (received > max) throw new SizeLimitError(`${fileName} is larger than the limit of ${max} bytes`);
          if (opened.contentLength !== undefined && received > opened.contentLength) throw overrun(fileName, opened);
          hash.update(buf);
          if (idle) idle.refresh();
          else idle = setTimeout(() => writer.flush().catch(() => {}), IDLE_FLUSH_MS);
          // An add that waited for a batch write copies the rest of its chunk afterwards: the timer
          // counts from then, or a vendor that pauses now would leave those bytes in memory.
          return writer.add(buf)?.then(() => void idle?.refresh());
        });
      } finally {
        clearTimeout(idle);
      }
      if (this.abortReason) throw this.abortReason;
      await writer.flush();
      if (this.abortReason) throw this.abortReason; // aborted while the last batch was written
      if (opened.contentLength !== undefined && received < opened.contentLength) {
        throw new VendorUnavailableError(
          `download of ${fileName} ended after ${received} of ${opened.contentLength} bytes (Content-Length)`,
        );
      }
      this.state = 'done';
      this.notify();
      return { bytes: received, sha256: hash.digest('hex') };
    } catch (error) {
      this.failure = this.abortReason ?? downloadError(error, fileName);
      this.state = 'failed';
      this.markCreated(this.failure);
      this.notify();
      throw this.failure;
    } finally {
      clearTimeout(deadline);
      await fh?.close().catch(() => {});
    }
  }

  /** A declared size the function cannot parse within its timeout fails now, before any byte is read. */
  private checkParseTime(opened: DownloadedBody): void {
    const within = this.options.maxReportBytes;
    if (opened.contentLength === undefined || within === undefined || opened.contentLength <= within) return;
    opened.body.destroy();
    throw new SizeLimitError(
      `${this.source.fileName} is ${opened.contentLength} bytes (Content-Length): too large to archive within the archive function's timeout, which parses at most ${within} bytes (functions.archive: memoryMb and timeoutMinutes)`,
    );
  }

  /** Aborts the download once its overall deadline passes; retryable, as a slow vendor may recover. */
  private startDeadline(): NodeJS.Timeout | undefined {
    const ms = this.options.deadlineMs;
    if (ms === undefined) return undefined;
    const seconds = Math.round(ms / 1000);
    const reason = `download of ${this.source.fileName} did not finish within ${seconds} s (archive.maxDownloadSeconds)`;
    return setTimeout(() => this.abort(new VendorUnavailableError(reason)), ms);
  }
}

/**
 * Calls `onChunk` for every chunk of `body` as it arrives, pausing the body while a returned
 * promise settles. Chunks are taken as delivered: an async iterator would read whatever is
 * buffered as one concatenated copy.
 */
function eachChunk(body: Readable, onChunk: (chunk: Buffer) => Promise<void> | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let busy: Promise<void> | undefined;
    const fail = (error: unknown) => {
      body.off('data', onData);
      body.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer | string) => {
      let next: Promise<void> | undefined;
      try {
        next = onChunk(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (!next) return;
      body.pause();
      busy = next.then(
        () => {
          busy = undefined;
          body.resume();
        },
        (error: unknown) => fail(error),
      );
    };
    body.on('data', onData);
    finished(body).then(
      () => (busy ?? Promise.resolve()).then(resolve, reject),
      (error: unknown) => fail(error),
    );
  });
}

/**
 * Writes a download to its file through two batch buffers used in turn: one fills while the other
 * is written. The socket's chunks are copied, not kept: held until their batch was written, they
 * outlived young-generation collections and waited, dead, for a full one (at 4 GB the download
 * phase set the archive step's peak RSS).
 */
class BatchWriter {
  private readonly buffers = [Buffer.allocUnsafe(WRITE_BATCH_BYTES), Buffer.allocUnsafe(WRITE_BATCH_BYTES)];
  /** the write under way from each buffer, if any */
  private readonly busy: Array<Promise<void> | undefined> = [undefined, undefined];
  private slot = 0;
  private used = 0;
  private position = 0;
  /** writes run one after another, in order */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private readonly onWritten: (bytes: number) => void,
  ) {}

  /** Copies `chunk` in; returns a promise when it must wait for a buffer to be written first. */
  add(chunk: Buffer, offset = 0): Promise<void> | undefined {
    while (offset < chunk.length) {
      const busy = this.busy[this.slot];
      if (busy) return busy.then(() => this.add(chunk, offset));
      const copied = chunk.copy(this.buffers[this.slot]!, this.used, offset);
      this.used += copied;
      offset += copied;
      if (this.used === WRITE_BATCH_BYTES) void this.flush().catch(() => {}); // surfaces via busy and flush()
    }
    return undefined;
  }

  /** Writes what the current buffer holds; resolves when every write so far is done. */
  flush(): Promise<void> {
    if (this.used === 0) return this.writes;
    const slot = this.slot;
    const buffer = this.buffers[slot]!;
    const length = this.used;
    this.slot ^= 1;
    this.used = 0;
    const write = this.writes.then(async () => {
      let done = 0;
      while (done < length) {
        const { bytesWritten } = await this.fh.write(buffer, done, length - done, this.position + done);
        done += bytesWritten;
      }
      this.position += length;
      this.onWritten(length);
    });
    this.writes = write;
    const busy = write.then(() => {
      this.busy[slot] = undefined;
    });
    busy.catch(() => {}); // a failed write is reported by add() or by the last flush()
    this.busy[slot] = busy;
    return write;
  }
}

/**
 * A body longer than it declared. The HTTP client already refuses one (Node would stop at
 * Content-Length); this holds for any source's stream. Not retried, as in `core/http/body-guard.ts`.
 */
function overrun(fileName: string, opened: DownloadedBody): VendorRequestError {
  return new VendorRequestError(
    `download of ${fileName} sent more than the ${opened.contentLength} bytes its Content-Length declares; the file cannot be trusted to be the whole report`,
  );
}

/** Our own disk, full: retrying only fills it again, so it is not the vendor's transient fault. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** SizeLimitError for a full temporary storage, naming what could not be written; else undefined. */
function diskFullError(error: unknown, what: string): SizeLimitError | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !DISK_FULL.has(code)) return undefined;
  return new SizeLimitError(
    `${what} ran out of temporary storage (${code}); keep archive.maxDownloadBytes below the function's ephemeral storage`,
  );
}

/** The file system calls `createSpoolDir` makes (tests hand in failing ones). */
export interface SpoolDirFs {
  mkdtemp(prefix: string): Promise<string>;
}

/**
 * A fresh directory under `tmpDir` for one run's spool files. A full disk is the same
 * SizeLimitError as a download that fills it, not a raw error the state machine cannot name.
 */
export async function createSpoolDir(tmpDir: string, fs: SpoolDirFs = { mkdtemp }): Promise<string> {
  try {
    return await fs.mkdtemp(join(tmpDir, 'archive-'));
  } catch (error) {
    throw diskFullError(error, `the spool directory under ${tmpDir}`) ?? error;
  }
}

/** Named errors pass through; socket resets and the like become retryable vendor errors. */
function downloadError(error: unknown, fileName: string): Error {
  if (error instanceof ArchiveError) return error;
  const full = diskFullError(error, `download of ${fileName}`);
  if (full) return full;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  return new VendorUnavailableError(
    `download of ${fileName} failed${typeof code === 'string' ? ` (${code})` : ''}: ${redact(message)}`,
  );
}
