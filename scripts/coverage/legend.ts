/**
 * What each coverage state is called and drawn as, the same in the terminal and on the page: one
 * character per state (the page shows it in the cell too, so the state never rests on colour
 * alone) and what the state means.
 */
import { AT_RISK_DAYS, COVERAGE_STATES, type CoverageState } from '../../lambdas/core/views/coverage.ts';
import type { StateCounts } from './calendar.ts';

export interface StateLegend {
  readonly symbol: string;
  readonly label: string;
  readonly meaning: string;
}

export const LEGEND: Record<CoverageState, StateLegend> = {
  archived: { symbol: '#', label: 'archived', meaning: 'a manifest holds the report' },
  skipped: { symbol: 's', label: 'skipped', meaning: 'a run decided not to archive it, with the reason' },
  failed: { symbol: 'F', label: 'failed', meaning: 'the latest run failed, with the error and reason' },
  missing: { symbol: 'M', label: 'missing', meaning: 'expected, not archived, no run recorded why' },
  at_risk: {
    symbol: 'R',
    label: 'at risk',
    meaning: `not archived, and the vendor stops serving it within ${AT_RISK_DAYS} days`,
  },
  lost: { symbol: 'L', label: 'lost', meaning: 'not archived, and the vendor no longer serves it' },
  retention_unknown: {
    symbol: '?',
    label: 'retention unknown',
    meaning: 'not archived; the vendor does not document how long it serves past days',
  },
};

/** A day the view has no row for: outside the tenant's since..until, or today, and nothing recorded. */
export const NOT_EXPECTED: StateLegend = {
  symbol: '.',
  label: 'not expected',
  meaning: 'outside the tenant’s since..until (or not over yet), and nothing recorded',
};

/** `27 archived, 1 failed`: the states a set of days has, in the legend's order. */
export function countsText(counts: StateCounts): string {
  const parts = COVERAGE_STATES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${LEGEND[s].label}`);
  return parts.length === 0 ? 'nothing expected' : parts.join(', ');
}
