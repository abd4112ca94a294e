import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DisallowedHostError,
  VendorAuthError,
  VendorRequestError,
  VendorThrottledError,
  VendorUnavailableError,
  VendorUnreachableError,
} from '../../../lambdas/core/errors.ts';
import { createHttpClient, type HttpClientOptions } from '../../../lambdas/core/http/index.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

interface TestServer {
  /** `127.0.0.1:port` */
  readonly host: string;
  readonly origin: string;
  readonly requests: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  let handler: Handler = (_req, res) => res.end('ok');
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      handler(req, res, requests.length - 1);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Everything the logger writes (Powertools writes JSON lines to stdout/stderr). */
function captureOutput() {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    text: () => lines.join(''),
    restore() {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

let server: TestServer;
let other: TestServer;
let sleeps: number[];

function client(overrides: Partial<HttpClientOptions> = {}) {
  return createHttpClient({
    allowedHosts: [server.host],
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    timeoutMs: 2_000,
    ...overrides,
  });
}

beforeEach(async () => {
  server = await startServer();
  other = await startServer();
  sleeps = [];
});

afterEach(async () => {
  await server.close();
  await other.close();
});

describe('successful requests', () => {
  it('sends a JSON body and parses a JSON answer', async () => {
    // Prepare
    server.handle((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"id":"job-1"}');
    });

    // Act
    const response = await client().request({
      method: 'POST',
      url: `${server.origin}/jobs`,
      json: { report: 'users' },
      operation: 'create report',
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'job-1' });
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(server.requests[0]?.body).toBe('{"report":"users"}');
  });

  it('sends URLSearchParams as a form', async () => {
    // Act
    const response = await client().request({
      method: 'POST',
      url: `${server.origin}/token`,
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
      operation: 'get token',
    });

    // Assess
    expect(await response.text()).toBe('ok');
    expect(server.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(server.requests[0]?.body).toBe('grant_type=client_credentials');
  });
});

describe('retries on 5xx and connection errors', () => {
  it('retries a 503 and returns the later success', async () => {
    // Prepare
    server.handle((_req, res, index) => {
      res.statusCode = index === 0 ? 503 : 200;
      res.end(index === 0 ? 'busy' : 'done');
    });

    // Act
    const response = await client().request({ url: `${server.origin}/status`, operation: 'check job' });

    // Assess
    expect(await response.text()).toBe('done');
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toEqual([50]); // full jitter: 0.5 × base 100
  });

  it('raises VendorUnavailableError with operation, status and attempts when retries run out', async () => {
    // Prepare
    server.handle((_req, res) => {
      res.statusCode = 502;
      res.end('bad gateway');
    });

    // Act
    const error = await rejectionOf(
      client({ random: () => 0.999 }).request({
        url: `${server.origin}/status`,
        operation: 'check job',
        maxRetries: 3,
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error.message).toBe(
      `check job failed: HTTP 502 from ${server.host}/status after 4 attempts (body: bad gateway)`,
    );
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([99, 199, 399]); // exponential, under the 100 × 2^n ceiling
  });

  it('caps the backoff at maxDelayMs', async () => {
    // Prepare
    server.handle((_req, res) => {
      res.statusCode = 500;
      res.end();
    });

    // Act
    await rejectionOf(
      client({ random: () => 0.999, maxDelayMs: 250 }).request({
        url: `${server.origin}/x`,
        operation: 'x',
        maxRetries: 4,
      }),
    );

    // Assess
    expect(sleeps).toEqual([99, 199, 249, 249]);
  });

  it('retries after the connection is reset', async () => {
    // Prepare
    server.handle((req, res, index) => {
      if (index === 0) req.socket.destroy();
      else res.end('recovered');
    });

    // Act
    const response = await client().request({ url: `${server.origin}/reset`, operation: 'list users' });

    // Assess
    expect(await response.text()).toBe('recovered');
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('raises VendorUnavailableError when the connection keeps failing', async () => {
    // Prepare
    server.handle((req) => req.socket.destroy());

    // Act
    const error = await rejectionOf(
      client().request({ url: `${server.origin}/reset`, operation: 'list users', maxRetries: 1 }),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error.message).toMatch(/^list users failed: connection error \(ECONNRESET\) from .* after 2 attempts$/);
  });

  it('returns a 5xx listed in acceptStatus without retrying', async () => {
    // Prepare
    server.handle((_req, res) => {
      res.statusCode = 503;
      res.end('maintenance');
    });

    // Act
    const response = await client().request({ url: `${server.origin}/x`, operation: 'x', acceptStatus: [503] });

    // Assess
    expect(response.status).toBe(503);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

/** A loopback port nothing listens on: one a server just gave back. */
async function closedPort(): Promise<number> {
  const closed = await startServer();
  await closed.close();
  return Number(closed.host.split(':')[1]);
}

describe('hosts that are not there', () => {
  it('raises VendorUnreachableError at once for a host that does not resolve (ENOTFOUND)', async () => {
    // Prepare: a resolver that answers as DNS answers a name that does not exist (NXDOMAIN), so
    // the test does not depend on the machine's DNS
    const lookup: LookupFunction = (hostname, _options, callback) => {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
        errno: -3008,
        syscall: 'getaddrinfo',
        hostname,
      });
      callback(error, '', 0);
    };

    // Act
    const error = await rejectionOf(
      client({ allowedHosts: ['no-such-host.invalid'], lookup }).request({
        url: 'https://no-such-host.invalid/v1/orgs/acme/export?apiKey=abc123',
        operation: 'start export',
      }),
    );

    // Assess: one line naming the host and what to check; no path, no query
    expect(error).toBeInstanceOf(VendorUnreachableError);
    expect(error.message).toBe(
      'start export failed: host no-such-host.invalid not found (ENOTFOUND); does the host exist? ' +
        "check baseUrl in the vendor's section of the config",
    );
    expect(sleeps).toEqual([]);
  });

  it('raises VendorUnreachableError for a refused connection after two quick retries, even with maxRetries 0', async () => {
    // Prepare
    const port = await closedPort();

    // Act
    const error = await rejectionOf(
      client({ allowedHosts: [`127.0.0.1:${port}`] }).request({
        method: 'POST',
        url: `http://127.0.0.1:${port}/v1/orgs/acme/export?sig=abc123`,
        operation: 'start export',
        maxRetries: 0,
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorUnreachableError);
    expect(error.message).toBe(
      `start export failed: 127.0.0.1:${port} refused the connection (ECONNREFUSED) after 3 attempts; ` +
        "is the server up and on that port? check baseUrl in the vendor's section of the config",
    );
    expect(sleeps).toEqual([50, 100]);
  });

  it('reaches a server that was refusing connections once it is back within the quick retries', async () => {
    // Prepare: the server comes back on its port while the client waits to retry
    const port = await closedPort();
    const back = http.createServer((_req, res) => res.end('back'));
    const restart = async (ms: number) => {
      sleeps.push(ms);
      if (!back.listening) {
        back.listen(port, '127.0.0.1');
        await once(back, 'listening');
      }
    };

    // Act
    const response = await client({ allowedHosts: [`127.0.0.1:${port}`], sleep: restart }).request({
      url: `http://127.0.0.1:${port}/v1/jobs`,
      operation: 'check job',
    });

    // Assess
    try {
      expect(await response.text()).toBe('back');
      expect(sleeps).toEqual([50]);
    } finally {
      back.closeAllConnections();
      back.close();
    }
  });
});

describe('timeouts', () => {
  it('raises VendorUnavailableError when the headers do not arrive in time', async () => {
    // Prepare: never answer
    server.handle(() => {});

    // Act
    const error = await rejectionOf(
      client({ timeoutMs: 100 }).request({ url: `${server.origin}/slow`, operation: 'start job', maxRetries: 0 }),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error.message).toBe(
      `start job failed: no response headers within 100 ms from ${server.host}/slow after 1 attempt`,
    );
  });

  it('errors the body stream when the body stalls', async () => {
    // Prepare: headers and a first chunk, then silence
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('a,b\n');
    });
    const response = await client({ timeoutMs: 100 }).request({ url: `${server.origin}/file`, operation: 'fetch' });

    // Act
    const error = await rejectionOf(response.text());

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error.message).toContain('response body stalled for more than 100 ms');
  });
});

describe('429 throttling', () => {
  it('sleeps for a short Retry-After given in seconds, then retries', async () => {
    // Prepare
    server.handle((_req, res, index) => {
      if (index === 0) res.writeHead(429, { 'retry-after': '3' }).end();
      else res.end('ok');
    });

    // Act
    const response = await client().request({ url: `${server.origin}/x`, operation: 'x' });

    // Assess
    expect(response.status).toBe(200);
    expect(sleeps).toEqual([3_000]);
  });

  it('sleeps until a short Retry-After given as an HTTP date', async () => {
    // Prepare
    const now = new Date('2025-03-04T10:00:00Z');
    server.handle((_req, res, index) => {
      if (index === 0) res.writeHead(429, { 'retry-after': 'Tue, 04 Mar 2025 10:00:07 GMT' }).end();
      else res.end('ok');
    });

    // Act
    const response = await client({ now: () => now }).request({ url: `${server.origin}/x`, operation: 'x' });

    // Assess
    expect(response.status).toBe(200);
    expect(sleeps).toEqual([7_000]);
  });

  it('uses backoff when there is no Retry-After', async () => {
    // Prepare
    server.handle((_req, res, index) => {
      res.statusCode = index === 0 ? 429 : 200;
      res.end();
    });

    // Act
    await client().request({ url: `${server.origin}/x`, operation: 'x' });

    // Assess
    expect(sleeps).toEqual([50]);
  });

  it.each(['-1', '1.5', 'soon 1', 'Tue, 04 Mar 2025 10:00:07'])(
    'treats a malformed Retry-After (%j) as absent: backoff, not an immediate retry',
    async (value) => {
      // Prepare
      server.handle((_req, res) => res.writeHead(429, { 'retry-after': value }).end());

      // Act
      const error = await rejectionOf(client().request({ url: `${server.origin}/x`, operation: 'x', maxRetries: 3 }));

      // Assess
      expect(error).toBeInstanceOf(VendorThrottledError);
      expect((error as VendorThrottledError).retryAfterSeconds).toBeUndefined();
      expect(sleeps).toEqual([50, 100, 200]);
    },
  );

  it('raises VendorThrottledError for a long Retry-After instead of sleeping', async () => {
    // Prepare
    server.handle((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end('slow down'));

    // Act
    const error = await rejectionOf(client().request({ url: `${server.origin}/report`, operation: 'start job' }));

    // Assess
    expect(error).toBeInstanceOf(VendorThrottledError);
    expect((error as VendorThrottledError).retryAfterSeconds).toBe(120);
    expect(error.message).toBe(
      `start job failed: HTTP 429 from ${server.host}/report; retry after 120 s (body: slow down)`,
    );
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('raises VendorThrottledError when short Retry-Afters use up the retries', async () => {
    // Prepare
    server.handle((_req, res) => res.writeHead(429, { 'retry-after': '2' }).end());

    // Act
    const error = await rejectionOf(client().request({ url: `${server.origin}/x`, operation: 'x', maxRetries: 2 }));

    // Assess
    expect(error).toBeInstanceOf(VendorThrottledError);
    expect((error as VendorThrottledError).retryAfterSeconds).toBe(2);
    expect(sleeps).toEqual([2_000, 2_000]);
    expect(server.requests).toHaveLength(3);
  });
});

describe('4xx errors', () => {
  it.each([
    [401, VendorAuthError],
    [403, VendorAuthError],
    [400, VendorRequestError],
  ])('raises on HTTP %i with the redacted start of the body', async (status, errorClass) => {
    // Prepare
    server.handle((_req, res) => {
      res.statusCode = status;
      res.end(`{"error":"denied for token s3cr3t-token","detail":"${'x'.repeat(400)}"}`);
    });

    // Act
    const error = await rejectionOf(
      client().request({
        url: `${server.origin}/users?page=2`,
        operation: 'list users',
        headers: { Authorization: 'Bearer s3cr3t-token' },
        secrets: ['s3cr3t-token'],
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toMatch(
      new RegExp(
        `^list users failed: HTTP ${status} from ${server.host}/users \\(body: \\{"error":"denied for token \\[redacted\\]","detail":"x+…\\)$`,
      ),
    );
    expect(error.message).not.toContain('s3cr3t-token');
    expect(error.message).not.toContain('page=2');
    expect(error.message.split('(body: ')[1]).toHaveLength(300 + '…)'.length);
    expect(server.requests).toHaveLength(1);
  });

  it.each([425, 404])('returns HTTP %i to the caller when listed in acceptStatus', async (status) => {
    // Prepare
    server.handle((_req, res) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end('{"code":"NOT_READY"}');
    });

    // Act
    const response = await client().request({
      url: `${server.origin}/jobs/1`,
      operation: 'check job',
      acceptStatus: [425, 404],
    });

    // Assess
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    expect(await response.json()).toEqual({ code: 'NOT_READY' });
  });
  it('hands back an accepted error body without the secrets it repeats, and a 2xx body as sent', async () => {
    // Prepare: a careless vendor repeats the token it refused, and the same text on a 200
    const token = 'tok-4e5f6a7b8c9d';
    let status = 400;
    server.handle((_req, res) => {
      res.statusCode = status;
      res.end(`invalid token ${token}`);
    });
    const request = { url: `${server.origin}/x`, operation: 'x', acceptStatus: [400], secrets: [token] };

    // Act
    const refused = await (await client().request(request)).text();
    status = 200;
    const ok = await (await client().request(request)).text();

    // Assess
    expect(refused).toBe('invalid token [redacted]');
    expect(ok).toBe(`invalid token ${token}`);
  });
});

describe('response bodies', () => {
  it('raises VendorRequestError naming the content type when the body is not JSON', async () => {
    // Prepare
    server.handle((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html>maintenance</html>');
    });
    const response = await client().request({ url: `${server.origin}/api`, operation: 'list users' });

    // Act
    const error = await rejectionOf(response.json());

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toBe(
      'expected JSON from list users; received text/html starting with "<html>maintenance</html>"',
    );
  });

  it('refuses a text body over 1 MB', async () => {
    // Prepare
    server.handle((_req, res) => res.end(Buffer.alloc(1024 * 1024 + 1, 'a')));
    const response = await client().request({ url: `${server.origin}/big`, operation: 'list users' });

    // Act
    const error = await rejectionOf(response.text());

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toMatch(/at most 1048576 bytes/);
  });
});

describe('host allowlist', () => {
  it('refuses a host that is not allowlisted, naming the host but not the query', async () => {
    // Act
    const error = await rejectionOf(
      client().request({ url: `${other.origin}/file?X-Amz-Signature=abc123`, operation: 'download' }),
    );

    // Assess
    expect(error).toBeInstanceOf(DisallowedHostError);
    expect(error.message).toContain(`host ${other.host} is not allowed`);
    expect(error.message).not.toContain('abc123');
    expect(other.requests).toHaveLength(0);
  });

  it('refuses plain http to a host that is not loopback', async () => {
    // Act
    const error = await rejectionOf(
      createHttpClient({ allowedHosts: ['api.example.com:80'] }).request({
        url: 'http://api.example.com/x',
        operation: 'x',
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(DisallowedHostError);
    expect(error.message).toContain('expected https for host api.example.com');
  });
});

describe('redirects', () => {
  it('refuses a redirect to a host that is not allowlisted', async () => {
    // Prepare
    server.handle((_req, res) => res.writeHead(302, { location: `${other.origin}/steal?sig=q` }).end());

    // Act
    const error = await rejectionOf(client().request({ url: `${server.origin}/report`, operation: 'fetch report' }));

    // Assess
    expect(error).toBeInstanceOf(DisallowedHostError);
    expect(error.message).toContain(`host ${other.host} is not allowed (redirect from ${server.host}/report)`);
    expect(error.message).not.toContain('sig=q');
    expect(other.requests).toHaveLength(0);
  });

  it('follows a redirect to an allowlisted host and drops Authorization there', async () => {
    // Prepare
    server.handle((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/moved' }).end();
      else res.writeHead(307, { location: `${other.origin}/file?sig=q` }).end();
    });
    other.handle((_req, res) => res.end('file'));

    // Act
    const response = await client({ allowedHosts: [server.host, other.host] }).request({
      url: `${server.origin}/start`,
      operation: 'fetch report',
      headers: { Authorization: 'Bearer t0ken', 'X-Api-Key': 'k3y', Accept: 'text/csv' },
    });

    // Assess
    expect(await response.text()).toBe('file');
    expect(response.url).toBe(`${other.origin}/file?sig=q`);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t0ken', 'Bearer t0ken']);
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(other.requests[0]?.headers['x-api-key']).toBeUndefined();
    expect(other.requests[0]?.headers.accept).toBe('text/csv');
  });

  it('stops after 5 redirects', async () => {
    // Prepare
    server.handle((_req, res, index) => res.writeHead(302, { location: `/hop${index + 1}` }).end());

    // Act
    const error = await rejectionOf(client().request({ url: `${server.origin}/hop0`, operation: 'fetch report' }));

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toContain('more than 5 redirects');
    expect(server.requests).toHaveLength(6);
  });

  it('does not follow a redirect for POST', async () => {
    // Prepare
    server.handle((_req, res) => res.writeHead(303, { location: '/elsewhere' }).end());

    // Act
    const error = await rejectionOf(
      client().request({ method: 'POST', url: `${server.origin}/jobs`, operation: 'create report' }),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toContain('HTTP 303');
    expect(server.requests).toHaveLength(1);
  });
});

describe('download', () => {
  it('streams the file without an Authorization header', async () => {
    // Prepare
    server.handle((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': '5' }).end('PK123'),
    );

    // Act
    const download = await client().download(`${server.origin}/report.zip?X-Amz-Signature=abc`, {
      operation: 'download report',
    });
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(chunk as Buffer);

    // Assess
    expect(Buffer.concat(chunks).toString()).toBe('PK123');
    expect(download.contentType).toBe('application/zip');
    expect(download.contentLength).toBe(5);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.url).toBe('/report.zip?X-Amz-Signature=abc');
  });

  it('errors the stream when the body ends before content-length', async () => {
    // Prepare: promise 100 bytes, send 40, hang up
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write(Buffer.alloc(40, 'a'), () => res.socket?.destroy());
    });
    const download = await client().download(`${server.origin}/report.zip`, { operation: 'download report' });

    // Act
    const error = await rejectionOf(
      (async () => {
        for await (const _chunk of download.body) {
          // drain
        }
      })(),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error.message).toContain('truncated download: received 40 of 100 bytes');
  });

  it('raises on a non-2xx status', async () => {
    // Prepare
    server.handle((_req, res) => {
      res.statusCode = 404;
      res.end('NoSuchKey');
    });

    // Act
    const error = await rejectionOf(client().download(`${server.origin}/gone.zip`, { operation: 'download report' }));

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
  });
});

describe('error bodies', () => {
  it('gives up on an error body that trickles in, after the timeout', async () => {
    // Prepare: never idle for the 150 ms timeout, but never done either
    server.handle((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 20);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();

    // Act
    const error = await rejectionOf(client({ timeoutMs: 150 }).request({ url: `${server.origin}/x`, operation: 'x' }));

    // Assess
    expect(error.message).toMatch(/^x failed: HTTP 400 from .* \(body: x+\)$/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('keeps what vendors echo back out of error messages', async () => {
    // Prepare: the form we sent, echoed; then a JSON-escaped pre-signed link; then a form-encoded token
    const secret = 'Ab1~cd2!ef3*gh4 ij5';
    server.handle((_req, res, index) => {
      if (index === 0) res.writeHead(400).end(`invalid_client: could not parse ${server.requests[index]!.body}`);
      else if (index === 1) {
        res
          .writeHead(410, { 'content-type': 'application/json' })
          .end('{"error":"expired","link":"https:\\/\\/b.s3.amazonaws.com\\/r.csv?X-Amz-Signature=deadbeefcafe"}');
      } else {
        res
          .writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' })
          .end('access_token=gho_TOKEN123&scope=read');
      }
    });
    const http = client();

    // Act
    const echoed = await rejectionOf(
      http.request({
        method: 'POST',
        url: `${server.origin}/token`,
        body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: secret }),
        operation: 'get access token',
        secrets: [secret],
      }),
    );
    const expired = await rejectionOf(http.request({ url: `${server.origin}/link`, operation: 'get link' }));
    const notJson = await rejectionOf(
      (await http.request({ method: 'POST', url: `${server.origin}/token`, operation: 'token' })).json(),
    );

    // Assess
    expect(echoed.message).toContain('client_secret=[redacted]');
    expect(expired.message).toContain('https://b.s3.amazonaws.com/r.csv');
    expect(notJson.message).toContain('access_token=[redacted]');
    const all = [echoed, expired, notJson].map((error) => error.message).join('\n');
    for (const leaked of ['Ab1', 'deadbeefcafe', 'gho_TOKEN123']) expect(all).not.toContain(leaked);
  });
});

describe('redaction', () => {
  it('keeps secrets and query strings out of logs and errors', async () => {
    // Prepare
    const token = 'tok-9f8e7d6c5b4a';
    vi.stubEnv('POWERTOOLS_DEV', 'false'); // dev mode would log through the global console instead
    const capture = captureOutput();
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
    server.handle((req, res, index) => {
      if (index === 0) {
        res.statusCode = 503;
        res.end(`upstream failed for ${req.url}`);
      } else {
        res.statusCode = 403;
        res.end(`token ${token} is not valid for https://files.example.com/x?sig=querysecret`);
      }
    });
    let error: Error;
    try {
      // Act
      error = await rejectionOf(
        client({ logger }).request({
          url: `${server.origin}/v1/${token}/users?sig=querysecret`,
          operation: 'list users',
          headers: { authorization: `Bearer ${token}` },
          secrets: [token],
        }),
      );
    } finally {
      capture.restore();
      vi.unstubAllEnvs();
    }

    // Assess
    const logs = capture.text();
    expect(logs).toContain('"message":"http request"');
    expect(logs).toContain('"message":"retrying http request"');
    expect(logs).toContain(`"url":"http://${server.host}/v1/[redacted]/users"`);
    expect(error).toBeInstanceOf(VendorAuthError);
    expect(error.message).toContain('token [redacted] is not valid for https://files.example.com/x');
    for (const text of [logs, error.message]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('querysecret');
    }
  });

  it('drops the tail of an error body cut at the read limit, where a secret may be split', async () => {
    // Prepare: 8 KiB of blanks ending in the first half of the token, then (later) the rest
    const token = 'tok-9f8e7d6c5b4a';
    server.handle((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.write(`${' '.repeat(8 * 1024 - 8)}${token.slice(0, 8)}`);
      setTimeout(() => res.end(`${token.slice(8)} is not valid`), 200);
    });

    // Act
    const error = await rejectionOf(
      client().request({ url: `${server.origin}/x`, operation: 'list users', secrets: [token] }),
    );

    // Assess
    expect(error).toBeInstanceOf(VendorRequestError);
    expect(error.message).toMatch(/^list users failed: HTTP 400 from .* \(body: <empty>\)$/);
    expect(error.message).not.toContain(token.slice(0, 8));
  });
});
