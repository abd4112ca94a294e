import { describe, expect, it } from 'vitest';
import { RAW_REPORT_WINDOW_DAYS } from '../../../lambdas/connectors/openathens/dates.ts';
import { openAthensDefinition } from '../../../lambdas/connectors/openathens/definition.ts';
import {
  OPENATHENS_DEFAULT_BASE_URL,
  OpenAthensSectionSchema,
} from '../../../lambdas/connectors/openathens/settings.ts';
import { localVendorSection, startOpenAthensSimulator } from '../../../simulators/openathens/server.ts';

const TENANT = { id: 'example-org', since: '2026-01-01', apiName: 'example.org', secretName: 'openathens/example-org' };

describe('settings', () => {
  it('applies the vendor defaults', () => {
    // Act
    const settings = OpenAthensSectionSchema.parse({ tenants: [TENANT] });
    // Assess
    expect(settings).toMatchObject({
      enabled: true,
      baseUrl: OPENATHENS_DEFAULT_BASE_URL,
      schedule: 'cron(30 1 * * ? *)',
      scheduleTimezone: 'UTC',
      reports: ['raw_statistics'],
      downloadHosts: [],
      poll: { intervalSeconds: 20, maxAttempts: 90, deadlineMinutes: 60 },
      tenants: [TENANT],
    });
    // the attempts fit inside the deadline at the poll interval
    expect(settings.poll.maxAttempts * settings.poll.intervalSeconds).toBeLessThanOrEqual(
      settings.poll.deadlineMinutes * 60,
    );
  });

  it('takes a parent and its sub-organisation as separate tenants', () => {
    const settings = OpenAthensSectionSchema.parse({
      tenants: [
        TENANT,
        { id: 'example-org-medicine', since: '2026-01-01', apiName: 'medicine.example.org', secretName: 'oa/med' },
      ],
    });
    expect(settings.tenants.map((t) => t.apiName)).toEqual(['example.org', 'medicine.example.org']);
  });

  it.each([
    ['a missing apiName', { id: 'x', since: '2026-01-01', secretName: 's' }, /apiName/],
    ['an apiName with a slash', { ...TENANT, apiName: 'example.org/../admin' }, /API name/],
    ['an apiName with a space', { ...TENANT, apiName: 'example org' }, /API name/],
    ['no credential source', { id: 'x', since: '2026-01-01', apiName: 'example.org' }, /exactly one of secretName/],
    ['an unknown field', { ...TENANT, apiKey: 'oops' }, /apiKey|unrecognized/i],
  ])('refuses a tenant with %s', (_label, tenant, pattern) => {
    // Act
    const result = OpenAthensSectionSchema.safeParse({ tenants: [tenant] });
    // Assess
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(pattern);
  });

  it('refuses an unknown report and duplicate tenant ids', () => {
    expect(OpenAthensSectionSchema.safeParse({ tenants: [TENANT], reports: ['aggregated'] }).success).toBe(false);
    const dup = OpenAthensSectionSchema.safeParse({ tenants: [TENANT, { ...TENANT, apiName: 'other.org' }] });
    expect(JSON.stringify(dup.error?.issues)).toContain('duplicate tenant id');
  });
});

describe('credentials', () => {
  it('accepts { apiKey } and ignores other members', () => {
    expect(openAthensDefinition.credentialsSchema.parse({ apiKey: 'abc.DEF-123', note: 'expires 2025' })).toEqual({
      apiKey: 'abc.DEF-123',
    });
  });

  it.each([
    ['no key', {}],
    ['an empty key', { apiKey: '' }],
    ['a key with a trailing newline', { apiKey: 'abc123\n' }],
    ['a key with a space', { apiKey: 'abc 123' }],
    ['a number', { apiKey: 123456 }],
  ])('refuses %s without echoing the value', (_label, raw) => {
    // Act
    const result = openAthensDefinition.credentialsSchema.safeParse(raw);
    // Assess
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => i.message).join(' ') ?? '';
    expect(messages).toMatch(/apiKey|expected string/);
    if (typeof (raw as { apiKey?: unknown }).apiKey === 'string' && (raw as { apiKey: string }).apiKey) {
      expect(messages).not.toContain((raw as { apiKey: string }).apiKey.trim());
    }
  });
});

describe('localVendorSection', () => {
  it('is a valid config section for the simulator, one tenant per organisation', async () => {
    // Prepare
    const sim = await startOpenAthensSimulator();
    try {
      // Act
      const settings = OpenAthensSectionSchema.parse(localVendorSection(sim));
      // Assess
      expect(settings.baseUrl).toBe(sim.baseUrl);
      expect(settings.tenants.map((t) => [t.id, t.apiName])).toEqual(
        sim.organisations.map((o) => [o.tenantId, o.apiName]),
      );
      for (const tenant of settings.tenants) {
        expect(openAthensDefinition.credentialsSchema.safeParse(tenant.credentials).success).toBe(true);
      }
    } finally {
      await sim.close();
    }
  });
});

describe('connector', () => {
  it('declares one report and its table columns', () => {
    expect(openAthensDefinition.vendor).toBe('openathens');
    expect(openAthensDefinition.reports.map((r) => r.name)).toEqual(['raw_statistics']);
  });

  it('lets backfill reach exactly as far back as the window', () => {
    expect(openAthensDefinition.cadence.historyDays).toBe(RAW_REPORT_WINDOW_DAYS);
  });
});
