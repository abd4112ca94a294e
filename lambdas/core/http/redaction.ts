/**
 * Everything the client puts in a log line or an error message goes through here: no query
 * strings, userinfo, credential headers or the request's `secrets` (see `redact` in logging.ts).
 */
import { redact, redactUrl } from '../logging.ts';

/** How many characters of a vendor's error body an error message quotes by default. */
export const ERROR_SNIPPET_CHARS = 300;

/** `text` redacted and on one line (each run of whitespace becomes one space). */
function flatten(text: string, secrets: readonly string[]): string {
  return redact(text, secrets).replace(/\s+/g, ' ').trim();
}

/**
 * A vendor's error body as quoted in an error message: redacted first, then cut to `max`
 * characters with `…` (cut first, a secret split in two would no longer be recognised); '' for
 * a blank body.
 *
 * `partial`: `text` is only the start of the body, so a secret may straddle its end and survive
 * redaction as a prefix; the last characters that could hold such a prefix are dropped.
 */
export function errorSnippet(
  text: string,
  secrets: readonly string[] = [],
  max = ERROR_SNIPPET_CHARS,
  { partial = false }: { readonly partial?: boolean } = {},
): string {
  let flat = flatten(text, secrets);
  if (partial) {
    const longest = Math.max(0, ...secrets.map((secret) => encodeURIComponent(secret).length));
    flat = flat.slice(0, Math.max(0, flat.length - longest));
  }
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The first `max` characters of `text`, redacted and on one line, for "starting with ..." messages. */
export function preview(text: string, secrets: readonly string[], max: number): string {
  return flatten(text, secrets).slice(0, max);
}

/** The redactions one request needs, bound to its secrets. */
export interface RequestRedaction {
  readonly secrets: readonly string[];
  readonly text: (text: string) => string;
  /** `host/path`, for error messages */
  readonly where: (url: URL) => string;
  /** `host[:port]`, for messages about the host itself */
  readonly host: (url: URL) => string;
  /** `scheme://host/path`, for logs */
  readonly logUrl: (url: URL) => string;
}

export function requestRedaction(secrets: readonly string[]): RequestRedaction {
  const text = (value: string) => redact(value, secrets);
  return {
    secrets,
    text,
    where: (url) => text(`${url.host}${url.pathname}`),
    host: (url) => text(url.host),
    logUrl: (url) => text(redactUrl(url)),
  };
}
