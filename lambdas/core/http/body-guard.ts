/**
 * Limits on reading a response body, so that a vendor cannot hang or flood a Lambda:
 *
 * 1. `guardBody`: an idle timeout between chunks, and a body that ends before `content-length`
 *    (or a lost connection) errors the stream with VendorUnavailableError instead of ending cleanly;
 *    a body longer than its `content-length` errors it with VendorRequestError.
 * 2. `readCapped`: a size cap for bodies read into memory.
 * 3. `readStart`: the first bytes of a body, within a deadline for the whole read.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { VendorRequestError, VendorUnavailableError } from '../errors.ts';
import type { TrailingBytes } from './transport.ts';

export interface BodyGuard {
  readonly idleMs: number;
  /** bytes promised by `content-length`, if any */
  readonly expectedBytes?: number;
  readonly describe: string;
  readonly operation: string;
  /** bytes the vendor sent after the body's end (see `TrailingBytes`) */
  readonly trailing?: TrailingBytes;
}

/**
 * Not retried: Node hands over exactly Content-Length bytes, so what was read is not what was
 * sent, and a server that miscounts (characters for UTF-8 bytes, a length taken before a rewrite)
 * miscounts again on every retry, while a download retried costs the vendor's quota (RSA allows
 * one per 15 minutes).
 */
function overrun(guard: BodyGuard): VendorRequestError {
  const declared =
    guard.expectedBytes === undefined
      ? 'bytes after the end of its body'
      : `more than the ${guard.expectedBytes} bytes its Content-Length declares`;
  return new VendorRequestError(
    `${guard.operation} failed: ${guard.describe} sent ${declared}; the body cannot be trusted to be the whole answer`,
  );
}

/**
 * Wraps a response so that a stalled body, a lost connection or a body shorter than
 * `content-length` errors the stream with VendorUnavailableError, and one longer than it with
 * VendorRequestError. The idle timer runs only while the consumer is asking for data, so a slow
 * consumer is not blamed on the vendor.
 */
export function guardBody(response: IncomingMessage, guard: BodyGuard): Readable {
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const fail = (reason: string) => {
    disarm();
    out.destroy(new VendorUnavailableError(`${guard.operation} failed: ${reason} from ${guard.describe}`));
  };
  const arm = () => {
    // refresh(): a timer per chunk would cost more than the chunk's bytes
    if (timer) timer.refresh();
    else timer = setTimeout(() => fail(`response body stalled for more than ${guard.idleMs} ms`), guard.idleMs);
  };
  const incomplete = () =>
    guard.expectedBytes === undefined
      ? `connection closed before the body was complete (received ${received} bytes)`
      : `truncated download: received ${received} of ${guard.expectedBytes} bytes`;

  const out = new Readable({
    // several socket reads' worth: pausing the socket for every 64 KiB read costs more than the copy
    highWaterMark: 1024 * 1024,
    read() {
      arm();
      response.resume();
    },
    destroy(error, callback) {
      disarm();
      response.destroy();
      // Like IncomingMessage: an unread, unobserved body must not crash the process.
      callback(error && out.listenerCount('error') > 0 ? error : null);
    },
  });
  response.pause();
  response.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (out.push(chunk)) arm();
    else {
      disarm();
      response.pause();
    }
  });
  guard.trailing?.watch(() => {
    disarm();
    out.destroy(overrun(guard));
  });
  response.on('end', () => {
    disarm();
    if (out.destroyed) return;
    if (guard.expectedBytes !== undefined && received < guard.expectedBytes) fail(incomplete());
    else out.push(null);
  });
  response.on('error', () => fail(incomplete()));
  response.on('close', () => {
    if (!response.complete && !out.destroyed) fail(incomplete());
  });
  return out;
}

/** Reads the whole body into memory; over `limitBytes` it destroys the body and throws `onOverflow()`. */
export async function readCapped(body: Readable, limitBytes: number, onOverflow: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      body.destroy();
      throw onOverflow();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface BodyStart {
  readonly bytes: Buffer;
  /** false when the read stopped early (at `maxBytes`, the deadline or an error): the text may end mid-word */
  readonly complete: boolean;
}

/**
 * Best effort: the first `maxBytes` (or a little more) of a body, and never longer than
 * `deadlineMs` to get them: a body that trickles in never goes idle, so the idle timeout alone
 * would not end the read. An error ends the read with what arrived.
 */
export async function readStart(body: Readable, maxBytes: number, deadlineMs: number): Promise<BodyStart> {
  const deadline = setTimeout(() => body.destroy(new Error('body too slow')), deadlineMs);
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) {
        complete = false;
        break;
      }
    }
  } catch {
    complete = false;
  } finally {
    clearTimeout(deadline);
  }
  return { bytes: Buffer.concat(chunks), complete };
}
