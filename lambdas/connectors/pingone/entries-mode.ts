/**
 * PingOne entries mode (`deliverAs: ENTRIES`): the report as paged JSON, for small environments.
 *
 * 1. Follows `_links.next` from `.../entries` page by page, each page spaced like every
 *    dataExplorations call (one per 5 s per environment).
 * 2. One pass feeds two sources (`core/paged-sources.ts`): the page bodies exactly as received
 *    (the original, `json-pages`, one manifest entry per page) and the entries as NDJSON (derived:
 *    parsed into the same table as file mode, not stored).
 * 3. The first page is read before the sources are handed over, so an expired exploration
 *    restarts instead of failing the archive step; paging stops at `entries.deadlineSeconds`.
 */
import { DeadlineExceededError, MalformedJsonError, VendorRequestError } from '../../core/errors.ts';
import { type PassPage, pagedSources, readPageBytes } from '../../core/paged-sources.ts';
import type { FetchResult, ReportRequest } from '../../core/types.ts';
import { type CallState, callDataExplorations } from './client.ts';
import { environmentLabel, type PingOneContext } from './environment.ts';
import { explorationUrl, type JobState, requestParameters, restart } from './job.ts';

interface EntriesPage {
  readonly entries: unknown[];
  readonly next?: string;
  /** the body as received */
  readonly raw: Buffer;
}

/** Far above a page of 1000 entries; a larger answer is not a page. */
const MAX_PAGE_BYTES = 64 * 1024 * 1024;

function parsePage(ctx: PingOneContext, raw: Buffer, page: number): EntriesPage {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new VendorRequestError(
      `pingone ${environmentLabel(ctx)}: entries page ${page}: expected JSON (${(error as Error).message})`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new VendorRequestError(`pingone ${environmentLabel(ctx)}: entries page ${page}: expected a JSON object`);
  }
  return { ...pageFields(ctx, body as Record<string, unknown>, page), raw };
}

function pageFields(ctx: PingOneContext, body: Record<string, unknown>, page: number): Omit<EntriesPage, 'raw'> {
  const embedded = body._embedded as { entries?: unknown } | undefined;
  const entries = embedded?.entries ?? body.entries;
  if (!Array.isArray(entries)) {
    throw new MalformedJsonError(
      `pingone ${environmentLabel(ctx)}: entries page ${page}: expected an array at _embedded.entries or entries`,
    );
  }
  const next = (body._links as { next?: { href?: unknown } } | undefined)?.next?.href;
  return { entries, ...(typeof next === 'string' && next.length > 0 ? { next } : {}) };
}

async function getPage(
  ctx: PingOneContext,
  state: CallState,
  url: string,
  page: number,
): Promise<EntriesPage | 'GONE'> {
  const operation = 'get mfa report entries';
  const response = await callDataExplorations(ctx, state, { method: 'GET', url, operation, acceptStatus: [404] });
  if (response.status === 404) {
    response.body.destroy();
    return 'GONE';
  }
  return parsePage(ctx, await readPageBytes(response.body, MAX_PAGE_BYTES, `entries page ${page}`), page);
}

function ndjson(entries: readonly unknown[]): Buffer {
  let text = '';
  for (const [index, entry] of entries.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new MalformedJsonError(`entry ${index + 1} of a page is not a JSON object`);
    }
    text += `${JSON.stringify(entry)}\n`;
  }
  return Buffer.from(text, 'utf8');
}

export async function fetchEntries(ctx: PingOneContext, request: ReportRequest, state: JobState): Promise<FetchResult> {
  const limit = ctx.settings.entries.pageLimit;
  const deadlineMs = ctx.settings.entries.deadlineSeconds * 1000;
  const startedAt = Date.now();
  const firstUrl = `${explorationUrl(ctx, state.explorationId as string, '/entries')}?limit=${limit}`;
  // The first page now, so an expired exploration restarts instead of failing the archive step.
  const firstPage = await getPage(ctx, state, firstUrl, 1);
  if (firstPage === 'GONE') {
    return restart(state, `dataExploration ${state.explorationId} is gone (HTTP 404); requesting the report again`);
  }
  const first: EntriesPage = firstPage;
  const env = environmentLabel(ctx);
  const spacing: CallState = { ...(state.lastCallAt ? { lastCallAt: state.lastCallAt } : {}) };
  const stats = { pages: 1, entries: first.entries.length };
  const named = (page: EntriesPage, n: number): PassPage => ({
    name: n === 1 ? `page 1: entries?limit=${limit}` : `page ${n}: _links.next of page ${n - 1}`,
    raw: page.raw,
    derived: ndjson(page.entries),
  });
  async function* pages(): AsyncGenerator<PassPage> {
    yield named(first, 1);
    const visited = new Set<string>([firstUrl]);
    let next = first.next;
    while (next !== undefined) {
      if (visited.has(next)) {
        throw new VendorRequestError(`pingone ${env}: entries page ${stats.pages} links back to a page already read`);
      }
      visited.add(next);
      if (Date.now() - startedAt > deadlineMs) {
        throw new DeadlineExceededError(
          `pingone ${env}: entries paging stopped after ${stats.pages} pages (${stats.entries} entries) and ${Math.round(deadlineMs / 1000)} s; one page per ${ctx.settings.callIntervalMs} ms is too slow for this environment: use deliverAs ASYNC_FILE`,
        );
      }
      // `next` is followed verbatim (an absolute URL with a cursor); `callDataExplorations` checks its origin.
      const page = await getPage(ctx, spacing, next, stats.pages + 1);
      if (page === 'GONE') {
        throw new VendorRequestError(
          `pingone ${env}: dataExploration expired while reading entries page ${stats.pages + 1}`,
        );
      }
      stats.pages += 1;
      stats.entries += page.entries.length;
      yield named(page, stats.pages);
      next = page.next;
    }
    ctx.logger.info('mfa report entries read', { pages: stats.pages, entries: stats.entries });
  }
  let started = false;
  const sources = pagedSources({
    derivedFileName: 'mfa-devices-entries.jsonl',
    originalFileName: 'mfa-devices-entries.pages.json',
    contentType: 'application/json',
    async start() {
      if (started) throw new Error('the entries pages were already read');
      started = true;
      // entries mode drops nothing: every entry of every page is a row
      return { pages: pages(), dropped: () => ({}) };
    },
  });
  ctx.logger.info('mfa report entries opened', { report: request.report, explorationId: state.explorationId });
  return {
    status: 'FETCHED',
    sources,
    requestParameters: { ...requestParameters(ctx), pageLimit: limit },
    job: { dataExplorationId: state.explorationId ?? null, createdAt: state.createdAt ?? null, deliverAs: 'ENTRIES' },
  };
}
