/**
 * The `coverage` view over a local archive written as the pipeline writes one (fixtures.ts):
 * every state appears where the design puts it, expected days come from each tenant's since and
 * until (to yesterday), a never-archived tenant shows as missing, CSP's undocumented retention as
 * retention_unknown, the latest record decides and keeps its own fields, and a `dt` filter
 * returns the same days as the whole view. Its text is Trino SQL, and both catalogs create it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey, outcomeKey } from '../../lambdas/core/layout.ts';
import {
  EXPECTATIONS_TABLE_NAME,
  expectationsTable,
  MANIFEST_TABLE_NAME,
  OUTCOMES_TABLE_NAME,
} from '../../lambdas/core/tables.ts';
import { COVERAGE_SQL, COVERAGE_VIEW_NAME, coverageView } from '../../lambdas/core/views/coverage.ts';
import { archiveViews } from '../../lambdas/core/views.ts';
import {
  type ArchiveCatalog,
  catalogStatements,
  catalogTables,
  openArchiveCatalog,
} from '../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../scripts/local/s3.ts';
import { trinoSyntaxProblems } from '../../scripts/local/trino-syntax.ts';
import { localWorkspace, readCatalog } from '../../scripts/local/workspace.ts';
import { ago, CSP, FAILURE_REASON, OA, OA_NEW, PING, SCENARIO, scenarioWorkspace, today } from './fixtures.ts';

let root: string;
let catalog: ArchiveCatalog;

interface Row {
  vendor: string;
  tenant: string;
  report: string;
  dt: string;
  state: string;
  reason: string | null;
  error: string | null;
  run_id: string | null;
  recorded_at: string | null;
  expected: boolean;
  history_days: string | null;
}

async function rows(where = 'true'): Promise<Row[]> {
  const result = await catalog.query(`SELECT * FROM coverage WHERE ${where} ORDER BY vendor, tenant, report, dt`);
  return result.rows as unknown as Row[];
}

const rowOf = (all: Row[], item: { vendor: string; tenant: string }, date: string) =>
  all.find((r) => r.vendor === item.vendor && r.tenant === item.tenant && r.dt === date);

beforeAll(async () => {
  root = await scenarioWorkspace();
  const workspace = localWorkspace(root);
  catalog = await openArchiveCatalog({
    s3Directory: workspace.s3Directory,
    bucket: workspace.bucket,
    tables: readCatalog(workspace),
  });
});

afterAll(() => {
  catalog.close();
  rmSync(root, { recursive: true, force: true });
});

describe('coverage view: states', () => {
  it('gives every day of the scenario its state and whether it is expected', async () => {
    // Act
    const all = await rows();
    // Assess
    for (const day of SCENARIO) {
      const row = rowOf(all, day, day.date);
      expect(row, `${day.vendor}/${day.tenant} ${day.date}`).toMatchObject({
        report: day.report,
        state: day.state,
        expected: day.expected,
      });
    }
    expect(new Set(all.map((r) => r.state))).toEqual(
      new Set(['archived', 'failed', 'skipped', 'missing', 'at_risk', 'lost', 'retention_unknown']),
    );
  });

  it('expects each day from since to until, or to yesterday, and no other without a manifest or record', async () => {
    // Act
    const all = await rows('expected');
    const days = (item: typeof OA) => all.filter((r) => r.vendor === item.vendor && r.tenant === item.tenant);
    // Assess
    expect(days(OA).map((r) => r.dt)).toEqual(Array.from({ length: 40 }, (_, i) => ago(40 - i)));
    expect(days(OA_NEW).map((r) => r.dt)).toEqual([ago(5), ago(4), ago(3), ago(2), ago(1)]);
    expect(days(PING).map((r) => r.dt)).toEqual([ago(3), ago(2)]);
    expect(all.some((r) => r.dt === today)).toBe(false);
    const unexpected = await rows('NOT expected');
    expect(unexpected.map((r) => `${r.vendor} ${r.dt}`)).toEqual([`openathens ${ago(45)}`, `pingone ${today}`]);
  });

  it('shows a tenant never archived as missing on every expected day', async () => {
    const all = await rows();
    const days = all.filter((r) => r.tenant === OA_NEW.tenant);
    expect(days).toHaveLength(5);
    expect(new Set(days.map((r) => r.state))).toEqual(new Set(['missing']));
    expect(days[0]?.reason).toBe('not archived, and no run recorded an outcome for it');
  });

  it('says retention_unknown, never lost or at risk, where the vendor does not document its history', async () => {
    const all = await rows(`vendor = '${CSP.vendor}'`);
    expect(all.map((r) => r.state)).toEqual([
      'retention_unknown',
      'retention_unknown',
      'archived',
      'retention_unknown',
      'retention_unknown',
    ]);
    expect(all[0]?.history_days).toBeNull();
  });
});

describe('coverage view: what a day says', () => {
  it('carries the failure: error name, reason, run and time of the record', async () => {
    const row = rowOf(await rows(), OA, ago(9));
    expect(row).toMatchObject({
      state: 'failed',
      error: 'VendorServerError',
      reason: FAILURE_REASON,
      run_id: 'run-9',
      recorded_at: `${ago(8)}T01:00:00.000Z`,
      history_days: '30',
    });
  });

  it('puts ageing out first, and the failure of a day at risk after it in the reason', async () => {
    const row = rowOf(await rows(), OA, ago(29));
    expect(row).toMatchObject({ state: 'at_risk', error: 'VendorServerError', run_id: 'run-29' });
    expect(row?.reason).toBe(
      'not archived; the vendor stops serving it in 2 day(s); last run failed: VendorServerError: HTTP 502',
    );
  });

  it('reads a skip recorded before the day was over as saying nothing of the day', async () => {
    const row = rowOf(await rows(), CSP, ago(2));
    expect(row?.state).toBe('retention_unknown');
    expect(row?.reason).toBe(
      'not archived; the vendor does not document how long it serves past days; last run skipped: the UTC day is not closed yet',
    );
  });

  it("takes every field from the latest record: a later skip has no error, not the earlier failure's", async () => {
    const row = rowOf(await rows(), OA, ago(8));
    expect(row).toMatchObject({ state: 'skipped', error: null, run_id: 'run-8b' });
    expect(row?.reason).toBe('the vendor window has not passed yet');
  });

  it('lets a manifest win over an earlier failure, and names its run', async () => {
    const row = rowOf(await rows(), OA, ago(7));
    expect(row).toMatchObject({ state: 'archived', error: null, reason: null, run_id: `run-archived-${ago(7)}` });
  });

  it('says how long before an at-risk day ages out, and why a day without a record is lost', async () => {
    const all = await rows();
    expect(rowOf(all, OA, ago(28))?.reason).toBe('not archived; the vendor stops serving it in 3 day(s)');
    expect(rowOf(all, OA, ago(30))?.reason).toBe('not archived; the vendor stops serving it in 1 day(s)');
    expect(rowOf(all, OA, ago(31))?.reason).toBe(
      'not archived, and the vendor no longer serves it (it serves 30 days back)',
    );
    expect(rowOf(all, PING, ago(3))?.reason).toMatch(/snapshot, and a past day cannot be fetched/);
    expect(rowOf(all, OA, ago(6))).toMatchObject({ state: 'lost', reason: 'aged out of the 30-day window unarchived' });
  });
});

describe('coverage view: filters and catalogs', () => {
  it('returns, for a dt range, exactly the days of the whole view in that range', async () => {
    const all = await rows();
    const some = await rows(`dt BETWEEN '${ago(10)}' AND '${ago(3)}'`);
    expect(some).toEqual(all.filter((r) => r.dt >= ago(10) && r.dt <= ago(3)));
    expect(some.length).toBeGreaterThan(8);
  });

  it('reads no manifest or outcome record outside a dt filter (the partitions are pruned)', async () => {
    // Prepare: unreadable objects in a partition 100 days back, which only a full read opens
    const pruned = await scenarioWorkspace();
    const workspace = localWorkspace(pruned);
    const bucketDir = join(workspace.s3Directory, workspace.bucket);
    const old = { vendor: CSP.vendor, tenant: CSP.tenant, report: CSP.report, date: ago(100) };
    for (const key of [manifestKey(old), outcomeKey(old, 'run-old')]) {
      mkdirSync(dirname(join(bucketDir, key)), { recursive: true });
      writeFileSync(join(bucketDir, `${key}${S3RVER_SUFFIX}`), '{not json\n');
    }
    const opened = await openArchiveCatalog({ ...workspace, tables: readCatalog(workspace) });
    try {
      // Act
      const some = await opened.query(`SELECT count(*) AS n FROM coverage WHERE dt >= '${ago(10)}'`);
      // Assess
      expect(some.rows).toEqual([{ n: String((await rows(`dt >= '${ago(10)}'`)).length) }]);
      await expect(opened.query('SELECT count(*) AS n FROM coverage')).rejects.toThrow(/Malformed JSON/);
    } finally {
      opened.close();
      rmSync(pruned, { recursive: true, force: true });
    }
  });

  it('is Trino SQL', async () => {
    expect(await trinoSyntaxProblems(COVERAGE_SQL)).toEqual([]);
  });

  it.each([
    ['### Coverage: `npm run coverage`'],
    ['**4. Which vendor/tenant/report days in the last 30 are missing?**'],
  ])("answers the README's example after %s: the days of the last 30 neither archived nor skipped", async (heading) => {
    // Prepare
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split(heading)[1] ?? '';
    const sql = /```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    // Act
    const { rows: answer } = await catalog.query(sql);
    // Assess
    const all = await rows();
    const wanted = all.filter((r) => r.dt >= ago(30) && r.state !== 'archived' && r.state !== 'skipped');
    expect(answer.map((r) => `${r.vendor} ${r.tenant} ${r.dt} ${r.state}`)).toEqual(
      wanted.map((r) => `${r.vendor} ${r.tenant} ${r.dt} ${r.state}`),
    );
    expect(answer.length).toBeGreaterThan(20);
  });

  it('is created by both catalogs after its sources, and left out when one is missing', () => {
    const tables = catalogTables();
    const views = archiveViews(tables);
    expect(views.map((v) => v.name)).toContain(COVERAGE_VIEW_NAME);
    expect(coverageView().sources).toEqual([MANIFEST_TABLE_NAME, OUTCOMES_TABLE_NAME, EXPECTATIONS_TABLE_NAME]);
    expect(catalogStatements(tables, 'bucket', '/nowhere')).toContain(
      `CREATE OR REPLACE VIEW "${COVERAGE_VIEW_NAME}" AS ${COVERAGE_SQL}`,
    );
    const withoutOutcomes = tables.filter((t) => t.name !== OUTCOMES_TABLE_NAME);
    expect(archiveViews(withoutOutcomes).map((v) => v.name)).not.toContain(COVERAGE_VIEW_NAME);
    expect(archiveViews([...withoutOutcomes, expectationsTable()]).map((v) => v.name)).not.toContain(
      COVERAGE_VIEW_NAME,
    );
  });
});
