/**
 * Talking to RSA's report endpoints for one tenant: a signed request per call, the documented
 * error statuses returned to the caller, and errors that explain themselves.
 *
 * 1. Every request carries a fresh RS256 JWT (auth.ts); the statuses RSA gives a meaning to
 *    (400, 403, 404, 425, 429) are returned, anything else non-2xx raises in the HTTP client.
 * 2. 403 is read: "MFA tracking is turned off" fails with VendorRequestError, anything else with
 *    VendorAuthError (key, role or clock).
 */
import { DisallowedHostError, VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import { errorSnippet, type HttpResponse } from '../../core/http/index.ts';
import type { ConnectorContext, ReportRequest } from '../../core/types.ts';
import { apiBase, type ReportAction, reportUrl, signAdminJwt } from './auth.ts';
import type { RsaCredentials, RsaSection, RsaTenant } from './settings.ts';

export type RsaContext = ConnectorContext<RsaTenant, RsaCredentials, RsaSection>;

/** Statuses RSA gives a meaning to; anything else non-2xx raises in the HTTP client. */
const MEANINGFUL_STATUSES = [400, 403, 404, 425, 429] as const;
const ERROR_BODY_CHARS = 200;

export interface Call {
  readonly response: HttpResponse;
  readonly url: URL;
  readonly jwt: string;
}

/** One signed request to a report endpoint; the documented error statuses are returned, not raised. */
export async function callRsa(ctx: RsaContext, request: ReportRequest, action: ReportAction): Promise<Call> {
  // Errors pass through as raised: the credentials step names the field, and a throttled
  // Secrets Manager must stay retryable.
  const credentials = await ctx.credentials();
  const url = reportUrl(apiBase(credentials.adminRestApiUrl, ctx.tenant.baseUrl), request.report, action);
  const jwt = await signAdminJwt(credentials, ctx.now());
  const method = action === 'generate' ? 'POST' : 'GET';
  try {
    const response = await ctx.http.request({
      method,
      url,
      headers: {
        authorization: `Bearer ${jwt}`,
        accept: action === 'generate' ? 'application/json' : 'application/octet-stream, text/csv, */*',
      },
      // The docs say "empty payload"; an explicit empty body sends content-length: 0, not chunked.
      ...(method === 'POST' ? { body: '' } : {}),
      acceptStatus: MEANINGFUL_STATUSES,
      operation: `rsa ${action} ${request.report}`,
      secrets: [jwt],
    });
    return { response, url, jwt };
  } catch (error) {
    if (error instanceof Error && error.name === 'DisallowedHostError' && !error.message.includes('redirect')) {
      throw new DisallowedHostError(
        `the host ${url.host} of RSA tenant "${ctx.tenant.id}" (from the key file's adminRestApiUrl${ctx.tenant.baseUrl ? ' and the tenant baseUrl' : ''}) is not allowed: add it to the config as vendors.rsa.baseUrl, the tenant's baseUrl or an entry of vendors.rsa.downloadHosts`,
      );
    }
    throw error;
  }
}

export async function bodyText(response: HttpResponse, jwt: string): Promise<string> {
  try {
    return errorSnippet(await response.text(), [jwt], ERROR_BODY_CHARS);
  } catch {
    return '';
  }
}

export async function drain(response: HttpResponse): Promise<void> {
  try {
    await response.text();
  } catch {
    // the status is the news; a broken body of an error answer changes nothing
  }
}

const MFA_TRACKING_OFF = /mfa\s*tracking[^.]{0,40}?\b(turned\s*off|off|disabled|not\s+enabled)\b/i;

/** 403: MFA tracking off (a tenant setting) or refused credentials. Always throws. */
export async function refused(
  ctx: RsaContext,
  request: ReportRequest,
  call: Call,
  action: ReportAction,
): Promise<never> {
  const body = await bodyText(call.response, call.jwt);
  const shown = body === '' ? '<empty>' : body;
  if (MFA_TRACKING_OFF.test(body)) {
    ctx.logger.error('rsa mfa tracking is off', { report: request.report, action, status: 403 });
    throw new VendorRequestError(
      `MFA tracking is turned off for tenant ${ctx.tenant.id}: RSA answered 403 to ${action} ${request.report} (body: ${shown}); ` +
        'a Super Administrator must turn MFA tracking on in the Cloud Administration Console before this report can be archived',
    );
  }
  ctx.logger.error('rsa refused the credentials', { report: request.report, action, status: 403 });
  throw new VendorAuthError(
    `RSA refused the request for tenant ${ctx.tenant.id}: HTTP 403 to ${action} ${request.report} (body: ${shown}); ` +
      'expected a valid JWT from an Administration API key of a Super Administrator or Help Desk Administrator: check the key file ' +
      '(accessID, accessKey, adminRestApiUrl; a regenerated key replaces the old one) and the clock',
  );
}

export async function unexpected(call: Call, action: ReportAction, report: string, documented: string): Promise<never> {
  const body = await bodyText(call.response, call.jwt);
  throw new VendorRequestError(
    `rsa ${action} ${report}: expected HTTP ${documented}; received ${call.response.status} (body: ${body === '' ? '<empty>' : body})`,
  );
}
