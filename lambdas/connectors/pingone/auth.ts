/**
 * Access tokens of a PingOne environment's worker application.
 *
 * 1. `POST {authUrl}/{envId}/as/token` with client credentials, sent as the app's token endpoint
 *    authentication method says (HTTP Basic, or in the form body).
 * 2. Tokens are cached at module scope per environment and client until a minute before they
 *    expire (Lambda containers are reused); `dropToken` forgets one a 401 refused.
 * 3. A refused token request is a VendorAuthError naming the environment and the method.
 */
import { VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import type { HttpResponse } from '../../core/http/index.ts';
import { aboutEnvironment, describeErrorBody, environmentLabel, type PingOneContext } from './environment.ts';
import { normalizeAuthBase, type PingOneCredentials } from './settings.ts';

const TOKEN_EARLY_REFRESH_MS = 60_000;
const DEFAULT_TOKEN_SECONDS = 3600;

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

// Module scope: reused across warm invocations of the same container.
const tokenCache = new Map<string, CachedToken>();

/** Forgets every cached token (tests, through `resetPingOneClientState`). */
export function clearTokenCache(): void {
  tokenCache.clear();
}

export function authBase(ctx: PingOneContext): string {
  return normalizeAuthBase(ctx.settings.authUrl);
}

function basicAuth(credentials: PingOneCredentials): string {
  // RFC 6749 §2.3.1: form-encode both parts before base64.
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(credentials.clientId)}:${encode(credentials.clientSecret)}`).toString('base64')}`;
}

function tokenKey(ctx: PingOneContext, credentials: PingOneCredentials): string {
  return `${authBase(ctx)}|${ctx.tenant.environmentId}|${credentials.clientId}|${ctx.tenant.tokenAuthMethod}`;
}

async function requestToken(ctx: PingOneContext, credentials: PingOneCredentials): Promise<CachedToken> {
  const url = `${authBase(ctx)}/${ctx.tenant.environmentId}/as/token`;
  const method = ctx.tenant.tokenAuthMethod;
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = { accept: 'application/json' };
  const authorization = basicAuth(credentials);
  if (method === 'client_secret_post') {
    form.set('client_id', credentials.clientId);
    form.set('client_secret', credentials.clientSecret);
  } else {
    headers.authorization = authorization;
  }
  const secrets = [credentials.clientSecret, authorization];
  let response: HttpResponse;
  try {
    response = await ctx.http.request({
      method: 'POST',
      url,
      body: form,
      headers,
      operation: 'get access token',
      secrets,
      acceptStatus: [400, 401, 403],
    });
  } catch (error) {
    throw aboutEnvironment(ctx, error, secrets);
  }
  if (response.status >= 400) {
    const said = await describeErrorBody(response, secrets);
    throw new VendorAuthError(
      `pingone ${environmentLabel(ctx)}: the token request was refused (HTTP ${response.status}${said ? ` ${said}` : ''}); expected the client id and secret of a worker application in this environment whose token endpoint authentication method is ${method}`,
    );
  }
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = await response.json();
  } catch (error) {
    throw aboutEnvironment(ctx, error, secrets);
  }
  if (typeof body.access_token !== 'string' || body.access_token.length === 0) {
    throw new VendorRequestError(
      `pingone ${environmentLabel(ctx)}: the token response has no access_token; expected an OAuth 2.0 token response`,
    );
  }
  const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
  // Refresh a minute early, or at half-life for short-lived tokens.
  const margin = Math.min(TOKEN_EARLY_REFRESH_MS, (seconds * 1000) / 2);
  return { token: body.access_token, expiresAt: Date.now() + seconds * 1000 - margin };
}

export async function accessToken(ctx: PingOneContext, fresh: boolean): Promise<{ token: string; cached: boolean }> {
  const credentials = await ctx.credentials();
  const key = tokenKey(ctx, credentials);
  const cached = tokenCache.get(key);
  if (!fresh && cached && cached.expiresAt > Date.now()) return { token: cached.token, cached: true };
  const token = await requestToken(ctx, credentials);
  tokenCache.set(key, token);
  return { token: token.token, cached: false };
}

export function dropToken(ctx: PingOneContext, credentials: PingOneCredentials): void {
  tokenCache.delete(tokenKey(ctx, credentials));
}
