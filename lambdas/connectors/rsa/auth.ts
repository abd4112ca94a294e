/**
 * RSA Cloud Administration API authentication with the legacy Administration API key.
 *
 * 1. The key file (`.key`, JSON) is stored whole as the tenant's secret (`RsaCredentialsSchema`
 *    in settings.ts); its `accessKey` is read once per credentials object.
 * 2. Every request carries a fresh RS256 JWT (`sub` = accessID, `aud` = adminRestApiUrl exactly
 *    as in the key file, `iat`, `exp` = iat + 55 min; RSA allows at most 1 hour) as a Bearer token.
 * 3. Request URLs are built from adminRestApiUrl whatever its ending (`/`, `/v1`, `/v1/` or
 *    none): the base is normalised to `.../AdminInterface/restapi`, then `/v1/report/...` is added.
 */
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { type RsaCredentials, readPrivateKey, unescapePem } from './settings.ts';

/** RSA allows 60 minutes; 55 leaves room for clock skew. */
export const JWT_LIFETIME_SECONDS = 55 * 60;
export const DEFAULT_API_PATH = '/AdminInterface/restapi';

const keys = new WeakMap<RsaCredentials, KeyObject>();

function privateKeyOf(credentials: RsaCredentials): KeyObject {
  let key = keys.get(credentials);
  if (!key) {
    key = readPrivateKey(unescapePem(credentials.accessKey));
    if (!key) throw new Error('accessKey is not a readable RSA private key');
    keys.set(credentials, key);
  }
  return key;
}

/** A fresh RS256 JWT for one request. */
export async function signAdminJwt(credentials: RsaCredentials, now: Date): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setSubject(credentials.accessID)
    .setAudience(credentials.adminRestApiUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + JWT_LIFETIME_SECONDS)
    .sign(privateKeyOf(credentials));
}

/**
 * `https://x/AdminInterface/restapi/v1/` → `https://x/AdminInterface/restapi`. A tenant
 * `baseUrl` replaces the scheme, host and port (a proxy, or the simulator) and keeps the path.
 * A key-file URL with no path at all gets RSA's `/AdminInterface/restapi`.
 */
export function apiBase(adminRestApiUrl: string, hostOverride?: string): URL {
  const url = new URL(adminRestApiUrl);
  let path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/i, '').replace(/\/+$/, '');
  if (path === '') path = DEFAULT_API_PATH;
  const origin = hostOverride ? new URL(hostOverride).origin : url.origin;
  return new URL(`${origin}${path}`);
}

export type ReportAction = 'generate' | 'download' | 'generate-and-download';

export function reportUrl(base: URL, report: string, action: ReportAction): URL {
  return new URL(`${base.pathname}/v1/report/${encodeURIComponent(report)}/${action}`, base.origin);
}
