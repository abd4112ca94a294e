/**
 * HTTP client for vendor APIs and downloads (bodies are Node streams: downloads can be gigabytes).
 *
 * Each attempt: check the target host (hosts.ts), send the request (transport.ts), ask
 * `decideNext` (retry-decision.ts) what comes next, and carry it out: hand back the response behind
 * the body guard (response.ts), follow the redirect (redirects.ts), sleep and retry, or throw the
 * named error quoting the start of the body. Logs and errors go through redaction.ts.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { VendorRequestError } from '../errors.ts';
import { guardBody, readStart } from './body-guard.ts';
import { checkTarget } from './hosts.ts';
import { ERROR_SNIPPET_CHARS, errorSnippet, requestRedaction } from './redaction.ts';
import { dropCredentialsAcrossOrigins } from './redirects.ts';
import { type ReadContext, toHttpResponse } from './response.ts';
import { decideNext, errorFor, type RetryPolicy } from './retry-decision.ts';
import {
  encodeRequest,
  errnoCode,
  failureReason,
  lowerCaseHeaders,
  parseContentLength,
  send,
  type TrailingBytes,
} from './transport.ts';
import type { HttpClient, HttpClientOptions, HttpRequest, HttpResponse } from './types.ts';

/** How much of an error body is read to quote its start. */
const ERROR_BODY_READ_BYTES = 8 * 1024;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The client's options, with the injectable clock, sleep and jitter source resolved. */
interface Client {
  readonly options: HttpClientOptions;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
  readonly random: () => number;
}

/** One request's fixed parts, worked out before its first attempt. */
interface Call extends ReadContext {
  readonly method: string;
  /** redirects to another origin drop credential headers from it */
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly policy: RetryPolicy;
}

/** An attempt's outcome, with the response when there is one. */
type Sent =
  | {
      readonly response: IncomingMessage;
      readonly trailing: TrailingBytes;
      readonly status: number;
      readonly headers: Record<string, string>;
    }
  | { readonly response?: undefined; readonly failure: string; readonly code?: string };

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const client: Client = {
    options,
    sleep: options.sleep ?? defaultSleep,
    now: options.now ?? (() => new Date()),
    random: options.random ?? Math.random,
  };
  return {
    request: (request) => execute(client, request),
    async download(url, { operation, headers, secrets }) {
      const response = await execute(client, { method: 'GET', url, operation, headers, secrets });
      return {
        body: response.body,
        contentType: response.headers['content-type'],
        contentLength: parseContentLength(response.headers['content-length']),
      };
    },
  };
}

/** The loop: one decision per attempt, carried out. Redirects do not count as attempts. */
async function execute(client: Client, request: HttpRequest): Promise<HttpResponse> {
  const call = prepare(client.options, request);
  const { operation, method, redaction } = call;
  let url = parseRequestUrl(request);
  let redirectedFrom: URL | undefined;
  let redirects = 0;
  let attempt = 1;
  for (;;) {
    const label = { operation, redirectedFrom: redirectedFrom && redaction.where(redirectedFrom) };
    checkTarget(url, client.options.allowedHosts, label);
    const sent = await attemptOnce(client, call, url, attempt);
    const where = redaction.where(url);
    const host = redaction.host(url);
    const state = { result: sent, method, url, attempt, redirects, operation, where, host };
    const decision = decideNext({ ...state, now: client.now(), jitter: client.random() }, call.policy);
    switch (decision.kind) {
      case 'return':
        if (sent.response === undefined) throw new Error(`${operation}: a failed attempt has no response to return`);
        return toHttpResponse({ ...sent, url }, call);
      case 'throw': {
        const quoted = decision.quoteBody && sent.response ? await quoteBody(call, sent.response, url) : undefined;
        sent.response?.destroy();
        throw errorFor(decision, quoted);
      }
      case 'redirect':
        sent.response?.destroy();
        dropCredentialsAcrossOrigins(call.headers, url, decision.to);
        redirectedFrom = url;
        url = decision.to;
        redirects += 1;
        break;
      case 'retry':
        sent.response?.destroy();
        client.options.logger?.warn('retrying http request', {
          operation,
          method,
          url: redaction.logUrl(url),
          reason: redaction.text(decision.reason),
          attempt,
          maxRetries: call.policy.maxRetries,
          delayMs: decision.delayMs,
        });
        await client.sleep(decision.delayMs);
        attempt += 1;
    }
  }
}

function prepare(options: HttpClientOptions, request: HttpRequest): Call {
  const { headers, body } = encodeRequest(request);
  return {
    operation: request.operation,
    method: request.method ?? 'GET',
    redaction: requestRedaction(request.secrets ?? []),
    timeoutMs: request.timeoutMs ?? options.timeoutMs ?? 30_000,
    headers,
    body,
    policy: {
      maxRetries: request.maxRetries ?? options.maxRetries ?? 4,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      maxInlineRetryAfterSeconds: options.maxInlineRetryAfterSeconds ?? 20,
      acceptStatus: new Set(request.acceptStatus ?? []),
    },
  };
}

function parseRequestUrl(request: HttpRequest): URL {
  try {
    return new URL(request.url);
  } catch {
    throw new VendorRequestError(`${request.operation}: expected an absolute URL; received one that cannot be parsed`);
  }
}

/** Sends once; a failure before any response (refused, reset, header timeout) is an outcome, not a throw. */
async function attemptOnce(client: Client, call: Call, url: URL, attempt: number): Promise<Sent> {
  const { operation, method, redaction } = call;
  const started = performance.now();
  const log = (outcome: { status: number } | { error: string }) =>
    client.options.logger?.debug('http request', {
      operation,
      method,
      url: redaction.logUrl(url),
      ...outcome,
      attempt,
      durationMs: Math.round(performance.now() - started),
    });
  try {
    const { response, trailing } = await send({
      url,
      method,
      headers: call.headers,
      body: call.body,
      timeoutMs: call.timeoutMs,
      lookup: client.options.lookup,
    });
    const status = response.statusCode ?? 0;
    log({ status });
    return { response, trailing, status, headers: lowerCaseHeaders(response.headers) };
  } catch (error) {
    const failure = redaction.text(failureReason(error));
    log({ error: failure });
    return { failure, code: errnoCode(error) };
  }
}

/** The start of an error body, redacted, for the error message; reading it takes at most the timeout. */
async function quoteBody(call: ReadContext, response: IncomingMessage, url: URL): Promise<string> {
  const { operation, redaction, timeoutMs } = call;
  const stream = guardBody(response, { idleMs: timeoutMs, describe: redaction.where(url), operation });
  // best effort: the status is the news, the body is a hint
  const start = await readStart(stream, ERROR_BODY_READ_BYTES, timeoutMs);
  const text = start.bytes.toString('utf8');
  return errorSnippet(text, redaction.secrets, ERROR_SNIPPET_CHARS, { partial: !start.complete }) || '<empty>';
}
