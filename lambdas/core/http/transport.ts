/**
 * One HTTP exchange on `node:http`/`node:https` with keep-alive agents: encode the request, send
 * it, and wait (with a deadline) for the response headers. No retries, redirects or checks here,
 * but a parser error that follows a complete response is kept for the body guard (`TrailingBytes`).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
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

/**
 * Bytes after the end of a response body. Node stops reading a body at its Content-Length (or
 * its last chunk) and ends the response cleanly; bytes after it that arrive while the response is
 * being read fail the parser on the *request* instead (HPE_INVALID_CONSTANT on a kept-alive
 * socket, HPE_CLOSED_CONNECTION after `Connection: close`). That can happen within the socket
 * read that carried the headers, before anyone reads the body, so the failure is kept here until
 * the body guard asks. Bytes that arrive only after the body was read reach an idle pooled socket,
 * and Node drops them unseen.
 */
export class TrailingBytes {
  private error?: Error;
  private listener?: (error: Error) => void;

  /** the request's parser error, after its response was complete */
  report(error: Error): void {
    if (this.error) return;
    this.error = error;
    this.listener?.(error);
  }

  /** Calls `listener` once: now, if the bytes came already, or when they come. */
  watch(listener: (error: Error) => void): void {
    this.listener = listener;
    if (this.error) listener(this.error);
  }
}

/** A response whose headers arrived, and the watch on what follows its body. */
export interface SentResponse {
  readonly response: http.IncomingMessage;
  readonly trailing: TrailingBytes;
}

export interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly timeoutMs: number;
  readonly lookup?: LookupFunction;
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
export function send({ url, method, headers, body, timeoutMs, lookup }: Exchange): Promise<SentResponse> {
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
      ...(lookup ? { lookup } : {}),
    });
    const timer = setTimeout(() => request.destroy(new HeaderTimeoutError(timeoutMs)), timeoutMs);
    const trailing = new TrailingBytes();
    let received: http.IncomingMessage | undefined;
    request.once('response', (response) => {
      clearTimeout(timer);
      received = response;
      resolve({ response, trailing });
    });
    // Also catches socket errors after the response arrived: the body guard reports a connection
    // lost mid-body from the response itself, and bytes after a complete body from `trailing`.
    request.on('error', (error) => {
      clearTimeout(timer);
      if (received?.complete && isParserError(error)) trailing.report(error);
      reject(error);
    });
    request.end(body);
  });
}

/** llhttp's errors carry `HPE_*` codes; socket errors carry errno codes. */
function isParserError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code.startsWith('HPE_');
}

/** Why an exchange failed before any response, for logs and messages (not yet redacted). */
export function failureReason(error: unknown): string {
  if (error instanceof HeaderTimeoutError) return error.message;
  return `connection error (${errnoCode(error) ?? String((error as Error).message)})`;
}

/** The socket's errno code (`ENOTFOUND`, `ECONNREFUSED`, `EAI_AGAIN`...), when the error has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
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
