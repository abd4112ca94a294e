/**
 * Reads one closed window of the principal's MFA audit as one NDJSON stream.
 *
 * 1. Pages `POST /csp/gateway/iam/vmwid/api/principal/mfa/audit` with `startDate`/`endDate`
 *    (epoch ms) and `pageStart`/`pageLimit` until a page is empty or shorter than a full page;
 *    `totalResults` ("if available") is only used to split early, never to stop.
 * 2. Results are newest first and offset-paged, so an event arriving while we page shifts items
 *    onto the next page: every eventId already emitted is skipped (a Set of ids, not of events).
 * 3. A window that would page past `maxRecordsPerWindow` records, or that the API refuses with
 *    "Combination of page and size exceeds max limit of records fetch", is halved recursively;
 *    the halves are read oldest first into the same stream.
 * 4. Only events in the day [start, end) are kept: whether the API's `endDate` is inclusive is
 *    undocumented, so the request runs to `end` and the boundary is enforced here.
 * 5. Any failure errors the stream (never a clean end with part of the data); the first page is
 *    read before the stream is handed over, so auth failures surface from `open()`.
 * 6. A window without events is the single line `[]`: the archiver refuses empty files, and an
 *    empty JSON array is zero records.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ArchiveError, VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import { redact } from '../../core/logging.ts';
import type { DownloadedBody } from '../../core/types.ts';
import { accessToken, type CspContext, errorFields, invalidate, joinUrl, type TokenDeps, tenantName } from './auth.ts';
import { AUDIT_PATH, type CspFilters, MAX_FILTER_VALUES, MFA_AUDIT_ACTIONS } from './settings.ts';

export interface Paging {
  readonly pageLimit: number;
  readonly pageStartBase: 0 | 1;
  readonly maxRecordsPerWindow: number;
}

export interface AuditWindow {
  /** epoch ms, inclusive */
  readonly startMs: number;
  /** epoch ms, exclusive */
  readonly endMs: number;
}

export interface AuditRequestBody {
  startDate: number;
  endDate: number;
  pageStart: number;
  pageLimit: number;
  actions?: string[];
  deviceNames?: string[];
  eventIds?: string[];
}

export interface StreamStats {
  pages: number;
  events: number;
  duplicates: number;
  outOfWindow: number;
  splits: number;
}

/** Halving a day reaches single milliseconds after 27 levels. */
const MAX_SPLIT_DEPTH = 40;
const CAP_MESSAGE = /max limit of records/i;
/** The whole file for a window without events. */
export const EMPTY_DAY = '[]\n';

export function requestBody(
  window: AuditWindow,
  pageIndex: number,
  paging: Paging,
  filters: CspFilters,
): AuditRequestBody {
  const body: AuditRequestBody = {
    startDate: window.startMs,
    endDate: window.endMs,
    pageStart: paging.pageStartBase + pageIndex,
    pageLimit: paging.pageLimit,
  };
  if (filters.actions) body.actions = [...filters.actions];
  if (filters.deviceNames) body.deviceNames = [...filters.deviceNames];
  if (filters.eventIds) body.eventIds = [...filters.eventIds];
  return body;
}

/**
 * Every documented 400 reason, checked before sending. Returns what is wrong, or undefined.
 * `cap` is the record cap the request must stay within.
 */
export function unsendableReason(body: AuditRequestBody, nowMs: number, cap: number, base: 0 | 1): string | undefined {
  if (!Number.isSafeInteger(body.startDate) || !Number.isSafeInteger(body.endDate) || body.startDate < 0) {
    return `dates must be epoch milliseconds; received startDate ${body.startDate}, endDate ${body.endDate}`;
  }
  if (body.endDate <= body.startDate) {
    return `end date must be after start date; received ${iso(body.startDate)} to ${iso(body.endDate)}`;
  }
  if (body.startDate > nowMs) return `start date must not be in the future; received ${iso(body.startDate)}`;
  const unknown = body.actions?.filter((a) => !(MFA_AUDIT_ACTIONS as readonly string[]).includes(a)) ?? [];
  if (unknown.length > 0) {
    return `actions must be among ${MFA_AUDIT_ACTIONS.join(', ')}; received ${unknown.join(', ')}`;
  }
  if ((body.eventIds?.length ?? 0) > MAX_FILTER_VALUES) {
    return `at most ${MAX_FILTER_VALUES} event ids; received ${body.eventIds?.length}`;
  }
  if ((body.deviceNames?.length ?? 0) > MAX_FILTER_VALUES) {
    return `at most ${MAX_FILTER_VALUES} device names; received ${body.deviceNames?.length}`;
  }
  const pages = body.pageStart - base + 1;
  if (pages * body.pageLimit > cap) {
    return `pageStart ${body.pageStart} × pageLimit ${body.pageLimit} would pass the record cap of ${cap}`;
  }
  return undefined;
}

const PageSchema = z.object({
  // a serializer that omits empty lists is common: a missing list is an empty page
  results: z.array(z.unknown()).nullish(),
  itemsPerPage: z.number().nullish(),
  startIndex: z.number().nullish(),
  totalResults: z.number().nullish(),
});

type PageAnswer = { readonly kind: 'page'; readonly page: z.infer<typeof PageSchema> } | { readonly kind: 'cap' };

export interface OpenAuditStreamInput {
  readonly day: AuditWindow;
  readonly filters: CspFilters;
  readonly paging: Paging;
}

export async function openAuditStream(
  ctx: CspContext,
  deps: TokenDeps,
  input: OpenAuditStreamInput,
): Promise<DownloadedBody> {
  const chunks = auditChunks(ctx, deps, input);
  const first = await chunks.next();
  async function* all(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    yield* chunks;
  }
  return { body: Readable.from(all(), { objectMode: false }), contentType: 'application/x-ndjson' };
}

/** NDJSON chunks (one page of lines each): `{"tenantLabel": ..., "event": <the API's object>}`. */
/** What one page adds to the stream, and how many of its events this window had not returned yet. */
function pageLines(
  results: readonly unknown[],
  read: {
    day: AuditWindow;
    label: string;
    /** every eventId emitted so far, all windows */
    seen: Set<string>;
    /** every eventId this window returned, emitted or not */
    readHere: Set<string>;
    stats: StreamStats;
  },
): { lines: string[]; fresh: number } {
  const { day, seen, readHere, stats } = read;
  let fresh = 0;
  const lines: string[] = [];
  for (const event of results) {
    const id = eventIdOf(event);
    if (id !== undefined) {
      if (!readHere.has(id)) {
        readHere.add(id);
        fresh++;
      }
      if (seen.has(id)) {
        stats.duplicates++;
        continue;
      }
      seen.add(id);
    } else {
      fresh++; // no id: passed on, and the table's toRecord names the missing field
    }
    const eventDate = eventDateOf(event);
    if (eventDate !== undefined && (eventDate < day.startMs || eventDate >= day.endMs)) {
      stats.outOfWindow++;
      continue;
    }
    lines.push(`${JSON.stringify({ tenantLabel: read.label, event })}\n`);
    stats.events++;
  }
  return { lines, fresh };
}

export async function* auditChunks(
  ctx: CspContext,
  deps: TokenDeps,
  { day, filters, paging }: OpenAuditStreamInput,
): AsyncGenerator<Buffer> {
  const who = tenantName(ctx.tenant);
  const seen = new Set<string>();
  const stats: StreamStats = { pages: 0, events: 0, duplicates: 0, outOfWindow: 0, splits: 0 };
  let cap = paging.maxRecordsPerWindow;

  async function* split(window: AuditWindow, depth: number, why: string): AsyncGenerator<Buffer> {
    if (window.endMs - window.startMs < 2 || depth >= MAX_SPLIT_DEPTH) {
      throw new VendorRequestError(
        `${who}: cannot split ${iso(window.startMs)}..${iso(window.endMs)} further (${why}); ` +
          `expected at most ${cap} events per millisecond`,
      );
    }
    const middle = window.startMs + Math.floor((window.endMs - window.startMs) / 2);
    stats.splits++;
    ctx.logger.info('csp mfa audit window split', {
      windowStart: iso(window.startMs),
      windowEnd: iso(window.endMs),
      reason: why,
      depth: depth + 1,
    });
    yield* readWindow({ startMs: window.startMs, endMs: middle }, depth + 1);
    yield* readWindow({ startMs: middle, endMs: window.endMs }, depth + 1);
  }

  async function* readWindow(window: AuditWindow, depth: number): AsyncGenerator<Buffer> {
    const readHere = new Set<string>();
    for (let pageIndex = 0; ; pageIndex++) {
      if ((pageIndex + 1) * paging.pageLimit > cap) {
        yield* split(window, depth, `page ${pageIndex + 1} would pass the record cap of ${cap}`);
        return;
      }
      const body = requestBody(window, pageIndex, paging, filters);
      const problem = unsendableReason(body, ctx.now().getTime(), cap, paging.pageStartBase);
      if (problem) throw new VendorRequestError(`${who}: refusing to send an MFA audit request: ${problem}`);
      const answer = await fetchPage(ctx, deps, body);
      if (answer.kind === 'cap') {
        const reachable = pageIndex * paging.pageLimit;
        if (reachable < paging.pageLimit) {
          throw new VendorRequestError(
            `${who}: the MFA audit refused the first page as past its record cap; expected a pageLimit below ${paging.pageLimit}`,
          );
        }
        cap = Math.min(cap, reachable);
        yield* split(window, depth, `the API's record cap is ${cap} or less`);
        return;
      }
      stats.pages++;
      const results = answer.page.results ?? [];
      const total = answer.page.totalResults;
      if (pageIndex === 0 && typeof total === 'number' && total > cap) {
        yield* split(window, depth, `totalResults ${total} exceeds the record cap of ${cap}`);
        return;
      }
      const { lines, fresh } = pageLines(results, { day, label: ctx.tenant.label, seen, readHere, stats });
      if (lines.length > 0) yield Buffer.from(lines.join(''), 'utf8');
      const itemsPerPage = answer.page.itemsPerPage;
      const pageSize =
        typeof itemsPerPage === 'number' && itemsPerPage > 0 && itemsPerPage < paging.pageLimit
          ? itemsPerPage
          : paging.pageLimit;
      if (results.length === 0 || results.length < pageSize) return;
      if (fresh === 0) {
        throw new VendorRequestError(
          `${who}: pageStart ${body.pageStart} returned only events this window already returned; ` +
            `expected the next page (check pageStartBase, configured ${paging.pageStartBase})`,
        );
      }
    }
  }

  yield* readWindow(day, 0);
  // the archiver refuses an empty file; an empty JSON array is zero records
  if (stats.events === 0) yield Buffer.from(EMPTY_DAY, 'utf8');
  ctx.logger.info('csp mfa audit window read', { windowStart: iso(day.startMs), windowEnd: iso(day.endMs), ...stats });
}

/** A page whose connection drops mid-body is asked for again this many times, then left to the state machine. */
const CUT_PAGE_RETRIES = 2;

async function fetchPage(ctx: CspContext, deps: TokenDeps, body: AuditRequestBody): Promise<PageAnswer> {
  const who = tenantName(ctx.tenant);
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
      let json: unknown;
      try {
        json = await response.json();
      } catch (error) {
        // a transport failure (dropped connection, short body) is transient, not a malformed page
        if (error instanceof ArchiveError && error.retryable) {
          if (cutPages++ >= CUT_PAGE_RETRIES) throw error;
          ctx.logger.warn('csp mfa audit page cut off; asking again', {
            pageStart: body.pageStart,
            reason: error.message,
          });
          continue;
        }
        throw new VendorRequestError(
          `${who}: the MFA audit answered ${response.status} with a body that is not JSON (${(error as Error).message})`,
        );
      }
      const parsed = PageSchema.safeParse(json);
      if (!parsed.success) {
        throw new VendorRequestError(
          `${who}: the MFA audit answered ${response.status} with ${describe(json)}; expected an object with a results list`,
        );
      }
      return { kind: 'page', page: parsed.data };
    }
    const error = await errorFields(response);
    const { apiToken } = await ctx.credentials();
    const vendorMessage = redact(error.message ?? '', [token, apiToken]);
    const refreshing = response.status === 401 && !refreshed;
    ctx.logger[refreshing ? 'info' : 'warn'](
      refreshing ? 'csp access token refused; refreshing' : 'csp mfa audit request refused',
      {
        status: response.status,
        cspErrorCode: error.cspErrorCode,
        errorCode: error.errorCode,
        moduleCode: error.moduleCode,
        requestId: error.requestId,
        vendorMessage,
        pageStart: body.pageStart,
      },
    );
    const said = `${vendorMessage || 'no message'}; requestId ${error.requestId ?? 'none'}`;
    switch (response.status) {
      case 401:
        if (!refreshed) {
          refreshed = true;
          await invalidate(ctx, deps, token);
          continue;
        }
        throw new VendorAuthError(`${who}: the MFA audit answered 401 (${said}) even with a fresh access token`);
      case 400:
        if (CAP_MESSAGE.test(vendorMessage)) return { kind: 'cap' };
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
}

function eventIdOf(event: unknown): string | undefined {
  const id = (event as { eventId?: unknown } | null)?.eventId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

function eventDateOf(event: unknown): number | undefined {
  const date = (event as { eventDate?: unknown } | null)?.eventDate;
  return typeof date === 'number' && Number.isFinite(date) ? date : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a JSON array';
  return typeof value === 'object' ? 'an object whose paging fields have unexpected types' : `a JSON ${typeof value}`;
}

export function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
