/**
 * The one redaction function every log line and error message goes through: `redact` and
 * `redactUrl` scrub secrets, credentials in URLs and query strings from any text that is about to
 * be logged or put in an error.
 */

export const REDACTED = '[redacted]';

/** `scheme://host[:port]/path`: no userinfo, query string or fragment. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    // Not parseable: cut by hand so nothing after `?` or `#`, and no `user:pass@`, survives.
    const text = String(url);
    const cut = text.search(/[?#]/);
    return (cut === -1 ? text : text.slice(0, cut)).replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)[^/@]*@/i, '$1');
  }
}

// Trailing punctuation belongs to the sentence, not the URL.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*[^\s"'<>`.,;:!?)]/gi;
const BEARER_TOKEN = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
/** a key that names a credential: `access_token`, `clientSecret`, `X-Api-Key`, `password`... */
const CREDENTIAL_KEY = String.raw`[^"=&\s]*(?:token|secret|passw(?:or)?d|api[-_]?key|private[-_]?key)[^"=&\s]*`;
// JSON members that carry credentials, as echoed in some vendors' error bodies.
const CREDENTIAL_MEMBER = new RegExp(String.raw`("${CREDENTIAL_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi');
// The same in a form-encoded body or a query string: `access_token=...&scope=...`.
const CREDENTIAL_PAIR = new RegExp(String.raw`(^|[?&\s])(${CREDENTIAL_KEY})=[^&\s"']+`, 'gi');

/**
 * Replaces every occurrence of each string in `secrets` (as is, URL-encoded, form-encoded and
 * JSON-escaped) with `[redacted]`, reduces URLs to `scheme://host/path` (JSON-escaped ones too),
 * and masks bearer tokens and credential members of JSON and of form-encoded text. Use it on
 * anything that goes into a log line or an error message.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let result = text;
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length === 0) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    needles.add(new URLSearchParams({ s: secret }).toString().slice(2));
    needles.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    result = result.split(needle).join(REDACTED);
  }
  return result
    .replace(/\\\//g, '/') // JSON's escaped slashes, so that `https:\/\/host\/path?sig=...` is seen as a URL
    .replace(URL_IN_TEXT, (url) => redactUrl(url))
    .replace(BEARER_TOKEN, `$1 ${REDACTED}`)
    .replace(CREDENTIAL_MEMBER, `$1"${REDACTED}"`)
    .replace(CREDENTIAL_PAIR, `$1$2=${REDACTED}`);
}
