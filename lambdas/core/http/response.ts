/**
 * The response handed to callers: the body behind the body guard, to be read once as a stream,
 * as text (at most 1 MiB) or as JSON. An accepted error status's text comes back redacted.
 */
import type { IncomingMessage } from 'node:http';
import { VendorRequestError } from '../errors.ts';
import { guardBody, readCapped } from './body-guard.ts';
import { preview, type RequestRedaction } from './redaction.ts';
import { parseContentLength, type TrailingBytes } from './transport.ts';
import type { HttpResponse } from './types.ts';

const TEXT_LIMIT_BYTES = 1024 * 1024;
const JSON_PREVIEW_CHARS = 100;

export interface Received {
  readonly response: IncomingMessage;
  /** bytes after the end of the body, once they come */
  readonly trailing: TrailingBytes;
  readonly status: number;
  /** lower-case names */
  readonly headers: Record<string, string>;
  /** the final URL, after redirects */
  readonly url: URL;
}

export interface ReadContext {
  readonly operation: string;
  readonly redaction: RequestRedaction;
  /** the body's idle timeout */
  readonly timeoutMs: number;
}

export function toHttpResponse(
  { response, trailing, status, headers, url }: Received,
  context: ReadContext,
): HttpResponse {
  const { operation, redaction } = context;
  const noBody = status === 204 || status === 304;
  const stream = guardBody(response, {
    idleMs: context.timeoutMs,
    expectedBytes: noBody ? undefined : parseContentLength(headers['content-length']),
    describe: redaction.where(url),
    operation,
    trailing,
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
    return status >= 400 ? redaction.text(body) : body;
  };
  return {
    status,
    headers,
    url: url.href,
    body: stream,
    text,
    async json<T>() {
      const raw = await text();
      try {
        return JSON.parse(raw) as T;
      } catch {
        const start = preview(raw, redaction.secrets, JSON_PREVIEW_CHARS);
        throw new VendorRequestError(
          `expected JSON from ${operation}; received ${headers['content-type'] ?? 'no content type'} starting with ${JSON.stringify(start)}`,
        );
      }
    },
  };
}
