/**
 * PingOne entries mode (`deliverAs: ENTRIES`): the report as paged JSON, for small environments.
 *
 * 1. Follows `_links.next` from `.../entries` page by page, each page spaced like every
 *    dataExplorations call (one per 5 s per environment), as NDJSON into the same table.
 * 2. The first page is read before the stream is handed over, so an expired exploration restarts
 *    instead of failing the archive step; paging stops at `entries.deadlineSeconds`.
 */
import { Readable } from 'node:stream';
import { DeadlineExceededError, MalformedJsonError, VendorRequestError } from '../../core/errors.ts';
import type { FetchResult, ReportRequest, ReportSource } from '../../core/types.ts';
import { type CallState, callDataExplorations, readJsonObject } from './client.ts';
import { environmentLabel, type PingOneContext } from './environment.ts';
import { explorationUrl, type JobState, requestParameters, restart } from './job.ts';

interface EntriesPage {
  readonly entries: unknown[];
  readonly next?: string;
}

function parsePage(ctx: PingOneContext, body: Record<string, unknown>, page: number): EntriesPage {
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
  return parsePage(ctx, await readJsonObject(ctx, response, operation), page);
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
  async function* pages(): AsyncGenerator<Buffer> {
    yield ndjson(first.entries);
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
      yield ndjson(page.entries);
      next = page.next;
    }
    ctx.logger.info('mfa report entries read', { pages: stats.pages, entries: stats.entries });
  }
  let opened = false;
  const source: ReportSource = {
    fileName: 'mfa-devices-entries.jsonl',
    role: 'data',
    async open() {
      if (opened) throw new Error('the entries stream was already opened');
      opened = true;
      return { body: Readable.from(pages(), { objectMode: false }), contentType: 'application/x-ndjson' };
    },
  };
  ctx.logger.info('mfa report entries opened', { report: request.report, explorationId: state.explorationId });
  return {
    status: 'FETCHED',
    sources: [source],
    requestParameters: { ...requestParameters(ctx), pageLimit: limit },
    job: { dataExplorationId: state.explorationId ?? null, createdAt: state.createdAt ?? null, deliverAs: 'ENTRIES' },
  };
}
