/**
 * A local archive for the coverage tests, written as the pipeline writes one: manifests,
 * outcome records (through the pipeline's own `writeOutcomeRecord`) and each vendor's
 * expectations, into a workspace's local S3, with dates relative to today (UTC), since the view
 * reads `current_date`. `SCENARIO` says which state each day must come out in.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { addDays, utcDate } from '../../lambdas/core/dates.ts';
import { expectationsKey, manifestKey } from '../../lambdas/core/layout.ts';
import type { CoverageState } from '../../lambdas/core/views/coverage.ts';
import { type Outcome, writeOutcomeRecord } from '../../lambdas/pipeline/outcome-record.ts';
import { catalogTables } from '../../scripts/local/catalog.ts';
import { startLocalS3 } from '../../scripts/local/s3.ts';
import { localWorkspace, prepareWorkspace, writeCatalog } from '../../scripts/local/workspace.ts';

export const today = utcDate(new Date());
/** The date `n` days before today. */
export const ago = (n: number) => addDays(today, -n);

interface Item {
  readonly vendor: string;
  readonly tenant: string;
  readonly report: string;
}

export const OA: Item = { vendor: 'openathens', tenant: 'org-a', report: 'raw_statistics' };
/** configured, never archived */
export const OA_NEW: Item = { vendor: 'openathens', tenant: 'org-new', report: 'raw_statistics' };
export const CSP: Item = { vendor: 'csp', tenant: 'ops-admin', report: 'mfa_audit' };
export const PING: Item = { vendor: 'pingone', tenant: 'workforce', report: 'mfa_devices' };

export interface Expectation extends Item {
  readonly since: string;
  readonly until: string | null;
  readonly cadence: 'event-log' | 'snapshot';
  readonly history_days: number | null;
}

export const EXPECTATIONS: readonly Expectation[] = [
  { ...OA, since: ago(40), until: null, cadence: 'event-log', history_days: 30 },
  { ...OA_NEW, since: ago(5), until: null, cadence: 'event-log', history_days: 30 },
  { ...CSP, since: ago(5), until: null, cadence: 'event-log', history_days: null },
  { ...PING, since: ago(3), until: ago(2), cadence: 'snapshot', history_days: 0 },
];

interface RecordFixture extends Item {
  readonly date: string;
  readonly outcome: Outcome;
  readonly error?: string;
  readonly reason?: string;
  readonly runId: string;
  readonly recordedAt: string;
}

export const FAILURE_REASON = 'HTTP 503 from reports.openathens.net after 4 attempts';

export const RECORDS: readonly RecordFixture[] = [
  {
    ...OA,
    date: ago(9),
    outcome: 'failed',
    error: 'VendorServerError',
    reason: FAILURE_REASON,
    runId: 'run-9',
    recordedAt: `${ago(8)}T01:00:00.000Z`,
  },
  // a failure, then a later skip without an error: the skip decides, and carries no error
  {
    ...OA,
    date: ago(8),
    outcome: 'failed',
    error: 'VendorThrottledError',
    reason: 'throttled',
    runId: 'run-8a',
    recordedAt: `${ago(7)}T01:00:00.000Z`,
  },
  {
    ...OA,
    date: ago(8),
    outcome: 'skipped',
    reason: 'the vendor window has not passed yet',
    runId: 'run-8b',
    recordedAt: `${ago(7)}T02:00:00.000Z`,
  },
  // a failure, then archived by a later run: the manifest decides
  {
    ...OA,
    date: ago(7),
    outcome: 'failed',
    error: 'VendorServerError',
    reason: 'HTTP 500',
    runId: 'run-7',
    recordedAt: `${ago(6)}T01:00:00.000Z`,
  },
  // a failure of a day about to age out: at risk wins, the failure follows in the reason
  {
    ...OA,
    date: ago(29),
    outcome: 'failed',
    error: 'VendorServerError',
    reason: 'HTTP 502',
    runId: 'run-29',
    recordedAt: `${ago(28)}T01:00:00.000Z`,
  },
  // a skip recorded while the day was not over yet: it says nothing of the day once it is
  {
    ...CSP,
    date: ago(2),
    outcome: 'skipped',
    reason: 'the UTC day is not closed yet',
    runId: 'run-early',
    recordedAt: `${ago(2)}T23:00:00.000Z`,
  },
  {
    ...OA,
    date: ago(6),
    outcome: 'lost',
    reason: 'aged out of the 30-day window unarchived',
    runId: 'plan-6',
    recordedAt: `${ago(1)}T01:00:00.000Z`,
  },
];

/** Days with a manifest. */
export const MANIFESTS: readonly (Item & { date: string })[] = [
  { ...OA, date: ago(45) }, // before since: shown, not expected
  { ...OA, date: ago(10) },
  { ...OA, date: ago(7) },
  { ...CSP, date: ago(3) },
  { ...PING, date: ago(2) },
  { ...PING, date: today }, // today's snapshot: not expected yet
];

/** The state each listed day must have, and whether it is expected. */
export const SCENARIO: readonly (Item & { date: string; state: CoverageState; expected: boolean })[] = [
  { ...OA, date: ago(45), state: 'archived', expected: false },
  { ...OA, date: ago(35), state: 'lost', expected: true },
  { ...OA, date: ago(31), state: 'lost', expected: true },
  { ...OA, date: ago(30), state: 'at_risk', expected: true },
  { ...OA, date: ago(29), state: 'at_risk', expected: true },
  { ...OA, date: ago(28), state: 'at_risk', expected: true },
  { ...OA, date: ago(27), state: 'missing', expected: true },
  { ...OA, date: ago(10), state: 'archived', expected: true },
  { ...OA, date: ago(9), state: 'failed', expected: true },
  { ...OA, date: ago(8), state: 'skipped', expected: true },
  { ...OA, date: ago(7), state: 'archived', expected: true },
  { ...OA, date: ago(6), state: 'lost', expected: true },
  { ...OA, date: ago(1), state: 'missing', expected: true },
  { ...OA_NEW, date: ago(5), state: 'missing', expected: true },
  { ...OA_NEW, date: ago(1), state: 'missing', expected: true },
  { ...CSP, date: ago(5), state: 'retention_unknown', expected: true },
  { ...CSP, date: ago(3), state: 'archived', expected: true },
  { ...CSP, date: ago(2), state: 'retention_unknown', expected: true },
  { ...CSP, date: ago(1), state: 'retention_unknown', expected: true },
  { ...PING, date: ago(3), state: 'lost', expected: true },
  { ...PING, date: ago(2), state: 'archived', expected: true },
  { ...PING, date: today, state: 'archived', expected: false },
];

function manifest(item: Item & { date: string }): string {
  const dataKey = `data/vendor=${item.vendor}/report=${item.report}/dt=${item.date}/tenant=${item.tenant}/x.jsonl.gz`;
  return `${JSON.stringify({
    schema_version: 2,
    tenant: item.tenant,
    report_date: item.date,
    run_id: `run-archived-${item.date}`,
    completed_at: `${item.date}T23:00:00.000Z`,
    data: { key: dataKey, format: 'jsonl.gz' },
  })}\n`;
}

/** A new workspace holding the scenario's archive; returns its root. */
export async function scenarioWorkspace(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'coverage-'));
  const workspace = localWorkspace(root);
  prepareWorkspace(workspace);
  writeCatalog(workspace, catalogTables());
  const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
  const put = (key: string, body: string) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  try {
    for (const item of MANIFESTS) await put(manifestKey(item), manifest(item));
    for (const vendor of new Set(EXPECTATIONS.map((e) => e.vendor))) {
      const lines = EXPECTATIONS.filter((e) => e.vendor === vendor).map((e) =>
        JSON.stringify({ ...e, written_at: `${today}T00:00:00.000Z` }),
      );
      await put(expectationsKey(vendor), `${lines.join('\n')}\n`);
    }
    for (const r of RECORDS) {
      await writeOutcomeRecord(
        {
          schema_version: 1,
          vendor: r.vendor,
          tenant: r.tenant,
          report: r.report,
          report_date: r.date,
          outcome: r.outcome,
          error: r.error ?? null,
          reason: r.reason ?? null,
          run_id: r.runId,
          recorded_at: r.recordedAt,
          manifest_key: null,
          row_count: null,
        },
        { s3: s3.client, bucket: s3.bucket },
      );
    }
  } finally {
    await s3.close();
  }
  return root;
}
