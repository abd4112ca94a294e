/**
 * HTTP client for vendor APIs and downloads, on `node:http`/`node:https` with keep-alive agents
 * (bodies are Node streams: downloads can be gigabytes).
 *
 * 1. Every request and every redirect hop must go to an allowlisted host, over https (plain http
 *    only for loopback). Redirects are followed by hand (GET only, at most 5); credential headers
 *    are dropped when the origin changes.
 * 2. Each attempt has a deadline for the response headers; the body has an idle timeout, and a
 *    body that ends before `content-length` errors instead of ending cleanly.
 * 3. Connection errors, timeouts and 5xx are retried with exponential backoff and full jitter.
 *    A 429 with a short Retry-After is retried inline; a long one is raised as
 *    VendorThrottledError so the state machine waits instead of the Lambda.
 * 4. Everything logged or put in an error goes through `redact`: no query strings, userinfo,
 *    credential headers or the request's `secrets`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DisallowedHostError,
  VendorAuthError,
  VendorRequestError,
  VendorThrottledError,
  VendorUnavailableError,
} from './errors.ts';
import { redact, redactUrl } from './logging.ts';
import type { DownloadedBody } from './types.ts';

export { redactUrl } from './logging.ts';

export interface HttpRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** raw body; for forms pass URLSearchParams (sets the form content type) */
  readonly body?: string | Buffer | URLSearchParams;
  /** JSON body (sets `content-type: application/json`) */
  readonly json?: unknown;
  /**
   * Statuses returned to the caller instead of raising (for vendor codes with a meaning, such as
   * RSA's 425 or PingOne's 404). 2xx are always returned.
   */
  readonly acceptStatus?: readonly number[];
  /** short label for logs and errors, e.g. `create report` */
  readonly operation: string;
  /** strings that must never appear in logs or errors (tokens, keys); query strings are always redacted */
  readonly secrets?: readonly string[];
  readonly timeoutMs?: number;
  /** retries for 5xx, connection errors and short 429s; default from the client options */
  readonly maxRetries?: number;
}

export interface HttpResponse {
  readonly status: number;
  /** lower-case header names */
  readonly headers: Readonly<Record<string, string>>;
  /** the final URL after redirects, query string included: do not log it (use `redactUrl`) */
  readonly url: string;
  /** the body as a stream; read it once, with one of body/text/json (or destroy it) */
  readonly body: Readable;
  /**
   * The body as text. For an error status the caller accepted (4xx/5xx in `acceptStatus`) it comes
   * through `redact` with the request's `secrets`: such bodies end up in error messages, and a
   * vendor may repeat the credential it refused.
   */
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /**
   * GET a file (for example a pre-signed URL): allowlisted host only, no Authorization header
   * unless given, query string never logged. Non-2xx statuses not in `acceptStatus` raise.
   */
  download(
    url: string | URL,
    options: { operation: string; headers?: Readonly<Record<string, string>>; secrets?: readonly string[] },
  ): Promise<DownloadedBody>;
}

export interface HttpClientOptions {
  /** hosts requests may go to: exact names (default port), `host:port`, or `*.suffix` (subdomains only) */
  readonly allowedHosts: readonly string[];
  readonly logger?: Logger;
  /** per attempt, until response headers; also the longest pause allowed between body chunks; default 30 s */
  readonly timeoutMs?: number;
  /** default 4 */
  readonly maxRetries?: number;
  /** backoff base and cap (full jitter); default 200 ms and 10 s */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** a 429 whose Retry-After exceeds this is raised as VendorThrottledError for the state machine to wait; default 20 s */
  readonly maxInlineRetryAfterSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** clock for HTTP-date Retry-After values; default `() => new Date()` */
  readonly now?: () => Date;
  /** jitter source in [0, 1); default Math.random */
  readonly random?: () => number;
}

const MAX_REDIRECTS = 5;
const TEXT_LIMIT_BYTES = 1024 * 1024;
const ERROR_BODY_CHARS = 300;
const ERROR_BODY_READ_BYTES = 8 * 1024;
const JSON_PREVIEW_CHARS = 100;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** headers that carry credentials: dropped when a redirect changes origin */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|x-amz-security-token)$|token|secret|password|api[-_]?key|auth/i;
const USER_AGENT = 'identity-report-archive';

// Module scope: sockets are reused across requests and across warm invocations.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
} as const;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface HostEntry {
  readonly wildcard: boolean;
  readonly hostname: string;
  readonly port?: string;
}

function parseHostEntry(entry: string): HostEntry | undefined {
  const match = /^(\*\.)?(\[[0-9a-f:.]+\]|[^:/[\]]+)(?::(\d{1,5}))?$/i.exec(entry.trim());
  if (!match?.[2]) return undefined;
  return { wildcard: match[1] !== undefined, hostname: match[2].toLowerCase(), port: match[3] };
}

/**
 * Whether `url`'s host is in `allowedHosts`. An entry without a port matches the scheme's default
 * port only; `*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com`.
 */
export function isAllowedHost(url: string | URL, allowedHosts: readonly string[]): boolean {
  const target = typeof url === 'string' ? new URL(url) : url;
  const hostname = target.hostname.toLowerCase();
  return allowedHosts.some((raw) => {
    const entry = parseHostEntry(raw);
    if (!entry) return false;
    const defaultPort = target.protocol === 'http:' ? '80' : '443';
    const port = target.port || defaultPort;
    if (port !== (entry.port ?? defaultPort)) return false;
    return entry.wildcard ? hostname.endsWith(`.${entry.hostname}`) : hostname === entry.hostname;
  });
}

/** Raised inside an attempt when the response headers do not arrive in time. */
class HeaderTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no response headers within ${timeoutMs} ms`);
  }
}

interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly timeoutMs: number;
}

function send({ url, method, headers, body, timeoutMs }: Exchange): Promise<http.IncomingMessage> {
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

interface BodyGuard {
  readonly idleMs: number;
  /** bytes promised by `content-length`, if any */
  readonly expectedBytes?: number;
  readonly describe: string;
  readonly operation: string;
}

/**
 * Wraps a response so that a stalled body, a lost connection or a body shorter than
 * `content-length` errors the stream with VendorUnavailableError. The idle timer runs only while
 * the consumer is asking for data, so a slow consumer is not blamed on the vendor.
 */
function guardBody(response: http.IncomingMessage, guard: BodyGuard): Readable {
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
  response.on('end', () => {
    disarm();
    if (guard.expectedBytes !== undefined && received < guard.expectedBytes) fail(incomplete());
    else out.push(null);
  });
  response.on('error', () => fail(incomplete()));
  response.on('close', () => {
    if (!response.complete && !out.destroyed) fail(incomplete());
  });
  return out;
}

async function readCapped(body: Readable, limitBytes: number, onOverflow: () => Error): Promise<Buffer> {
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

function lowerCaseHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

function parseContentLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/** RFC 9110's HTTP-date forms: IMF-fixdate, the obsolete RFC 850 form and asctime. */
const HTTP_DATE = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/**
 * Seconds to wait from a `Retry-After` value: whole seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined for anything else (`Date.parse` would read "-1" or "soon 1" as a date long past).
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!HTTP_DATE.some((form) => form.test(trimmed))) return undefined;
  const at = Date.parse(trimmed.endsWith('GMT') ? trimmed : `${trimmed} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

function prepareBody(request: HttpRequest, headers: Record<string, string>): Buffer | undefined {
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
  if (body === undefined) return undefined;
  if (contentType && headers['content-type'] === undefined) headers['content-type'] = contentType;
  headers['content-length'] = String(body.length);
  return body;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const logger = options.logger;
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  const defaultMaxRetries = options.maxRetries ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const maxInlineRetryAfterSeconds = options.maxInlineRetryAfterSeconds ?? 20;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;

  const backoffMs = (retry: number) => Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1)));

  async function execute(request: HttpRequest): Promise<HttpResponse> {
    const { operation } = request;
    const secrets = request.secrets ?? [];
    const scrub = (text: string) => redact(text, secrets);
    // `host/path` for error messages, `scheme://host/path` for logs
    const where = (url: URL) => scrub(`${url.host}${url.pathname}`);
    const logUrl = (url: URL) => scrub(redactUrl(url));
    const maxRetries = request.maxRetries ?? defaultMaxRetries;
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
    const accepted = new Set(request.acceptStatus ?? []);
    const method = request.method ?? 'GET';

    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
    const body = prepareBody(request, headers);

    const check = (url: URL, redirectedFrom?: URL) => {
      const via = redirectedFrom ? ` (redirect from ${where(redirectedFrom)})` : '';
      if (url.username || url.password) {
        throw new VendorRequestError(
          `${operation}: expected a URL without credentials; received one with userinfo for host ${url.host}${via}`,
        );
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new DisallowedHostError(
          `${operation}: expected an https URL; received ${url.protocol} for ${url.host}${via}`,
        );
      }
      if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname.toLowerCase())) {
        throw new DisallowedHostError(
          `${operation}: expected https for host ${url.host}${via}; plain http is allowed only for loopback hosts`,
        );
      }
      if (!isAllowedHost(url, options.allowedHosts)) {
        throw new DisallowedHostError(
          `${operation}: host ${url.host} is not allowed${via}; expected one of: ${options.allowedHosts.join(', ') || '(none)'}`,
        );
      }
    };

    /** The first 300 characters of an error body, redacted; reading it takes at most the timeout. */
    const errorSnippet = async (response: http.IncomingMessage, url: URL): Promise<string> => {
      const stream = guardBody(response, { idleMs: timeoutMs, describe: where(url), operation });
      // A body that trickles in never goes idle: the whole read has a deadline too.
      const deadline = setTimeout(() => stream.destroy(new Error('error body too slow')), timeoutMs);
      const chunks: Buffer[] = [];
      let size = 0;
      let cut = false;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= ERROR_BODY_READ_BYTES) {
            cut = true;
            break;
          }
        }
      } catch {
        cut = true; // best effort: the status is the news, the body is a hint
      } finally {
        clearTimeout(deadline);
      }
      let text = scrub(Buffer.concat(chunks).toString('utf8')).replace(/\s+/g, ' ').trim();
      if (cut) {
        // A secret straddling the cut would survive redaction as a prefix: drop that tail.
        const longest = Math.max(0, ...secrets.map((s) => encodeURIComponent(s).length));
        text = text.slice(0, Math.max(0, text.length - longest));
      }
      if (text.length === 0) return '<empty>';
      return text.length > ERROR_BODY_CHARS ? `${text.slice(0, ERROR_BODY_CHARS)}…` : text;
    };

    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new VendorRequestError(`${operation}: expected an absolute URL; received one that cannot be parsed`);
    }
    let redirectedFrom: URL | undefined;
    let redirects = 0;
    let attempt = 1;

    const retryAfterDelay = async (reason: string, delayMs: number) => {
      logger?.warn('retrying http request', {
        operation,
        method,
        url: logUrl(url),
        reason: scrub(reason),
        attempt,
        maxRetries,
        delayMs,
      });
      await sleep(delayMs);
      attempt += 1;
    };

    for (;;) {
      check(url, redirectedFrom);
      const started = performance.now();
      let response: http.IncomingMessage;
      try {
        response = await send({ url, method, headers, body, timeoutMs });
      } catch (error) {
        const reason =
          error instanceof HeaderTimeoutError
            ? error.message
            : `connection error (${(error as NodeJS.ErrnoException).code ?? scrub(String((error as Error).message))})`;
        logger?.debug('http request', {
          operation,
          method,
          url: logUrl(url),
          error: scrub(reason),
          attempt,
          durationMs: Math.round(performance.now() - started),
        });
        if (attempt <= maxRetries) {
          await retryAfterDelay(reason, backoffMs(attempt));
          continue;
        }
        throw new VendorUnavailableError(
          `${operation} failed: ${scrub(reason)} from ${where(url)} after ${attempt} attempt${attempt === 1 ? '' : 's'}`,
        );
      }

      const status = response.statusCode ?? 0;
      logger?.debug('http request', {
        operation,
        method,
        url: logUrl(url),
        status,
        attempt,
        durationMs: Math.round(performance.now() - started),
      });
      const responseHeaders = lowerCaseHeaders(response.headers);
      const attempts = `after ${attempt} attempt${attempt === 1 ? '' : 's'}`;

      if ((status >= 200 && status < 300) || accepted.has(status)) {
        return toResponse(response, status, responseHeaders, url);
      }

      if (REDIRECT_STATUSES.has(status) && method === 'GET' && responseHeaders.location !== undefined) {
        response.destroy();
        if (redirects >= MAX_REDIRECTS) {
          throw new VendorRequestError(
            `${operation} failed: more than ${MAX_REDIRECTS} redirects, the last from ${where(url)}`,
          );
        }
        let next: URL;
        try {
          next = new URL(responseHeaders.location, url);
        } catch {
          throw new VendorRequestError(
            `${operation} failed: HTTP ${status} from ${where(url)} with an unparseable Location`,
          );
        }
        if (next.origin !== url.origin) {
          for (const name of Object.keys(headers)) if (CREDENTIAL_HEADER.test(name)) delete headers[name];
        }
        redirectedFrom = url;
        url = next;
        redirects += 1;
        continue;
      }

      if (status === 429) {
        const retryAfter = parseRetryAfter(responseHeaders['retry-after'], now());
        if (attempt <= maxRetries && (retryAfter === undefined || retryAfter <= maxInlineRetryAfterSeconds)) {
          response.destroy();
          await retryAfterDelay('HTTP 429', retryAfter === undefined ? backoffMs(attempt) : retryAfter * 1000);
          continue;
        }
        const hint = retryAfter === undefined ? '' : `; retry after ${retryAfter} s`;
        const when = attempt > 1 ? ` ${attempts}` : '';
        throw new VendorThrottledError(
          `${operation} failed: HTTP 429 from ${where(url)}${when}${hint} (body: ${await errorSnippet(response, url)})`,
          retryAfter,
        );
      }

      if (status >= 500) {
        if (attempt <= maxRetries) {
          response.destroy();
          await retryAfterDelay(`HTTP ${status}`, backoffMs(attempt));
          continue;
        }
        throw new VendorUnavailableError(
          `${operation} failed: HTTP ${status} from ${where(url)} ${attempts} (body: ${await errorSnippet(response, url)})`,
        );
      }

      const message = `${operation} failed: HTTP ${status} from ${where(url)} (body: ${await errorSnippet(response, url)})`;
      if (status === 401 || status === 403) throw new VendorAuthError(message);
      throw new VendorRequestError(message);
    }

    function toResponse(
      response: http.IncomingMessage,
      status: number,
      responseHeaders: Record<string, string>,
      finalUrl: URL,
    ): HttpResponse {
      const noBody = status === 204 || status === 304;
      const stream = guardBody(response, {
        idleMs: timeoutMs,
        expectedBytes: noBody ? undefined : parseContentLength(responseHeaders['content-length']),
        describe: where(finalUrl),
        operation,
      });
      let read = false;
      const text = async () => {
        if (read) throw new Error(`${operation}: the response body was already read`);
        read = true;
        const bytes = await readCapped(
          stream,
          TEXT_LIMIT_BYTES,
          () =>
            new VendorRequestError(
              `expected a response of at most ${TEXT_LIMIT_BYTES} bytes from ${operation}; received more (stream large bodies from \`body\`)`,
            ),
        );
        const body = bytes.toString('utf8');
        return status >= 400 ? scrub(body) : body;
      };
      return {
        status,
        headers: responseHeaders,
        url: finalUrl.href,
        body: stream,
        text,
        async json<T>() {
          const raw = await text();
          try {
            return JSON.parse(raw) as T;
          } catch {
            const preview = scrub(raw).replace(/\s+/g, ' ').trim().slice(0, JSON_PREVIEW_CHARS);
            throw new VendorRequestError(
              `expected JSON from ${operation}; received ${responseHeaders['content-type'] ?? 'no content type'} starting with ${JSON.stringify(preview)}`,
            );
          }
        },
      };
    }
  }

  return {
    request: execute,
    async download(url, { operation, headers, secrets }) {
      const response = await execute({ method: 'GET', url, operation, headers, secrets });
      return {
        body: response.body,
        contentType: response.headers['content-type'],
        contentLength: parseContentLength(response.headers['content-length']),
      };
    },
  };
}
