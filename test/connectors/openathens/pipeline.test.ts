/**
 * OpenAthens end to end: the deployed state machine definition run locally (aws-local-stepfunctions,
 * real handlers, s3rver) against the simulator, one organisation per switch, then the table
 * queried with DuckDB through the same table definitions as Glue.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawReportWindow } from '../../../lambdas/connectors/openathens/dates.ts';
import { openAthensDefinition } from '../../../lambdas/connectors/openathens/definition.ts';
import { OpenAthensSectionSchema } from '../../../lambdas/connectors/openathens/settings.ts';
import { connectorFor } from '../../../lambdas/connectors/registry.ts';
import { manifestKey } from '../../../lambdas/core/layout.ts';
import type { AppConfig } from '../../../lib/config.ts';
import { catalogTables, openArchiveCatalog } from '../../../scripts/local/catalog.ts';
import { runLocalPipeline, type VendorRunResult } from '../../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../../scripts/local/s3.ts';
import {
  localVendorSection,
  type OpenAthensSimulator,
  type OpenAthensSimulatorOptions,
  type SimulatedOrganisation,
  startOpenAthensSimulator,
} from '../../../simulators/openathens/server.ts';
import { testAppConfig } from '../../support/app-config.ts';
import { sqlAsOf } from '../../support/sql-as-of.ts';

// A fixed clock for the run, the plan and the simulator's window: no midnight surprises.
const NOW = new Date('2026-11-22T01:30:00Z');
const YESTERDAY = '2026-11-21';

function org(tenantId: string, overrides: Partial<SimulatedOrganisation> = {}): SimulatedOrganisation {
  return {
    tenantId,
    apiName: `${tenantId}.example.org`,
    apiKey: `oa-key-${tenantId}-0123456789abcdef`,
    organisationId: String(100_000 + tenantId.length * 7919),
    attributes: [],
    rows: 25,
    ...overrides,
  };
}

interface Harness {
  dir: string;
  s3: LocalS3;
  sim: OpenAthensSimulator;
  config: AppConfig;
  run(options?: { date?: string; force?: boolean; scheduledTime?: Date }): Promise<VendorRunResult>;
  close(): Promise<void>;
}

async function harness(
  options: OpenAthensSimulatorOptions & { organisations: SimulatedOrganisation[] },
  tweak: (section: ReturnType<typeof localVendorSection>) => void = () => undefined,
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'openathens-e2e-'));
  await mkdir(join(dir, 'tmp'));
  const s3 = await startLocalS3(join(dir, 's3'));
  const sim = await startOpenAthensSimulator({ now: () => NOW, ...options });
  const section = localVendorSection(sim);
  // due from the day before the window at NOW (23 October on): the whole window is planned, and a
  // date that aged out is still the tenant's, for its refusal to be tested
  section.tenants = section.tenants.map((tenant) => ({ ...tenant, since: '2026-10-22' }));
  tweak(section);
  const vendorSection = OpenAthensSectionSchema.parse({
    ...section,
    maxConcurrency: 16,
    poll: { intervalSeconds: 1, maxAttempts: 3, deadlineMinutes: 5 },
  });
  const config = testAppConfig(
    { openathens: vendorSection },
    { maxDownloadBytes: 10_000_000, maxExtractedBytes: 50_000_000, maxCompressionRatio: 100 },
  );
  return {
    dir,
    s3,
    sim,
    config,
    run: async (extra = {}) => {
      const [result] = await runLocalPipeline({
        config,
        scheduledTime: NOW,
        now: () => NOW,
        s3,
        tmpDir: join(dir, 'tmp'),
        fastWaitsMs: 1,
        connectors: [connectorFor('openathens')],
        ...extra,
      });
      return result as VendorRunResult;
    },
    close: async () => {
      await sim.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function query(h: Harness, sql: string): Promise<Record<string, unknown>[]> {
  const catalog = await openArchiveCatalog({
    s3Directory: join(h.dir, 's3'),
    bucket: h.s3.bucket,
    tables: catalogTables([openAthensDefinition]),
  });
  try {
    return (await catalog.query(sql)).rows;
  } finally {
    catalog.close();
  }
}

function savedQuery(name: string): string {
  const found = openAthensDefinition.queries.find((q) => q.name === name);
  if (!found) throw new Error(`no saved query ${name}`);
  return sqlAsOf(found.sql, NOW);
}

const failuresOf = (result: VendorRunResult): Record<string, { error: unknown; cause: string }> =>
  Object.fromEntries(
    result.events
      .filter((e) => e.detailType === 'Report Failed')
      .map((e) => [e.detail.tenant, { error: e.detail.error, cause: String(e.detail.cause) }]),
  );

const archivedOf = (result: VendorRunResult) =>
  result.events
    .filter((e) => e.detailType === 'Report Archived')
    .map((e) => e.detail.tenant as string)
    .sort();

describe('openathens pipeline: one organisation per switch, one run', () => {
  const ORGANISATIONS = [
    org('uni', { attributes: ['department', 'eduPersonAffiliation'], rows: 57, task: { runningPolls: 2 } }),
    org('uni-med', {
      attributes: ['costCentre', 'jobTitle', 'department'],
      rows: 120,
      task: { runningPolls: 0 },
      download: { format: 'zip' },
    }),
    org('hospital', {
      rows: 33,
      // finishes within the start request's inline wait (the API waits up to 5 s), so it is FINISHED at once
      task: { runningPolls: 0, durationMs: 20, inlineWaitMs: 1_000 },
      download: { format: 'plain', extraColumns: ['request.referrer'], lineEnding: '\n', bom: false },
    }),
    org('quiet', { attributes: ['department'], rows: 0 }),
    org('flaky-download', { rows: 40, download: { truncate: 1 } }),
    org('truncated', { download: { truncate: true } }),
    org('expired', { keyProblem: 'accountExpired' }),
    org('blocked-ip', { keyProblem: 'invalidIP' }),
    org('wrong-key'),
    org('no-reports', { reportsEnabled: false }),
    org('stuck', { task: { neverFinish: true } }),
    org('odd-status', { task: { runningPolls: 1, finalStatus: 'ERROR' } }),
  ];
  let h: Harness;
  let result: VendorRunResult;

  beforeAll(async () => {
    h = await harness({ organisations: ORGANISATIONS, transientErrors: { count: 3, status: 500 } }, (section) => {
      const tenant = section.tenants.find((t) => t.id === 'wrong-key');
      if (tenant) tenant.credentials = { apiKey: 'not-the-key-of-wrong-key' };
    });
    result = await h.run({ date: YESTERDAY });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('archives every organisation that works, whatever the others do', () => {
    expect(archivedOf(result)).toEqual(['flaky-download', 'hospital', 'quiet', 'uni', 'uni-med']);
    expect(result.status).toBe('FAILED');
  });

  it('fails each broken organisation with a named error that names it and never a key', () => {
    // Assess
    const failures = failuresOf(result);
    expect(Object.fromEntries(Object.entries(failures).map(([t, f]) => [t, f.error]))).toEqual({
      truncated: 'VendorUnavailableError',
      expired: 'VendorAuthError',
      'blocked-ip': 'VendorAuthError',
      'wrong-key': 'VendorAuthError',
      'no-reports': 'VendorAuthError',
      stuck: 'DeadlineExceededError',
      'odd-status': 'JobFailed',
    });
    expect(failures.expired?.cause).toMatch(
      /organisation "expired" \(api name "expired.example.org"\).*401 accountExpired/,
    );
    expect(failures['blocked-ip']?.cause).toMatch(/organisation "blocked-ip".*401 invalidIP/);
    expect(failures['wrong-key']?.cause).toMatch(/organisation "wrong-key".*401 badCredentials/);
    expect(failures['no-reports']?.cause).toMatch(/organisation "no-reports".*403/);
    expect(failures['odd-status']?.cause).toMatch(/reported status "ERROR"/);
    const everything = JSON.stringify(result);
    for (const o of ORGANISATIONS) expect(everything).not.toContain(o.apiKey);
    expect(everything).not.toContain('not-the-key-of-wrong-key');
  });

  it('does not retry refused credentials', () => {
    for (const tenant of ['expired', 'blocked-ip', 'wrong-key', 'no-reports']) {
      // (a transient 500 may come first: it is the vendor's, not the credentials')
      const calls = h.sim.requests.filter(
        (r) => r.path.startsWith(`/api/v1/${tenant}.example.org/`) && r.status !== 500,
      );
      expect({ tenant, calls: calls.map((r) => `${r.kind} ${r.status}`) }).toEqual({
        tenant,
        calls: [`start ${tenant === 'no-reports' ? 403 : 401}`],
      });
    }
  });

  it('polls a running task through the Wait state, and a stuck one no more than maxAttempts times', () => {
    const kinds = (tenant: string) =>
      h.sim.requests
        .filter((r) => r.path.startsWith(`/api/v1/${tenant}.example.org/`) && r.status === 200)
        .map((r) => r.kind);
    expect(kinds('uni')).toEqual(['start', 'task', 'task', 'download']);
    expect(kinds('uni-med')).toEqual(['start', 'download']);
    expect(kinds('stuck')).toEqual(['start', 'task', 'task', 'task']);
  });

  it('survives transient 500s and retries a truncated download in the state machine', () => {
    expect(h.sim.requests.filter((r) => r.status === 500)).toHaveLength(3);
    const downloads = h.sim.requests.filter(
      (r) => r.path.startsWith('/api/v1/flaky-download.') && r.kind === 'download',
    );
    expect(downloads.length).toBe(2);
  });

  it('records the format found in the bytes, whatever the vendor called it', async () => {
    const rows = await query(
      h,
      "SELECT tenant, originals[1].format AS format, row_count FROM report_manifests WHERE vendor = 'openathens' ORDER BY tenant",
    );
    expect(rows).toEqual([
      { tenant: 'flaky-download', format: 'gzip', row_count: '40' },
      { tenant: 'hospital', format: 'csv', row_count: '33' },
      { tenant: 'quiet', format: 'gzip', row_count: '0' },
      { tenant: 'uni', format: 'gzip', row_count: '57' },
      { tenant: 'uni-med', format: 'zip', row_count: '120' },
    ]);
  });

  it('the table answers the known row count exactly', async () => {
    const rows = await query(
      h,
      'SELECT tenant, COUNT(*) AS n FROM openathens_raw_statistics GROUP BY tenant ORDER BY tenant',
    );
    expect(rows).toEqual([
      { tenant: 'flaky-download', n: '40' },
      { tenant: 'hospital', n: '33' },
      { tenant: 'uni', n: '57' },
      { tenant: 'uni-med', n: '120' },
    ]);
  });

  it("keeps each organisation's own attributes in the map and unknown columns in extra", async () => {
    const rows = await query(
      h,
      `SELECT tenant, list_sort(list_distinct(flatten(list(map_keys(attributes))))) AS attribute_keys,
         list_sort(list_distinct(flatten(list(map_keys(extra))))) AS extra_keys
       FROM openathens_raw_statistics GROUP BY tenant ORDER BY tenant`,
    );
    expect(rows).toEqual([
      { tenant: 'flaky-download', attribute_keys: [], extra_keys: [] },
      { tenant: 'hospital', attribute_keys: [], extra_keys: ['request.referrer'] },
      { tenant: 'uni', attribute_keys: ['department', 'eduPersonAffiliation'], extra_keys: [] },
      { tenant: 'uni-med', attribute_keys: ['costCentre', 'department', 'jobTitle'], extra_keys: [] },
    ]);
  });

  it('stores every hostile field exactly as the vendor sent it', async () => {
    // Prepare: the simulator's rows for two organisations (CRLF + BOM, and LF without BOM)
    for (const tenant of ['uni-med', 'hospital']) {
      const report = h.sim.report(`${tenant}.example.org`, YESTERDAY);
      const index = (name: string) => report.header.indexOf(name);
      const expected = report.rows
        .map((fields) =>
          JSON.stringify([
            fields[index('date')],
            fields[index('attribute.resourcetitle')],
            fields[index('request.useragent')],
            fields[index('account.permissionsets')],
            fields[index('account.authsystemname')],
          ]),
        )
        .sort();
      // Act
      const rows = await query(
        h,
        `SELECT event_time_raw, attribute_resourcetitle, request_useragent, account_permissionsets, account_authsystemname
         FROM openathens_raw_statistics WHERE tenant = '${tenant}'`,
      );
      // Assess
      const actual = rows
        .map((r) =>
          JSON.stringify([
            r.event_time_raw,
            r.attribute_resourcetitle,
            r.request_useragent,
            r.account_permissionsets,
            r.account_authsystemname,
          ]),
        )
        .sort();
      expect(actual).toEqual(expected);
      expect(expected.some((line) => line.includes('\\n'))).toBe(true);
    }
  });

  it('puts every event on the day it was reported for (day-first dates)', async () => {
    expect(await query(h, savedQuery('openathens-unexpected-event-day'))).toEqual([]);
    const [bounds] = await query(
      h,
      'SELECT CAST(MIN(event_time) AS VARCHAR) AS first, CAST(MAX(event_time) AS VARCHAR) AS last FROM openathens_raw_statistics',
    );
    expect(String(bounds?.first).slice(0, 10)).toBe(YESTERDAY);
    expect(String(bounds?.last).slice(0, 10)).toBe(YESTERDAY);
  });

  it('runs every saved query', async () => {
    for (const saved of openAthensDefinition.queries) {
      await expect(query(h, sqlAsOf(saved.sql, NOW))).resolves.toBeInstanceOf(Array);
    }
    const repeated = await query(h, savedQuery('openathens-repeated-bad-passwords'));
    // every simulated day has one account with 3–5 bad passwords
    expect(new Set(repeated.map((r) => r.tenant))).toEqual(new Set(['flaky-download', 'hospital', 'uni', 'uni-med']));
  });
});

describe('openathens pipeline: the 30-day window', () => {
  let h: Harness;
  const window = rawReportWindow(NOW);
  const oldest = window.oldest;
  const gap = '2026-11-10';

  beforeAll(async () => {
    h = await harness({
      organisations: [org('uni', { rows: 5 })],
      transientErrors: { count: 1, status: 429, retryAfterSeconds: 1 },
    });
    // everything archived except yesterday, the oldest day and one day in between
    for (const date of window.dates.filter((d) => d !== YESTERDAY && d !== oldest && d !== gap)) {
      const key = manifestKey({ vendor: 'openathens', report: 'raw_statistics', tenant: 'uni', date });
      await h.s3.client.send(new PutObjectCommand({ Bucket: h.s3.bucket, Key: key, Body: '{}' }));
    }
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('a scheduled run fetches yesterday and recovers the missing days, raising the at-risk count first', async () => {
    // Act
    const result = await h.run();
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.plan?.items.map((i) => i.date)).toEqual([YESTERDAY, oldest, gap]);
    expect(result.plan?.atRisk).toEqual([`uni/raw_statistics/${oldest}`]);
    const metrics = result.metrics.map((line) => JSON.parse(line));
    expect(metrics.filter((m) => 'DatesAtRisk' in m).map((m) => m.DatesAtRisk)).toEqual([1]);
    expect(metrics.filter((m) => m.ReportsRecorded === 1).map((m) => m.Outcome)).toEqual([
      'archived',
      'archived',
      'archived',
    ]);
    expect(
      result.events
        .filter((e) => e.detailType === 'Report Archived')
        .map((e) => e.detail.date)
        .sort(),
    ).toEqual([oldest, gap, YESTERDAY].sort());
    expect(h.sim.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('the next run finds nothing at risk and nothing to fetch', async () => {
    // Act: a later delivery (the same scheduled time again would be a duplicate, and end unplanned)
    const again = await h.run({ scheduledTime: new Date(NOW.getTime() + 60_000) });
    // Assess
    expect(again.status).toBe('SUCCEEDED');
    expect(again.plan?.items).toEqual([]);
    expect(again.plan?.atRisk).toEqual([]);
    expect(again.metrics.map((line) => JSON.parse(line).DatesAtRisk)).toEqual([0]);
  });

  it('skips a date outside the window with the reason, without calling OpenAthens, and the run succeeds', async () => {
    // Prepare
    h.sim.clearRequests();
    const aged = '2026-10-22';
    // Act
    const result = await h.run({ date: aged });
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.length).toBeGreaterThan(0);
    for (const event of result.events) {
      expect(event.detailType).toBe('Report Skipped');
      expect(String(event.detail.reason)).toBe(
        `OpenAthens serves 30 days back (the oldest is 2026-10-23, UTC), so ${aged} can no longer be fetched`,
      );
    }
    expect(h.sim.requests).toHaveLength(0);
  });
});
