/**
 * One request to the principal MFA audit: its body as received, and what it says.
 *
 * 1. The body is read as bytes first (they are the archived original), then parsed.
 * 2. A page whose connection drops mid-body is asked for again a few times: transport failures
 *    are transient, a body that is not JSON is not.
 * 3. A 401 refreshes the access token once; the documented 400 "Combination of page and size
 *    exceeds max limit of records fetch" is an answer (`cap`), not an error; another 400 is one
 *    too when the caller is probing (`refused`), e.g. `pageStart` 0 on a 1-based server.
 */
import { z } from 'zod';
import { ArchiveError, VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import { redact } from '../../core/logging.ts';
import { readPageBytes } from '../../core/paged-sources.ts';
import { accessToken, type CspContext, errorFields, invalidate, joinUrl, type TokenDeps, tenantName } from './auth.ts';
import { AUDIT_PATH, type CspFilters } from './settings.ts';

export interface AuditRequestBody {
  startDate: number;
  endDate: number;
  pageStart: number;
  pageLimit: number;
  actions?: string[];
  deviceNames?: string[];
  eventIds?: string[];
}

export const PageSchema = z.object({
  // a serializer that omits empty lists is common: a missing list is an empty page
  results: z.array(z.unknown()).nullish(),
  itemsPerPage: z.number().nullish(),
  startIndex: z.number().nullish(),
  totalResults: z.number().nullish(),
});

export type AuditPage = z.infer<typeof PageSchema>;

export type PageAnswer =
  | { readonly kind: 'page'; readonly page: AuditPage; readonly raw: Buffer; readonly contentType?: string }
  | { readonly kind: 'cap' }
  | { readonly kind: 'refused'; readonly said: string };

/** A page whose connection drops mid-body is asked for again this many times, then left to the state machine. */
const CUT_PAGE_RETRIES = 2;
/** Far above a page of 1000 events; a larger answer is not a page. */
const MAX_PAGE_BYTES = 64 * 1024 * 1024;
const CAP_MESSAGE = /max limit of records/i;

export function requestBody(
  window: { startMs: number; endMs: number },
  pageStart: number,
  pageLimit: number,
  filters: CspFilters,
): AuditRequestBody {
  const body: AuditRequestBody = { startDate: window.startMs, endDate: window.endMs, pageStart, pageLimit };
  if (filters.actions) body.actions = [...filters.actions];
  if (filters.deviceNames) body.deviceNames = [...filters.deviceNames];
  if (filters.eventIds) body.eventIds = [...filters.eventIds];
  return body;
}

export async function fetchPage(
  ctx: CspContext,
  deps: TokenDeps,
  body: AuditRequestBody,
  options: { readonly probing?: boolean } = {},
): Promise<PageAnswer> {
  let cutPages = 0;
  let refreshed = false;
  for (;;) {
    const token = await accessToken(ctx, deps);
    const response = await ctx.http.request({
      method: 'POST',
      url: joinUrl(ctx.baseUrl, AUDIT_PATH),
      headers: { 'csp-auth-token': token, accept: 'application/json' },
      json: body,
      operation: 'csp mfa audit page',
      secrets: [token],
      acceptStatus: [400, 401, 403, 404, 409],
    });
    if (response.status >= 200 && response.status < 300) {
      let raw: Buffer;
      try {
        raw = await readPageBytes(response.body, MAX_PAGE_BYTES, 'an MFA audit page');
      } catch (error) {
        // a transport failure (dropped connection, short body) is transient, not a malformed page
        if (!(error instanceof ArchiveError && error.retryable) || cutPages++ >= CUT_PAGE_RETRIES) throw error;
        ctx.logger.warn('csp mfa audit page cut off; asking again', {
          pageStart: body.pageStart,
          reason: error.message,
        });
        continue;
      }
      return {
        kind: 'page',
        page: parsePage(ctx, response.status, raw),
        raw,
        contentType: response.headers['content-type'],
      };
    }
    const refusal = await refusalOf(ctx, response, { token, body, refreshed, probing: options.probing === true });
    if (refusal === 'refresh') {
      refreshed = true;
      await invalidate(ctx, deps, token);
      continue;
    }
    return refusal;
  }
}

function parsePage(ctx: CspContext, status: number, raw: Buffer): AuditPage {
  const who = tenantName(ctx.tenant);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new VendorRequestError(
      `${who}: the MFA audit answered ${status} with a body that is not JSON (${(error as Error).message})`,
    );
  }
  const parsed = PageSchema.safeParse(json);
  if (!parsed.success) {
    throw new VendorRequestError(
      `${who}: the MFA audit answered ${status} with ${describe(json)}; expected an object with a results list`,
    );
  }
  return parsed.data;
}

/** A refused request: an answer the pager acts on, 'refresh' (once, for a 401), or a thrown named error. */
async function refusalOf(
  ctx: CspContext,
  response: { status: number; text(): Promise<string> },
  request: { token: string; body: AuditRequestBody; refreshed: boolean; probing: boolean },
): Promise<PageAnswer | 'refresh'> {
  const who = tenantName(ctx.tenant);
  const error = await errorFields(response);
  const { apiToken } = await ctx.credentials();
  const vendorMessage = redact(error.message ?? '', [request.token, apiToken]);
  const refreshing = response.status === 401 && !request.refreshed;
  ctx.logger[refreshing ? 'info' : 'warn'](
    refreshing ? 'csp access token refused; refreshing' : 'csp mfa audit request refused',
    {
      status: response.status,
      cspErrorCode: error.cspErrorCode,
      errorCode: error.errorCode,
      moduleCode: error.moduleCode,
      requestId: error.requestId,
      vendorMessage,
      pageStart: request.body.pageStart,
    },
  );
  const said = `${vendorMessage || 'no message'}; requestId ${error.requestId ?? 'none'}`;
  switch (response.status) {
    case 401:
      if (refreshing) return 'refresh';
      throw new VendorAuthError(`${who}: the MFA audit answered 401 (${said}) even with a fresh access token`);
    case 400:
      if (CAP_MESSAGE.test(vendorMessage)) return { kind: 'cap' };
      if (request.probing) return { kind: 'refused', said };
      throw new VendorRequestError(`${who}: the MFA audit refused the request (400: ${said})`);
    case 403:
      throw new VendorAuthError(
        `${who}: the MFA audit answered 403 (${said}); expected a user's API token: service accounts ` +
          '(client credentials applications) are refused',
      );
    case 404:
      throw new VendorAuthError(`${who}: the MFA audit answered 404 (${said}): no user owns this API token any more`);
    default:
      throw new VendorRequestError(`${who}: the MFA audit answered ${response.status} (${said})`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a JSON array';
  return typeof value === 'object' ? 'an object whose paging fields have unexpected types' : `a JSON ${typeof value}`;
}
