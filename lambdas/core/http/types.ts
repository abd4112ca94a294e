/**
 * The HTTP client's contract: what a request may say, what comes back, and the client's options.
 * It imports nothing from `core/types.ts`, so that file can name `HttpClient` without a cycle.
 */
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import type { Logger } from '@aws-lambda-powertools/logger';

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

/** A downloaded file as a stream, with what its headers said about it. */
export interface DownloadedBody {
  readonly body: Readable;
  readonly contentType?: string;
  readonly contentLength?: number;
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
  /** resolves host names; default the system resolver (a test gives one that answers as DNS would) */
  readonly lookup?: LookupFunction;
}
