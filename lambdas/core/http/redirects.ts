/**
 * Redirects are followed by hand, so that each hop passes the host allowlist: GET only, at most
 * five hops, and credential headers are dropped when the origin changes (a pre-signed link on a
 * storage host must not receive the vendor API's token).
 */

export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** headers that carry credentials */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|x-amz-security-token)$|token|secret|password|api[-_]?key|auth/i;

/** Whether a response with a Location is followed: a redirect status, to a GET. */
export function isFollowableRedirect(status: number, method: string): boolean {
  return REDIRECT_STATUSES.has(status) && method === 'GET';
}

/** The next hop's URL, relative locations resolved against `from`; undefined when it cannot be parsed. */
export function resolveLocation(location: string, from: URL): URL | undefined {
  try {
    return new URL(location, from);
  } catch {
    return undefined;
  }
}

/** Removes credential headers (in place) when the hop from `from` to `to` changes origin. */
export function dropCredentialsAcrossOrigins(headers: Record<string, string>, from: URL, to: URL): void {
  if (to.origin === from.origin) return;
  for (const name of Object.keys(headers)) if (CREDENTIAL_HEADER.test(name)) delete headers[name];
}
