/**
 * A body longer than its Content-Length, from a raw `net` server on loopback (node:http would not
 * send one). Node reads exactly Content-Length bytes and ends the response cleanly; the surplus
 * fails the request's parser instead, which the client must not ignore.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from '../../../lambdas/core/archive/download.ts';
import { VendorRequestError } from '../../../lambdas/core/errors.ts';
import { createHttpClient } from '../../../lambdas/core/http/index.ts';
import { capturedLogger } from '../../support/archive-fixtures.ts';

/** What the server writes after reading a request's head, one `write` per element. */
type Answer = readonly string[];

let server: Server;
let host: string;
let answer: Answer;
const sockets = new Set<Socket>();

beforeEach(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      head = '';
      void writeAll(socket, answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  host = `127.0.0.1:${address.port}`;
});

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  server.close();
  await once(server, 'close');
});

async function writeAll(socket: Socket, parts: Answer): Promise<void> {
  for (const part of parts) {
    if (socket.destroyed) return;
    await new Promise<void>((resolve) => socket.write(part, 'latin1', () => resolve()));
  }
}

function client() {
  return createHttpClient({ allowedHosts: [host], maxRetries: 0, timeoutMs: 5_000 });
}

function head(contentLength: number, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('a small response read whole (text, json)', () => {
  it('refuses Content-Length 10 with 20 bytes sent, on a kept-alive socket', async () => {
    // Prepare: the surplus comes in the same write, so in the socket read that carries the headers
    answer = [`${head(10)}{"a":1234}{"b":5678}`];
    const response = await client().request({ url: `http://${host}/page`, operation: 'get page' });

    // Act
    const error = await rejectionOf(response.json());

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toBe(
      `get page failed: ${host}/page sent more than the 10 bytes its Content-Length declares; the body cannot be trusted to be the whole answer`,
    );
  });

  it('refuses it after `Connection: close` too', async () => {
    // Prepare
    answer = [`${head(10, 'Connection: close\r\n')}0123456789ABCDEFGHIJ`];
    const response = await client().request({ url: `http://${host}/page`, operation: 'get page' });

    // Act
    const error = await rejectionOf(response.text());

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toContain('more than the 10 bytes its Content-Length declares');
  });

  it('takes a body of exactly Content-Length bytes followed by a stray line break', async () => {
    // Prepare: llhttp skips a CRLF between messages; it is not a longer body
    answer = [`${head(10)}{"a":1234}\r\n`];
    const response = await client().request({ url: `http://${host}/page`, operation: 'get page' });

    // Act
    const body = await response.json<{ a: number }>();

    // Assess
    expect(body).toEqual({ a: 1234 });
  });
});

describe('a download spooled to disk', () => {
  let tmpDir: string;
  beforeEach(async () => {
    tmpDir = await mkdtemp(join(tmpdir(), 'overrun-'));
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  it('fails the spool when the body runs past its Content-Length, not archiving the first bytes', async () => {
    // Prepare: 1 MiB promised; its last bytes and 20 more come in a later write
    const size = 1024 * 1024;
    answer = [head(size) + 'a'.repeat(size - 100), `${'a'.repeat(100)}0123456789ABCDEFGHIJ`];
    const http = client();
    const source = {
      fileName: 'report.csv',
      role: 'data' as const,
      open: () => http.download(`http://${host}/report.csv`, { operation: 'download report' }),
    };

    // Act
    const spool = Spool.start(source, join(tmpDir, 'source-0'), {
      maxBytes: 2 * size,
      logger: capturedLogger().logger,
    });
    const error = await rejectionOf(spool.done);

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toContain(`download report failed: ${host}/report.csv sent more than the ${size} bytes`);
  });
});
