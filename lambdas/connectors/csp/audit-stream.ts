/**
 * Reads one closed window of the principal's MFA audit: every page body as received (the
 * original) and the events as NDJSON (the derived table input), in one paging pass.
 *
 * 1. Pages `POST /csp/gateway/iam/vmwid/api/principal/mfa/audit` with `startDate`/`endDate`
 *    (epoch ms) and `pageStart`/`pageLimit`, stepping by what the answers say `pageStart` means
 *    (`paging.ts`: 0- or 1-based, a result index or a page number), until a page is short.
 * 2. Results are newest first and offset-paged, so an event arriving while we page shifts items
 *    onto the next page: every eventId already emitted is dropped from the NDJSON and counted
 *    (`duplicate_event_id`); the page bodies keep it, as the vendor sent it.
 * 3. When a window's first page gives `totalResults`, the distinct events read must add up to it
 *    (IncompleteReportError otherwise): a window is never archived short.
 * 4. Record cap: a window that would page past the cap (configured, or learned from the
 *    documented 400 "Combination of page and size exceeds max limit of records fetch") is halved
 *    recursively, halves read oldest first; a cap refused on a window's first page halves the
 *    page size instead, down to one record.
 * 5. Only events in the day [start, end) reach the NDJSON (`outside_window` counts the rest):
 *    whether the API's `endDate` is inclusive is undocumented.
 * 6. A window without events is the NDJSON `[]`: the archiver refuses empty files, and an empty
 *    JSON array is zero records.
 */
import { IncompleteReportError, VendorRequestError } from '../../core/errors.ts';
import { type PassPage, pagedSources } from '../../core/paged-sources.ts';
import type { ReportSource } from '../../core/types.ts';
import { type AuditPage, type AuditRequestBody, fetchPage, requestBody } from './audit-page.ts';
import { type CspContext, type TokenDeps, tenantName } from './auth.ts';
import { decideReading, offsetOf, type Probe, type Reading, startIndexProblem } from './paging.ts';
import { type CspFilters, MAX_FILTER_VALUES, MFA_AUDIT_ACTIONS } from './settings.ts';

export interface Paging {
  readonly pageLimit: number;
  readonly maxRecordsPerWindow: number;
}

export interface AuditWindow {
  /** epoch ms, inclusive */
  readonly startMs: number;
  /** epoch ms, exclusive */
  readonly endMs: number;
}

export interface StreamStats {
  pages: number;
  events: number;
  duplicates: number;
  outOfWindow: number;
  splits: number;
}

export interface OpenAuditStreamInput {
  readonly day: AuditWindow;
  readonly filters: CspFilters;
  readonly paging: Paging;
}

/** Halving a day reaches single milliseconds after 27 levels. */
const MAX_SPLIT_DEPTH = 40;
/** The whole NDJSON for a window without events. */
export const EMPTY_DAY = '[]\n';

/** Every documented 400 reason about dates and filters, checked before sending. Returns what is wrong, or undefined. */
export function unsendableReason(body: AuditRequestBody, nowMs: number): string | undefined {
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
  return undefined;
}

/**
 * The day as two sources fed by one paging pass: the derived NDJSON (`mfa-audit-<date>.ndjson`)
 * and the page bodies as received (`mfa-audit-<date>.pages.json`).
 */
export function auditSources(
  ctx: CspContext,
  deps: TokenDeps,
  input: OpenAuditStreamInput & { readonly date: string },
): [derived: ReportSource, original: ReportSource] {
  return pagedSources({
    derivedFileName: `mfa-audit-${input.date}.ndjson`,
    originalFileName: `mfa-audit-${input.date}.pages.json`,
    contentType: 'application/json',
    async start() {
      const pager = new AuditPager(ctx, deps, input);
      return { pages: pager.pages(), trailer: () => pager.trailer(), dropped: () => pager.dropped() };
    },
  });
}

/** What one window has read so far. */
interface WindowRead {
  readonly window: AuditWindow;
  /** every eventId this window returned, emitted or not */
  readonly readHere: Set<string>;
  pageStart: number;
  /** the window's first page, once read: what the next page is compared with */
  first?: Probe;
  anchor: number;
  pageSize: number;
  total?: number;
  /** the result position the pages read so far reach (pages cover 0..end without a gap) */
  end: number;
  /** events of the last page this window had not returned before */
  fresh: number;
}

export class AuditPager {
  readonly stats: StreamStats = { pages: 0, events: 0, duplicates: 0, outOfWindow: 0, splits: 0 };
  /** every eventId emitted so far, all windows */
  private readonly seen = new Set<string>();
  /** learned once per run: where a window's first page is, and what `pageStart` counts */
  private readonly learned: { anchor?: 0 | 1; reading?: Reading } = {};
  private pageLimit: number;
  private cap: number;
  private readonly who: string;

  constructor(
    private readonly ctx: CspContext,
    private readonly deps: TokenDeps,
    private readonly input: OpenAuditStreamInput,
  ) {
    this.cap = input.paging.maxRecordsPerWindow;
    this.pageLimit = Math.min(input.paging.pageLimit, this.cap);
    this.who = tenantName(ctx.tenant);
  }

  async *pages(): AsyncGenerator<PassPage> {
    const { day } = this.input;
    yield* this.readWindow(day, 0);
    this.ctx.logger.info('csp mfa audit window read', {
      windowStart: iso(day.startMs),
      windowEnd: iso(day.endMs),
      reading: this.learned.reading ?? 'not needed',
      pageStartBase: this.learned.anchor,
      pageLimit: this.pageLimit,
      ...this.stats,
    });
  }

  /** The archiver refuses an empty file; an empty JSON array is zero records. */
  trailer(): Buffer {
    return Buffer.from(this.stats.events === 0 ? EMPTY_DAY : '', 'utf8');
  }

  dropped(): Record<string, number> {
    const dropped: Record<string, number> = {};
    if (this.stats.duplicates > 0) dropped.duplicate_event_id = this.stats.duplicates;
    if (this.stats.outOfWindow > 0) dropped.outside_window = this.stats.outOfWindow;
    return dropped;
  }

  private async *readWindow(window: AuditWindow, depth: number): AsyncGenerator<PassPage> {
    const here: WindowRead = {
      window,
      readHere: new Set(),
      pageStart: this.learned.anchor ?? 0,
      anchor: this.learned.anchor ?? 0,
      pageSize: this.pageLimit,
      end: 0,
      fresh: 0,
    };
    for (;;) {
      const limit = this.pageLimit;
      const offset = here.first ? offsetOf(this.learned.reading, here.pageStart, here.anchor, here.pageSize) : 0;
      if (here.first && offset + limit > this.cap) {
        yield* this.split(window, depth, `pageStart ${here.pageStart} would pass the record cap of ${this.cap}`);
        return;
      }
      const probing = !here.first && this.learned.anchor === undefined && here.pageStart === 0;
      const answer = await fetchPage(this.ctx, this.deps, this.body(window, here.pageStart, limit), { probing });
      if (answer.kind === 'refused') {
        // `pageStart` 0 refused: a 1-based server
        this.learned.anchor = 1;
        here.anchor = 1;
        here.pageStart = 1;
        continue;
      }
      if (answer.kind === 'cap') {
        if (!here.first) {
          this.narrowPage(limit);
          continue;
        }
        this.cap = Math.min(this.cap, offset + limit - 1);
        yield* this.split(window, depth, `the API's record cap is ${this.cap} or less`);
        return;
      }
      yield this.passPage(here, limit, answer.raw, answer.page);
      const next = this.afterPage(here, answer.page, limit);
      if (next === 'split') {
        yield* this.split(window, depth, `totalResults ${here.total} exceeds the record cap of ${this.cap}`);
        return;
      }
      if (next === 'done') break;
      here.pageStart = next;
    }
    this.checkTotal(here);
  }

  private body(window: AuditWindow, pageStart: number, pageLimit: number): AuditRequestBody {
    const body = requestBody(window, pageStart, pageLimit, this.input.filters);
    const problem = unsendableReason(body, this.ctx.now().getTime());
    if (problem) throw new VendorRequestError(`${this.who}: refusing to send an MFA audit request: ${problem}`);
    return body;
  }

  /** The API refused a window's first page as past its cap: a smaller page, or a loud failure. */
  private narrowPage(limit: number): void {
    if (limit <= 1) {
      throw new VendorRequestError(
        `${this.who}: the MFA audit refused a first page of one record as past its record cap; expected at least one record to be reachable`,
      );
    }
    this.cap = Math.min(this.cap, limit - 1);
    this.pageLimit = Math.max(1, Math.floor(limit / 2));
    this.ctx.logger.info('csp mfa audit page size narrowed', { from: limit, to: this.pageLimit });
  }

  /** What the page adds to both streams. */
  private passPage(here: WindowRead, limit: number, raw: Buffer, page: AuditPage): PassPage {
    this.stats.pages++;
    const { window } = here;
    const { lines, fresh } = pageLines(page.results ?? [], {
      day: this.input.day,
      label: this.ctx.tenant.label,
      seen: this.seen,
      readHere: here.readHere,
      stats: this.stats,
    });
    here.fresh = fresh;
    return {
      name: `page ${this.stats.pages}: ${iso(window.startMs)}..${iso(window.endMs)} pageStart=${here.pageStart} pageLimit=${limit}`,
      raw,
      derived: Buffer.from(lines.join(''), 'utf8'),
    };
  }

  /** The next `pageStart`, or whether the window is read or must be split. */
  private afterPage(here: WindowRead, page: AuditPage, limit: number): number | 'done' | 'split' {
    const results = page.results ?? [];
    const probe: Probe = { pageStart: here.pageStart, ...startIndexOf(page), ids: results.map(eventIdOf) };
    if (typeof page.totalResults === 'number') here.total = page.totalResults;
    if (!here.first) {
      this.anchorAt(here, probe);
      here.first = probe;
      const served = typeof page.itemsPerPage === 'number' && page.itemsPerPage > 0 ? page.itemsPerPage : limit;
      here.pageSize = Math.min(limit, served);
      if (here.total !== undefined && here.total > this.cap) return 'split';
    } else if (this.learned.reading === undefined) {
      // an empty second page ends the window whatever pageStart counts: nothing to learn from it
      if (results.length === 0) return 'done';
      const decided = decideReading(here.first, probe, here.pageSize);
      if (decided.kind === 'same-page') return this.reanchor(here, probe);
      if (decided.kind === 'unknown') {
        throw new VendorRequestError(`${this.who}: cannot tell what pageStart counts: ${decided.why}`);
      }
      this.learned.reading = decided.reading;
      this.ctx.logger.info('csp mfa audit pageStart reading learned', { reading: decided.reading, base: here.anchor });
    } else {
      if (results.length >= here.pageSize && here.fresh === 0) {
        throw new VendorRequestError(
          `${this.who}: pageStart ${here.pageStart} returned only events this window already returned; expected the next results`,
        );
      }
      const problem = startIndexProblem(this.learned.reading, {
        ...probe,
        anchor: here.anchor,
        anchorStartIndex: here.first.startIndex,
        pageSize: here.pageSize,
      });
      if (problem) throw new VendorRequestError(`${this.who}: the MFA audit did not begin where asked: ${problem}`);
    }
    const offset = offsetOf(this.learned.reading, here.pageStart, here.anchor, here.pageSize);
    here.end = Math.max(here.end, offset + results.length);
    if (results.length < here.pageSize) return 'done';
    if (here.total !== undefined && here.end >= here.total) return 'done';
    return here.pageStart + (this.learned.reading === 'index' ? here.pageSize : 1);
  }

  /** The window's first page fixes the run's base: a 1-based server reads 0 as 1 and may say so. */
  private anchorAt(here: WindowRead, first: Probe): void {
    if (this.learned.anchor !== undefined) return;
    if (here.pageStart === 0 && first.startIndex === 1) {
      here.anchor = 1;
      here.pageStart = 1;
    } else if (first.startIndex !== undefined && first.startIndex !== here.pageStart) {
      throw new VendorRequestError(
        `${this.who}: pageStart ${here.pageStart} answered startIndex ${first.startIndex}; expected ${here.pageStart}`,
      );
    }
    this.learned.anchor = here.anchor === 1 ? 1 : 0;
  }

  /** `pageStart` 0 and 1 gave the same page: the server is 1-based and clamps; the next page decides. */
  private reanchor(here: WindowRead, probe: Probe): number {
    if (here.anchor === 1) {
      throw new VendorRequestError(
        `${this.who}: pageStart ${here.pageStart} returned the same page as pageStart ${here.anchor}; expected the next results`,
      );
    }
    this.learned.anchor = 1;
    here.anchor = 1;
    here.first = probe;
    return 2;
  }

  /**
   * A window read to its end must reach what `totalResults` said: its pages cover result positions
   * 0..end without a gap, each result archived or counted as dropped.
   */
  private checkTotal(here: WindowRead): void {
    if (here.total === undefined || here.end === here.total) return;
    throw new IncompleteReportError(
      `${this.who}: window ${iso(here.window.startMs)}..${iso(here.window.endMs)}: the MFA audit reported ` +
        `totalResults ${here.total} but its pages reached ${here.end} results (${here.readHere.size} distinct events); expected them to add up`,
    );
  }

  private async *split(window: AuditWindow, depth: number, why: string): AsyncGenerator<PassPage> {
    if (window.endMs - window.startMs < 2 || depth >= MAX_SPLIT_DEPTH) {
      throw new VendorRequestError(
        `${this.who}: cannot split ${iso(window.startMs)}..${iso(window.endMs)} further (${why}); ` +
          `expected at most ${this.cap} events per millisecond`,
      );
    }
    const middle = window.startMs + Math.floor((window.endMs - window.startMs) / 2);
    this.stats.splits++;
    this.ctx.logger.info('csp mfa audit window split', {
      windowStart: iso(window.startMs),
      windowEnd: iso(window.endMs),
      reason: why,
      depth: depth + 1,
    });
    yield* this.readWindow({ startMs: window.startMs, endMs: middle }, depth + 1);
    yield* this.readWindow({ startMs: middle, endMs: window.endMs }, depth + 1);
  }
}

/** What one page adds to the NDJSON: `{"tenantLabel": ..., "event": <the API's object>}` lines. */
function pageLines(
  results: readonly unknown[],
  read: {
    day: AuditWindow;
    label: string;
    seen: Set<string>;
    readHere: Set<string>;
    stats: StreamStats;
  },
): { lines: string[]; fresh: number } {
  const { day, seen, readHere, stats } = read;
  const lines: string[] = [];
  let fresh = 0;
  for (const event of results) {
    const id = eventIdOf(event);
    if (id !== undefined) {
      if (!readHere.has(id)) fresh++;
      readHere.add(id);
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

function startIndexOf(page: AuditPage): { startIndex?: number } {
  return typeof page.startIndex === 'number' ? { startIndex: page.startIndex } : {};
}

function eventIdOf(event: unknown): string | undefined {
  const id = (event as { eventId?: unknown } | null)?.eventId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

function eventDateOf(event: unknown): number | undefined {
  const date = (event as { eventDate?: unknown } | null)?.eventDate;
  return typeof date === 'number' && Number.isFinite(date) ? date : undefined;
}

export function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
