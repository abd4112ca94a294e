/**
 * What a second page says about `pageStart` (pure decisions of `paging.ts`).
 */
import { describe, expect, it } from 'vitest';
import { decideReading, type Probe, startIndexProblem } from '../../../lambdas/connectors/csp/paging.ts';

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `e${from + i}`);
const probe = (pageStart: number, range: string[], startIndex?: number): Probe => ({
  pageStart,
  ids: range,
  ...(startIndex === undefined ? {} : { startIndex }),
});

describe('decideReading', () => {
  const first = probe(0, ids(0, 5), 0);
  it.each([
    ['a result index (moved by one result)', probe(1, ids(1, 6), 1), 'index'],
    ['a page number echoing the first result index', probe(1, ids(5, 10), 5), 'page'],
    ['a page number echoing page numbers', probe(1, ids(5, 10), 1), 'page'],
    ['a page number without startIndex', probe(1, ids(5, 10)), 'page'],
    ['a page number, one event arrived in between', probe(1, ids(4, 9), 5), 'page'],
    ['a result index, one event arrived in between', probe(1, ids(0, 5), 1), 'index'],
    ['a result index, two events arrived in between', probe(1, ['new', ...ids(0, 4)], 1), 'index'],
  ])('reads %s', (_, second, reading) => {
    expect(decideReading(first, second, 5)).toEqual({ kind: 'reading', reading });
  });

  it('calls a page identical to the first the same page (a 1-based server that clamps 0 silently)', () => {
    expect(decideReading(probe(0, ids(0, 5)), probe(1, ids(0, 5)), 5)).toEqual({ kind: 'same-page' });
    expect(decideReading(probe(0, ids(0, 5), 1), probe(1, ids(0, 5), 1), 5)).toEqual({ kind: 'same-page' });
  });

  it('refuses to guess when startIndex contradicts the results', () => {
    expect(decideReading(first, probe(1, ids(1, 6), 5), 5)).toMatchObject({ kind: 'unknown' });
    expect(decideReading(first, probe(1, ids(5, 10), 3), 5)).toMatchObject({ kind: 'unknown' });
  });
});

describe('startIndexProblem', () => {
  it('accepts either echo of a page-number server and only the index of a result-index server', () => {
    const at = (pageStart: number, startIndex: number) => ({
      pageStart,
      startIndex,
      anchor: 1,
      anchorStartIndex: 1,
      pageSize: 10,
    });
    expect(startIndexProblem('page', at(3, 21))).toBeUndefined();
    expect(startIndexProblem('page', at(3, 3))).toBeUndefined();
    expect(startIndexProblem('index', at(21, 21))).toBeUndefined();
    expect(startIndexProblem('index', at(21, 22))).toMatch(/expected 21/);
    expect(startIndexProblem('page', at(3, 11))).toMatch(/expected 21 or 3/);
  });
});
