/**
 * A fixture vendor's definition for pipeline tests: one tenant-agnostic report, `things`, whose
 * rows are `{id}` from a CSV, with no saved queries. Each test adds the runtime it needs.
 */
import { z } from 'zod';
import { TenantBaseSchema, vendorSectionSchema } from '../../lambdas/core/settings.ts';
import { defineConnector } from '../../lambdas/core/types.ts';

export function thingsDefinition(vendor: string, displayName: string, maxAttempts: number) {
  return defineConnector({
    vendor,
    displayName,
    sectionSchema: vendorSectionSchema({
      tenant: TenantBaseSchema.extend({}),
      reports: ['things'] as const,
      defaults: { schedule: 'cron(0 2 * * ? *)', poll: { intervalSeconds: 5, maxAttempts, deadlineMinutes: 60 } },
    }),
    tenantSchema: TenantBaseSchema.extend({}),
    credentialsSchema: z.object({ token: z.string() }),
    cadence: { kind: 'event-log', historyDays: null },
    reports: [
      {
        name: 'things',
        description: 'fixture rows',
        columns: [{ name: 'id', type: 'bigint' }],
        toRecord: (raw) => ({ id: Number(raw.id) }),
      },
    ],
    queries: [],
  });
}
