/**
 * API token → access token, cached per tenant.
 *
 * 1. `POST /csp/gateway/am/api/auth/api-tokens/authorize` with the form `api_token=<token>`.
 * 2. The access token is kept in memory until shortly before `expires_in` runs out; a 401 from
 *    the audit endpoint drops it (`invalidate`) and the caller asks once more.
 * 3. An invalid token (400 `invalid_grant`) is a VendorAuthError naming the tenant and its label.
 *    The vendor's message is not copied: it echoes part of the token.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ArchiveError, VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import type { ConnectorContext } from '../../core/types.ts';
import { AUTHORIZE_PATH, type CspCredentials, type CspSection, type CspTenant } from './settings.ts';

export type CspContext = ConnectorContext<CspTenant, CspCredentials, CspSection>;

const AccessTokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
});

/** [UNKNOWN] lifetime assumed when `expires_in` is missing (documented lifetime: 30 minutes). */
const FALLBACK_EXPIRES_IN_SECONDS = 300;
const MAX_REFRESH_MARGIN_SECONDS = 60;

export interface CachedAccessToken {
  readonly accessToken: string;
  /** epoch ms after which a new token is fetched */
  readonly refreshAt: number;
}

export interface TokenDeps {
  readonly cache: Map<string, CachedAccessToken>;
  /** wall clock for token lifetimes (not the run's "now", which may be a replayed schedule time) */
  readonly clock: () => number;
}

export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

export function tenantName(tenant: Pick<CspTenant, 'id' | 'label'>): string {
  return `csp tenant "${tenant.id}" (${tenant.label})`;
}

function cacheKey(ctx: CspContext, apiToken: string): string {
  const digest = createHash('sha256').update(apiToken).digest('hex');
  return `${ctx.baseUrl}|${ctx.tenant.id}|${digest}`;
}

export async function accessToken(ctx: CspContext, deps: TokenDeps): Promise<string> {
  const { apiToken } = await ctx.credentials();
  const key = cacheKey(ctx, apiToken);
  const cached = deps.cache.get(key);
  if (cached && deps.clock() < cached.refreshAt) return cached.accessToken;
  deps.cache.delete(key);
  const fresh = await exchange(ctx, apiToken, deps.clock);
  deps.cache.set(key, fresh);
  return fresh.accessToken;
}

/** Drops the cached token if it is still the one that was refused. */
export async function invalidate(ctx: CspContext, deps: TokenDeps, refused: string): Promise<void> {
  const { apiToken } = await ctx.credentials();
  const key = cacheKey(ctx, apiToken);
  if (deps.cache.get(key)?.accessToken === refused) deps.cache.delete(key);
}

async function exchange(ctx: CspContext, apiToken: string, clock: () => number): Promise<CachedAccessToken> {
  const who = tenantName(ctx.tenant);
  const started = clock();
  const response = await ctx.http.request({
    method: 'POST',
    url: joinUrl(ctx.baseUrl, AUTHORIZE_PATH),
    body: new URLSearchParams({ api_token: apiToken }),
    headers: { accept: 'application/json' },
    operation: 'csp authorize api token',
    secrets: [apiToken],
    acceptStatus: [400, 401, 403, 404],
  });
  if (response.status !== 200) {
    const error = await errorFields(response);
    ctx.logger.warn('csp api token refused', { status: response.status, moduleCode: error.moduleCode });
    if (response.status === 400 && !/invalid_grant/i.test(error.message ?? '') && error.message !== undefined) {
      throw new VendorRequestError(
        `${who}: the token exchange answered 400 (moduleCode ${error.moduleCode ?? 'none'}); expected an access token`,
      );
    }
    throw new VendorAuthError(
      `${who}: the API token was refused (${response.status}${response.status === 400 ? ' invalid_grant' : ''}); ` +
        "expected a valid, unexpired API token of that user: generate a new one and update the tenant's secret",
    );
  }
  let parsed: z.infer<typeof AccessTokenResponseSchema>;
  try {
    parsed = AccessTokenResponseSchema.parse(await response.json());
  } catch (error) {
    // a transport failure (dropped connection, short body) stays transient for the state machine
    if (error instanceof ArchiveError && error.retryable) throw error;
    // the body carries tokens: say what was wrong, not what was received
    throw new VendorRequestError(`${who}: the token exchange answered 200 without an access_token and expires_in`);
  }
  const expiresIn = parsed.expires_in ?? FALLBACK_EXPIRES_IN_SECONDS;
  const margin = Math.min(MAX_REFRESH_MARGIN_SECONDS, expiresIn / 10);
  ctx.logger.debug('csp access token issued', { expiresInSeconds: expiresIn });
  return { accessToken: parsed.access_token, refreshAt: started + (expiresIn - margin) * 1000 };
}

export interface CspErrorFields {
  readonly message?: string;
  readonly cspErrorCode?: string;
  readonly errorCode?: string;
  readonly moduleCode?: number;
  readonly requestId?: string;
  readonly statusCode?: number;
}

const CspErrorSchema = z
  .object({
    message: z.string().optional().catch(undefined),
    cspErrorCode: z.coerce.string().optional().catch(undefined),
    errorCode: z.coerce.string().optional().catch(undefined),
    moduleCode: z.number().optional().catch(undefined),
    requestId: z.string().optional().catch(undefined),
    statusCode: z.number().optional().catch(undefined),
  })
  .catch({});

/** The documented error body; tolerant of anything else (an HTML page, an empty body). */
export async function errorFields(response: { text(): Promise<string> }): Promise<CspErrorFields> {
  const text = await response.text().catch(() => '');
  try {
    return CspErrorSchema.parse(JSON.parse(text));
  } catch {
    return {};
  }
}
