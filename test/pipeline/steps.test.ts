/**
 * The item steps hand a connector's runtime the settings and tenant as its own definition parses
 * them: defaults filled from its section schema, and a state input its schema refuses stopped
 * before the runtime runs.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { staticSecretSource } from '../../lambdas/core/secrets.ts';
import { TenantBaseSchema, vendorSectionSchema } from '../../lambdas/core/settings.ts';
import { type ConnectorContext, defineConnector, registerConnector } from '../../lambdas/core/types.ts';
import { type StepInput, startJob } from '../../lambdas/pipeline/steps.ts';

const TenantSchema = TenantBaseSchema.extend({ region: z.enum(['eu', 'us']).default('eu') });
const definition = defineConnector({
  vendor: 'demo',
  displayName: 'Demo',
  sectionSchema: vendorSectionSchema({
    tenant: TenantSchema,
    reports: ['things'] as const,
    defaults: { schedule: 'cron(0 2 * * ? *)', poll: { intervalSeconds: 5, maxAttempts: 4, deadlineMinutes: 60 } },
    extra: { pageLimit: z.number().int().default(100) },
  }),
  tenantSchema: TenantSchema,
  credentialsSchema: z.object({ token: z.string() }),
  cadence: { kind: 'event-log', historyDays: null },
  reports: [],
  queries: [],
});
type DemoContext = ConnectorContext<
  z.output<typeof TenantSchema>,
  { token: string },
  z.output<typeof definition.sectionSchema>
>;

function harness(secrets: ReadonlyMap<string, string> = new Map()) {
  const seen: DemoContext[] = [];
  const connector = registerConnector(definition, async () => ({
    async startJob(ctx) {
      seen.push(ctx);
      return { status: 'READY', job: { pageLimit: ctx.settings.pageLimit, region: ctx.tenant.region } };
    },
    checkJob: () => Promise.reject(new Error('not called')),
    fetchReport: () => Promise.reject(new Error('not called')),
  }));
  const deps = {
    connector,
    secrets: staticSecretSource(secrets),
    env: {},
    logger: new Logger({ serviceName: 'steps-test', logLevel: 'SILENT' }),
    now: () => new Date('2026-11-22T02:00:00Z'),
  };
  return { seen, run: (input: StepInput) => startJob(input, deps) };
}

const request = { vendor: 'demo', tenant: 'acme', report: 'things', date: '2026-11-21', runId: 'run-1' };
const settings = {
  baseUrl: 'https://api.example.com',
  poll: { intervalSeconds: 5, maxAttempts: 4, deadlineMinutes: 60 },
};

describe('startJob', () => {
  it("gives the runtime the settings and tenant with its definition's defaults", async () => {
    // Prepare
    const { seen, run } = harness();

    // Act
    const step = await run({
      request,
      tenant: { id: 'acme', since: '2026-01-01', credentials: { token: 't' } },
      settings,
    });

    // Assess
    expect(step.job).toEqual({ pageLimit: 100, region: 'eu' });
    expect(seen[0]?.settings.tenants).toEqual([
      { id: 'acme', since: '2026-01-01', credentials: { token: 't' }, region: 'eu' },
    ]);
  });

  it('stops a tenant its definition refuses before the runtime runs, naming the vendor', async () => {
    // Prepare
    const { seen, run } = harness();

    // Act
    const error = await run({
      request,
      tenant: { id: 'acme', since: '2026-01-01', credentials: { token: 't' }, region: 'mars' },
      settings,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^invalid demo settings or tenant in the step input: tenants\.0\.region: /,
    );
    expect(seen).toEqual([]);
  });
});

describe('startJob with one secret for the vendor', () => {
  it("gives the runtime the tenant's entry of the vendor section's secret", async () => {
    // Prepare
    const secret = JSON.stringify({ acme: { token: 'acme-token' }, globex: { token: 'globex-token' } });
    const { seen, run } = harness(new Map([['demo/all-tenants', secret]]));

    // Act
    await run({
      request,
      tenant: { id: 'acme', since: '2026-01-01' },
      settings: { ...settings, secretName: 'demo/all-tenants' },
    });
    const credentials = await seen[0]?.credentials();

    // Assess
    expect(credentials).toEqual({ token: 'acme-token' });
  });
});

describe('startJob for a snapshot report', () => {
  const snapshot = registerConnector({ ...definition, cadence: { kind: 'snapshot', historyDays: 0 } }, async () => ({
    startJob: () => Promise.reject(new Error('the vendor must not be asked')),
    checkJob: () => Promise.reject(new Error('not called')),
    fetchReport: () => Promise.reject(new Error('not called')),
  }));
  const start = (date: string, now: string) =>
    startJob(
      {
        request: { ...request, date },
        tenant: { id: 'acme', since: '2026-01-01', credentials: { token: 't' } },
        settings,
      },
      {
        connector: snapshot,
        secrets: staticSecretSource(new Map()),
        env: {},
        logger: new Logger({ serviceName: 'steps-test', logLevel: 'SILENT' }),
        now: () => new Date(now),
      },
    );

  it.each([
    ['a past date (--date, or a stale scheduled time)', '2026-11-01', '2026-11-22T02:00:00Z'],
    ['a future date', '2026-11-23', '2026-11-22T02:00:00Z'],
    ['the day before, past the hour of grace', '2026-11-21', '2026-11-22T01:00:00Z'],
  ])('skips %s with the reason, without asking the vendor', async (_label, date, now) => {
    const step = await start(date, now);
    expect(step.status).toBe('SKIPPED');
    expect(step.reason).toBe(
      `the report is a snapshot of the vendor's state now (2026-11-22, UTC), so it cannot be archived as ${date}`,
    );
  });

  it('takes the snapshot for today, and for yesterday within an hour of midnight (a late schedule)', async () => {
    await expect(start('2026-11-22', '2026-11-22T02:00:00Z')).rejects.toThrow('the vendor must not be asked');
    await expect(start('2026-11-21', '2026-11-22T00:59:59Z')).rejects.toThrow('the vendor must not be asked');
  });
});
