/**
 * One HTTP exchange on `node:http`/`node:https` with keep-alive agents: encode the request, send
 * it, and wait (with a deadline) for the response headers. No retries, redirects or checks here.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { HttpRequest } from './types.ts';

const USER_AGENT = 'identity-report-archive';

// Module scope: sockets are reused across requests and across warm invocations.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
} as const;

/** Raised inside an attempt when the response headers do not arrive in time. */
export class HeaderTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no response headers within ${timeoutMs} ms`);
  }
}

export interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly timeoutMs: number;
}

/** Lower-case headers with the user agent, and the encoded body (setting its content type and length). */
export function encodeRequest(request: HttpRequest): { headers: Record<string, string>; body: Buffer | undefined } {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  let body: Buffer | undefined;
  let contentType: string | undefined;
  if (request.json !== undefined) {
    body = Buffer.from(JSON.stringify(request.json));
    contentType = 'application/json';
  } else if (request.body instanceof URLSearchParams) {
    body = Buffer.from(request.body.toString());
    contentType = 'application/x-www-form-urlencoded';
  } else if (typeof request.body === 'string') {
    body = Buffer.from(request.body);
  } else if (request.body !== undefined) {
    body = request.body;
  }
  if (body === undefined) return { headers, body };
  if (contentType && headers['content-type'] === undefined) headers['content-type'] = contentType;
  headers['content-length'] = String(body.length);
  return { headers, body };
}

/** Sends the request; resolves with the response once its headers arrive, within `timeoutMs`. */
export function send({ url, method, headers, body, timeoutMs }: Exchange): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const request = (secure ? https : http).request({
      protocol: url.protocol,
      // URL keeps IPv6 literals in brackets; the socket layer wants them bare
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      agent: secure ? agents['https:'] : agents['http:'],
    });
    const timer = setTimeout(() => request.destroy(new HeaderTimeoutError(timeoutMs)), timeoutMs);
    request.once('response', (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    // Also catches socket errors after the response arrived; the body guard reports those.
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}

/** Why an exchange failed before any response, for logs and messages (not yet redacted). */
export function failureReason(error: unknown): string {
  if (error instanceof HeaderTimeoutError) return error.message;
  return `connection error (${(error as NodeJS.ErrnoException).code ?? String((error as Error).message)})`;
}

export function lowerCaseHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

export function parseContentLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}
