/**
 * The CSP connector end to end: the deployed state machine definition run locally with the real
 * handlers, the CSP simulator and s3rver, then the table queried with DuckDB.
 */

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cspDefinition } from '../../../lambdas/connectors/csp/definition.ts';
import { createCspRuntime } from '../../../lambdas/connectors/csp/runtime.ts';
import { CspSectionSchema } from '../../../lambdas/connectors/csp/settings.ts';
import { ManifestSchema } from '../../../lambdas/core/archive/manifest.ts';
import { dataKey, manifestKey, originalKey } from '../../../lambdas/core/layout.ts';
import { registerConnector } from '../../../lambdas/core/types.ts';
import type { AppConfig } from '../../../lib/config.ts';
import { catalogTables, openArchiveCatalog } from '../../../scripts/local/catalog.ts';
import { runLocalPipeline, type VendorRunResult } from '../../../scripts/local/pipeline.ts';
import { type LocalS3, startLocalS3 } from '../../../scripts/local/s3.ts';
import {
  type CspSimulator,
  type CspSimulatorOptions,
  createRng,
  localVendorSection,
  makeEvent,
  startCspSimulator,
} from '../../../simulators/csp/server.ts';
import { LOCAL_SINCE } from '../../../simulators/local-since.ts';
import { testAppConfig } from '../../support/app-config.ts';
import { sqlAsOf } from '../../support/sql-as-of.ts';
import { ANCHOR, DATE, DAY_END, DAY_START, NOW, simClock } from './helpers.ts';

let root: string;
let sim: CspSimulator | undefined;
let s3: LocalS3 | undefined;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'csp-pipeline-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

afterEach(async () => {
  await sim?.close();
  await s3?.close();
  sim = undefined;
  s3 = undefined;
});

function appConfig(section: Record<string, unknown>): AppConfig {
  return testAppConfig(
    { csp: section },
    { maxDownloadBytes: 10_000_000, maxExtractedBytes: 10_000_000, maxCompressionRatio: 100 },
  );
}

interface Scenario {
  readonly sim?: CspSimulatorOptions;
  readonly section?: Record<string, unknown>;
  /** tenants beyond the simulator's defaults, or with bad tokens */
  readonly tenants?: (s: CspSimulator) => Record<string, unknown>[];
}

async function scenario(options: Scenario = {}) {
  sim = await startCspSimulator({ anchor: ANCHOR, now: simClock, ...options.sim });
  const s = sim;
  // each scenario has its own archive
  const dir = join(root, `scenario-${++counter}`);
  const store = await startLocalS3(join(dir, 's3'));
  s3 = store;
  const raw = localVendorSection(s, { pageLimit: 7, ...options.section });
  // due from a fixed day before every date these scenarios fetch (the simulator's clock is fixed)
  raw.tenants = raw.tenants.map((tenant) => ({ ...tenant, since: LOCAL_SINCE }));
  if (options.tenants) raw.tenants = options.tenants(s) as typeof raw.tenants;
  const section = CspSectionSchema.parse(raw);
  const config = appConfig(section);
  const connector = registerConnector(cspDefinition, async () => createCspRuntime());
  const tmpDir = join(dir, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const run = (extra: { force?: boolean; date?: string } = {}) =>
    runLocalPipeline({
      config,
      scheduledTime: NOW,
      now: () => NOW,
      date: extra.date ?? DATE,
      s3: store,
      tmpDir,
      fastWaitsMs: 1,
      connectors: [connector],
      logger: new Logger({ serviceName: 'csp-e2e', logLevel: 'SILENT' }),
      ...(extra.force ? { force: true } : {}),
    }).then(([result]) => result as VendorRunResult);
  const query = async (sql: string, table = 'csp_mfa_audit') => {
    const catalog = await openArchiveCatalog({
      s3Directory: join(dir, 's3'),
      bucket: store.bucket,
      // only the table asked for: the queries below need nothing else
      tables: catalogTables([cspDefinition]).filter((t) => t.name === table),
    });
    try {
      return (await catalog.query(sql)).rows;
    } finally {
      catalog.close();
    }
  };
  const expected = (username: string) => s.eventsFor(username, DAY_START, DAY_END);
  return { s, section, run, query, expected, store };
}

async function getObject(store: LocalS3, key: string): Promise<Buffer> {
  const answer = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

const countsSql = `SELECT tenant, COUNT(*) AS n, COUNT(DISTINCT event_id) AS ids FROM csp_mfa_audit WHERE dt = '${DATE}' GROUP BY tenant ORDER BY tenant`;

describe('csp through the state machine', () => {
  it('archives each user token as a tenant; the table answers the known counts exactly; re-runs add nothing', async () => {
    const { s, run, query, expected } = await scenario();
    const first = await run();
    expect(first.status).toBe('SUCCEEDED');
    const archived = first.events.filter((e) => e.detailType === 'Report Archived');
    expect(archived.map((e) => e.detail.tenant).sort()).toEqual(['alice', 'bjorn', 'chen']);
    const archivedRequest = {
      vendor: 'csp',
      report: 'mfa_audit',
      tenant: String(archived[0]?.detail.tenant),
      date: DATE,
    };
    // each run writes under an attempt id of its own: read it from the event, check the layout around it
    const attempt = /"data":"[^"]*\/(\d{8}T\d{6}Z-[0-9a-f]{8})\.jsonl\.gz"/.exec(
      JSON.stringify(archived[0]?.detail.keys),
    )?.[1];
    expect(attempt).toBeDefined();
    expect(archived[0]?.detail.keys).toMatchObject({
      data: dataKey(archivedRequest, attempt ?? ''),
      originals: [originalKey(archivedRequest, attempt ?? '', `mfa-audit-${DATE}.pages.json`)],
    });

    const want = s.users
      .filter((u) => u.tenant)
      .map((u) => ({ tenant: u.id, n: String(expected(u.username).length), ids: String(expected(u.username).length) }))
      .sort((a, b) => a.tenant.localeCompare(b.tenant));
    expect(await query(countsSql)).toEqual(want);

    // a saved query answers exactly what the simulator holds
    const failures = await query(
      `SELECT COUNT(*) AS n FROM csp_mfa_audit WHERE tenant = 'alice' AND action = 'MFA_AUTHENTICATION_FAILURE'`,
    );
    expect(failures).toEqual([
      { n: String(expected('alice@example.com').filter((e) => e.action === 'MFA_AUTHENTICATION_FAILURE').length) },
    ]);
    // the saved auditor queries run on the local engine and count what the simulator holds
    const all = s.users.filter((u) => u.tenant).flatMap((u) => expected(u.username));
    const count = (...actions: string[]) => all.filter((e) => actions.includes(e.action)).length;
    const saved = Object.fromEntries(cspDefinition.queries.map((q) => [q.name, sqlAsOf(q.sql, NOW)]));
    const sum = (rows: Record<string, unknown>[], column: string) => rows.reduce((n, r) => n + Number(r[column]), 0);
    expect(sum(await query(saved['csp-mfa-deactivations-and-disables-per-user']!), 'events')).toBe(
      count('MFA_DEACTIVATION', 'MFA_DISABLE'),
    );
    expect(sum(await query(saved['csp-mfa-authentication-failures-per-day']!), 'failures')).toBe(
      count('MFA_AUTHENTICATION_FAILURE', 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE'),
    );
    expect(await query(saved['csp-logins-without-mfa']!)).toHaveLength(count('AUTHENTICATION_WITHOUT_MFA'));
    expect(await query(saved['csp-recovery-code-use']!)).toHaveLength(
      count(
        'MFA_RECOVERY_CODE_AUTHENTICATION_SUCCESS',
        'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE',
        'MFA_RECOVERY_CODES_GENERATION',
      ),
    );

    // re-running the date: the plan skips it, the vendor is not called
    const before = s.requests.length;
    const again = await run();
    expect(again.status).toBe('SUCCEEDED');
    expect(again.plan?.items).toEqual([]);
    expect(s.requests.length).toBe(before);

    // forced: the same keys are overwritten, the table still holds each event once
    const forced = await run({ force: true });
    expect(forced.status).toBe('SUCCEEDED');
    expect(await query(countsSql)).toEqual(want);
  });

  it('pages through events arriving while paging, with 0-based pages, and de-duplicates', async () => {
    const { s, run, query, expected } = await scenario({
      sim: { insertWhilePaging: true, pageStartBase: 0, totalResults: false },
      section: { pageLimit: 5 },
    });
    const originals = Object.fromEntries(
      s.users.filter((u) => u.tenant).map((u) => [u.id, expected(u.username).length]),
    );
    const result = await run();
    expect(result.status).toBe('SUCCEEDED');
    expect(s.inserted.length).toBeGreaterThan(0);
    const rows = await query(countsSql);
    expect(rows).toEqual(
      Object.entries(originals)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([tenant, n]) => ({ tenant, n: String(n), ids: String(n) })),
    );
  });

  it('stores the page bodies byte for byte, one manifest entry per page, and counts what the table leaves out', async () => {
    // Prepare: a result-index API answering indented JSON, and one event at exactly endDate (inclusive)
    const { s, run, query, expected, store } = await scenario({
      sim: { pageStartMeaning: 'index', jsonLayout: 'pretty' },
    });
    const alice = s.users.find((u) => u.id === 'alice')!;
    const rng = createRng(19);
    s.setEvents(alice.username, [...s.eventsFor(alice.username, 0, DAY_END), makeEvent(rng, alice.username, DAY_END)]);
    // Act
    const result = await run();
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const where = { vendor: 'csp', report: 'mfa_audit', tenant: 'alice', date: DATE };
    const sent = s.requests.filter((r) => r.username === alice.username && r.sent).map((r) => r.sent!);
    expect(sent.length).toBeGreaterThan(3);
    expect(sent[0]!.toString('utf8')).toContain('" :  ');
    const manifest = ManifestSchema.parse(JSON.parse((await getObject(store, manifestKey(where))).toString('utf8')));
    const stored = await getObject(store, originalKey(where, manifest.attempt, `mfa-audit-${DATE}.pages.json`));
    expect(stored.equals(Buffer.concat(sent))).toBe(true);
    expect(manifest.originals.map((o) => [o.file_name, o.role, o.format])).toEqual([
      [`mfa-audit-${DATE}.pages.json`, 'original', 'json-pages'],
    ]);
    expect(manifest.originals[0]!.entries.map((e) => [e.bytes, e.sha256])).toEqual(
      sent.map((page) => [page.length, createHash('sha256').update(page).digest('hex')]),
    );
    expect(manifest.originals[0]!.entries[0]!.name).toMatch(
      /^page 1: 2026-11-18T00:00:00.000Z\.\.2026-11-19T00:00:00.000Z pageStart=0/,
    );
    // the page that taught the reading repeated 6 of the first page's 7 results; the endDate event is the next day's
    expect(manifest.dropped).toEqual({ duplicate_event_id: 6, outside_window: 1 });
    expect(manifest.row_count).toBe(expected(alice.username).length);
    const counted = await query(
      `SELECT CAST(dropped->>'duplicate_event_id' AS INTEGER) AS duplicates FROM report_manifests WHERE tenant = 'alice'`,
      'report_manifests',
    );
    expect(counted).toEqual([{ duplicates: 6 }]);
    const rows = await query(countsSql);
    expect(rows.find((r) => r.tenant === 'alice')).toEqual({
      tenant: 'alice',
      n: String(expected(alice.username).length),
      ids: String(expected(alice.username).length),
    });
  });

  it('splits windows past the record cap (configured and the API’s own)', async () => {
    const { s, run, query, expected } = await scenario({
      sim: { eventsPerUser: 700, recordCap: 15 },
      section: { pageLimit: 5, maxRecordsPerWindow: 20 },
    });
    const result = await run();
    expect(result.status).toBe('SUCCEEDED');
    const rows = await query(countsSql);
    for (const row of rows) {
      const user = s.users.find((u) => u.id === row.tenant)!;
      expect(row.n).toBe(String(expected(user.username).length));
      expect(row.ids).toBe(row.n);
    }
    expect(s.requests.some((r) => r.status === 400)).toBe(true);
  });

  it('retries transient 429/5xx and refreshes an expired access token', async () => {
    const { s, run, query, expected } = await scenario({
      sim: {
        accessTokenMaxUses: 3,
        faults: [
          { endpoint: 'audit', status: 429, times: 2, retryAfterSeconds: 0 },
          { endpoint: 'audit', status: 503, afterCalls: 5 },
          { endpoint: 'authorize', status: 500 },
        ],
      },
    });
    const result = await run();
    expect(result.status).toBe('SUCCEEDED');
    const rows = await query(countsSql);
    expect(rows.find((r) => r.tenant === 'alice')?.n).toBe(String(expected('alice@example.com').length));
    expect(s.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
  });

  it('ends only the refused tenants: invalid token, service account, deleted user', async () => {
    const { run, query, expected } = await scenario({
      tenants: (s) => [
        ...s.users.map((u) => ({
          id: u.id,
          since: LOCAL_SINCE,
          label: u.username,
          credentials: { apiToken: u.apiToken },
        })),
        { id: 'expired', since: LOCAL_SINCE, label: 'dana@example.com', credentials: { apiToken: 'z'.repeat(65) } },
      ],
    });
    const result = await run();
    expect(result.status).toBe('FAILED');
    const failed = Object.fromEntries(
      result.events.filter((e) => e.detailType === 'Report Failed').map((e) => [e.detail.tenant, e.detail.error]),
    );
    expect(failed).toEqual({ robot: 'VendorAuthError', gone: 'VendorAuthError', expired: 'VendorAuthError' });
    expect(JSON.stringify(result.events)).not.toContain('z'.repeat(20));
    const rows = await query(countsSql);
    expect(rows.map((r) => r.tenant)).toEqual(['alice', 'bjorn', 'chen']);
    expect(rows[0]?.n).toBe(String(expected('alice@example.com').length));
  });

  it('archives a day without events as an empty partition', async () => {
    const { s, run, query } = await scenario();
    for (const user of s.users) s.setEvents(user.username, []);
    const result = await run();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.filter((e) => e.detailType === 'Report Archived')).toHaveLength(3);
    expect(await query(countsSql)).toEqual([]);
  });

  it('skips a day that has not ended, sending nothing to CSP, and announces the skip with its reason', async () => {
    const { s, run } = await scenario();
    const result = await run({ date: '2026-11-20' });
    expect(result.events.map((e) => e.detailType)).toEqual(result.events.map(() => 'Report Skipped'));
    expect(result.events.length).toBeGreaterThan(0);
    for (const event of result.events) {
      expect(event.detail).toMatchObject({
        vendor: 'csp',
        date: '2026-11-20',
        reason: expect.stringMatching(/not closed yet/),
      });
    }
    expect(s.requests).toEqual([]);
  });
});
