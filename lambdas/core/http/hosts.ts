/**
 * Where a request may go: every request and every redirect hop must name an allowlisted host,
 * over https (plain http only for loopback), without userinfo. Checked before each hop is sent.
 */
import { DisallowedHostError, VendorRequestError } from '../errors.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

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

export interface HopLabel {
  readonly operation: string;
  /** the redacted `host/path` of the hop that redirected here, if any */
  readonly redirectedFrom?: string;
}

/** Throws DisallowedHostError (or VendorRequestError for userinfo) unless `url` may be requested. */
export function checkTarget(url: URL, allowedHosts: readonly string[], { operation, redirectedFrom }: HopLabel): void {
  const via = redirectedFrom === undefined ? '' : ` (redirect from ${redirectedFrom})`;
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
  if (!isAllowedHost(url, allowedHosts)) {
    throw new DisallowedHostError(
      `${operation}: host ${url.host} is not allowed${via}; expected one of: ${allowedHosts.join(', ') || '(none)'}`,
    );
  }
}
