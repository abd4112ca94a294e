import { z } from 'zod';
import type { AnyConnector } from '../../lambdas/connectors/index.ts';

/** `null`: a connector whose reports are snapshots (no `backfill`). */
export function fixtureConnector(
  backfill: AnyConnector['backfill'] | null = { spacingSeconds: 30, historyDays: 30 },
): AnyConnector {
  const unused = () => Promise.reject(new Error('not called by a backfill'));
  return {
    vendor: 'acme',
    displayName: 'Acme',
    settingsSchema: z.any(),
    credentialsSchema: z.any(),
    reports: [],
    queries: [],
    ...(backfill ? { backfill } : {}),
    startJob: unused,
    checkJob: unused,
    fetchReport: unused,
  };
}
