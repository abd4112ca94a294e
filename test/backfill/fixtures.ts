import { z } from 'zod';
import type { ConnectorDefinition } from '../../lambdas/core/types.ts';

/** `null`: a connector whose reports are snapshots (no `backfill`). `historyDays` goes to its cadence. */
export function fixtureConnector(
  backfill: { spacingSeconds: number; historyDays?: number } | null = { spacingSeconds: 30, historyDays: 30 },
): ConnectorDefinition {
  return {
    vendor: 'acme',
    displayName: 'Acme',
    sectionSchema: z.any(),
    tenantSchema: z.any(),
    credentialsSchema: z.any(),
    reports: [],
    queries: [],
    cadence: backfill
      ? { kind: 'event-log', historyDays: backfill.historyDays ?? null }
      : { kind: 'snapshot', historyDays: 0 },
    ...(backfill ? { backfill: { spacingSeconds: backfill.spacingSeconds } } : {}),
  };
}
