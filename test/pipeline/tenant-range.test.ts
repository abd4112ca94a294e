/**
 * A tenant's `since` and `until` bound what the plan step plans: no date before the first day its
 * reports are due nor after the last, whether the connector offers it (a catch-up, a window) or a
 * person asks for it (`--date`), which is counted rather than silently dropped. The config refuses
 * an `until` before `since`, naming both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAthensSectionSchema } from '../../lambdas/connectors/openathens/settings.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { parseConfig } from '../../lib/config.ts';
import { type PlanArchive, startPlanArchive } from './plan-archive.ts';

const SCHEDULED = '2026-11-22T01:30:00Z';
/** a scheduled time of its own per test: a schedule's second delivery of one time plans nothing */
const scheduled = (second: number) => `2026-11-22T01:30:${String(second).padStart(2, '0')}Z`;

let archive: PlanArchive;
beforeAll(async () => {
  archive = await startPlanArchive();
});
afterAll(async () => {
  await archive?.close();
});

const csp = (tenant: { since: string; until?: string }) => ({
  tenants: [{ id: 'alice', ...tenant }],
  reports: ['mfa_audit'],
});

describe('a scheduled run', () => {
  it("plans none of the connector's catch-up dates before since, and counts them", async () => {
    // Act: CSP catches up the 7 days before the scheduled day (15 to 21 November)
    const plan = await archive.plan('csp', csp({ since: '2026-11-18' }), { scheduledTime: scheduled(1) });
    // Assess
    expect(plan.items.map((item) => item.date).sort()).toEqual([
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
    ]);
    expect(plan.outsideTenantRange).toBe(3);
  });

  it('plans nothing after until', async () => {
    // Act
    const plan = await archive.plan('csp', csp({ since: '2026-11-18', until: '2026-11-19' }), {
      scheduledTime: scheduled(2),
    });
    // Assess
    expect(plan.items.map((item) => item.date).sort()).toEqual(['2026-11-18', '2026-11-19']);
    expect(plan.outsideTenantRange).toBe(5);
  });

  it('reports no date at risk before since', async () => {
    // Act: OpenAthens' 23 to 25 October leave its 30-day window within the 3-day horizon
    const plan = await archive.plan(
      'openathens',
      { tenants: [{ id: 'org', since: '2026-10-24', apiName: 'org.example' }], reports: ['raw_statistics'] },
      { scheduledTime: scheduled(3) },
    );
    // Assess
    expect(plan.atRisk).toEqual(['org/raw_statistics/2026-10-24', 'org/raw_statistics/2026-10-25']);
    expect(plan.items.map((item) => item.date)).not.toContain('2026-10-23');
    expect(plan.outsideTenantRange).toBe(1);
  });
});

describe('a run for a requested date', () => {
  it('skips a date before since, counting it, without asking the connector', async () => {
    // Act: 1 November is within OpenAthens' 30 days, before the tenant's since
    const plan = await archive.plan(
      'openathens',
      { tenants: [{ id: 'org', since: '2026-11-10', apiName: 'org.example' }], reports: ['raw_statistics'] },
      { scheduledTime: SCHEDULED, date: '2026-11-01' },
    );
    // Assess
    expect(plan.items).toEqual([]);
    expect(plan.outsideTenantRange).toBe(1);
    expect(plan.alreadyArchived).toBe(0);
  });

  it.each([
    ['pingone', 'a snapshot of another day', 'mfa_devices', '2026-11-20'],
    ['openathens', 'a day older than the 30 days served', 'raw_statistics', '2026-10-01'],
  ])(
    'plans a %s date the vendor cannot serve (%s) even before since, for the start step to skip with its reason',
    async (vendor, _what, report, date) => {
      // Act
      const plan = await archive.plan(
        vendor,
        { tenants: [{ id: 't', since: '2026-11-21', apiName: 'org.example' }], reports: [report] },
        { scheduledTime: SCHEDULED, date },
      );
      // Assess
      expect(plan.items.map((item) => `${item.tenant.id} ${item.report} ${item.date}`)).toEqual([
        `t ${report} ${date}`,
      ]);
      expect(plan.outsideTenantRange).toBe(0);
    },
  );

  it("counts a snapshot's yesterday before since, as the hour's grace still lets it be taken", async () => {
    // Act: 00:30 UTC on the 22nd: the start step would archive a snapshot as the 21st
    const plan = await archive.plan(
      'pingone',
      { tenants: [{ id: 't', since: '2026-11-22' }], reports: ['mfa_devices'] },
      { scheduledTime: '2026-11-22T00:30:00Z', date: '2026-11-21' },
    );
    // Assess
    expect(plan.items).toEqual([]);
    expect(plan.outsideTenantRange).toBe(1);
  });

  it('skips a date after until for that tenant only', async () => {
    // Act
    const plan = await archive.plan(
      'csp',
      {
        tenants: [
          { id: 'alice', since: '2026-01-01', until: '2026-11-09' },
          { id: 'bob', since: '2026-01-01' },
        ],
        reports: ['mfa_audit'],
      },
      { scheduledTime: SCHEDULED, date: '2026-11-10' },
    );
    // Assess
    expect(plan.items.map((item) => `${item.tenant.id} ${item.date}`)).toEqual(['bob 2026-11-10']);
    expect(plan.outsideTenantRange).toBe(1);
  });
});

describe('the run input', () => {
  it('refuses a tenant without since', async () => {
    // Act
    const section = { tenants: [{ id: 'alice' }], reports: ['mfa_audit'] };
    // @ts-expect-error the point of the test: a section whose tenant has no since
    const planning = archive.plan('csp', section, { scheduledTime: scheduled(4) });
    // Assess
    await expect(planning).rejects.toThrow(ConfigError);
    await expect(planning).rejects.toThrow(/section\.tenants\.0\.since/);
  });
});

describe('the tenant config', () => {
  const tenant = { id: 'org', apiName: 'org.example', secretName: 'oa/org' };

  it('refuses an until before since, naming both', () => {
    // Act
    const result = OpenAthensSectionSchema.safeParse({
      tenants: [{ ...tenant, since: '2026-11-01', until: '2026-10-31' }],
    });
    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'tenants.0.until: expected until on or after since (2026-11-01); received 2026-10-31',
    ]);
  });

  it('takes an until equal to since (a tenant expected for one day)', () => {
    expect(
      OpenAthensSectionSchema.safeParse({ tenants: [{ ...tenant, since: '2026-11-01', until: '2026-11-01' }] }).success,
    ).toBe(true);
  });

  it('names since when it is missing or not a calendar date', () => {
    // Act
    const problems = (since?: string) => {
      try {
        parseConfig(
          { alerts: { topicName: 'a' }, vendors: { openathens: { tenants: [{ ...tenant, since }] } } },
          'test',
          'local',
        );
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    // Assess
    expect(problems(undefined)).toContain(
      "vendors.openathens.tenants[0].since: expected since: the first day (UTC) this tenant's reports are expected, as YYYY-MM-DD",
    );
    expect(problems('2026-02-30')).toContain(
      'vendors.openathens.tenants[0].since: expected since as a calendar date YYYY-MM-DD; received "2026-02-30"',
    );
  });
});
