/**
 * What `pageStart` means to this CSP endpoint, learned from its answers (pure decisions).
 *
 * 1. The docs call `pageStart` "the index that the set of results will begin with", sibling CSP
 *    APIs count pages from 1, and neither base nor meaning is documented for this endpoint. So the
 *    first request of a run asks for `pageStart` 0: a 1-based server refuses it (400) or reads it
 *    as 1 and says so in `startIndex`; either way the run then knows its base.
 * 2. The second full page is asked for at the next `pageStart` (anchor + 1), which never skips a
 *    result whatever the meaning: a result-index server moves by one result (the page mostly
 *    repeats the first), a page-number server moves by a whole page (nothing repeats). From then
 *    on the run steps by a page of results or by one page number.
 * 3. A page identical to the first means `pageStart` 0 and 1 were read alike (a 1-based server
 *    that clamps without saying so): the anchor becomes 1 and the next page decides.
 * 4. When both pages carry `startIndex`, it must agree with what the content says; a server that
 *    begins elsewhere than asked is a named error, never a guess.
 */

export type Reading = 'index' | 'page';

/** One answered request, as far as learning is concerned. */
export interface Probe {
  readonly pageStart: number;
  readonly startIndex?: number;
  /** eventIds of the page's results, in order (undefined for a result without one) */
  readonly ids: readonly (string | undefined)[];
}

export type Decision =
  | { readonly kind: 'reading'; readonly reading: Reading }
  | { readonly kind: 'same-page' }
  | { readonly kind: 'unknown'; readonly why: string };

/**
 * What a second page (asked for at `first.pageStart + 1`) says about `pageStart`, given a full
 * first page of `pageSize` results.
 */
export function decideReading(first: Probe, second: Probe, pageSize: number): Decision {
  if (pageSize === 1) return { kind: 'reading', reading: 'page' }; // one result per page: both readings step alike
  const positions = new Map<string, number>();
  for (const [i, id] of first.ids.entries()) if (id !== undefined) positions.set(id, i);
  const step =
    first.startIndex !== undefined && second.startIndex !== undefined
      ? second.startIndex - first.startIndex
      : undefined;
  const identical =
    second.ids.length === first.ids.length && second.ids.every((id, i) => id !== undefined && id === first.ids[i]);
  // identical pages with startIndex moving by one: a result-index server, and an event arrived in between
  if (identical && step !== 1) return { kind: 'same-page' };
  // how far the second page moved: the first result it shares with the first page, by position
  let moved: number | undefined;
  for (const [j, id] of second.ids.entries()) {
    const i = id === undefined ? undefined : positions.get(id);
    if (i !== undefined) {
      moved = i - j;
      break;
    }
  }
  const byContent: Reading | undefined =
    moved === undefined
      ? second.ids.some((id) => id !== undefined)
        ? 'page'
        : undefined
      : moved * 2 <= pageSize
        ? 'index'
        : 'page';
  if (byContent === undefined) {
    if (step === pageSize) return { kind: 'reading', reading: 'page' };
    return { kind: 'unknown', why: `the second page has no eventIds and startIndex moved by ${step ?? 'nothing'}` };
  }
  // startIndex moves by 1 on a result-index server; by a page (or by 1 when it echoes page numbers) on a page server
  const echoAgrees = step === undefined || step === 1 || (byContent === 'page' && step === pageSize);
  if (!echoAgrees) {
    return {
      kind: 'unknown',
      why: `the results moved like a ${byContent === 'index' ? 'result index' : 'page number'} but startIndex moved by ${step}`,
    };
  }
  return { kind: 'reading', reading: byContent };
}

/** Results a request at `pageStart` skips over: the record cap counts them with the page. */
export function offsetOf(reading: Reading | undefined, pageStart: number, anchor: number, pageSize: number): number {
  const steps = pageStart - anchor;
  // before the reading is known the next page may be a whole page further: assume the worse
  return reading === 'index' ? steps : steps * pageSize;
}

/** The `startIndex` a page at `pageStart` should echo (either convention), or a reason it does not. */
export function startIndexProblem(
  reading: Reading,
  page: { pageStart: number; startIndex?: number; anchor: number; anchorStartIndex?: number; pageSize: number },
): string | undefined {
  const { pageStart, startIndex, anchor, anchorStartIndex, pageSize } = page;
  if (startIndex === undefined || anchorStartIndex === undefined) return undefined;
  const steps = pageStart - anchor;
  const expected = reading === 'index' ? [anchorStartIndex + steps] : [anchorStartIndex + steps * pageSize, pageStart];
  if (expected.includes(startIndex)) return undefined;
  return `pageStart ${pageStart} answered startIndex ${startIndex}; expected ${expected.join(' or ')}`;
}
