/**
 * PingOne end to end: the deployed state machine definition run locally (aws-local-stepfunctions,
 * the real handlers, s3rver) against the simulator, one scenario per simulator switch. Asserts
 * the archive and the table, the 5-second spacing, and that no token, zip password or client
 * secret reaches a log line, an event, the execution output or the archive.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetPingOneClientState } from '../../../lambdas/connectors/pingone/client.ts';
import { pingOneDefinition } from '../../../lambdas/connectors/pingone/definition.ts';
import { PingOneSectionSchema } from '../../../lambdas/connectors/pingone/settings.ts';
import { connectorFor } from '../../../lambdas/connectors/registry.ts';
import { ManifestSchema } from '../../../lambdas/core/archive/manifest.ts';
import { manifestKey, originalKey } from '../../../lambdas/core/layout.ts';
import { reportTable } from '../../../lambdas/core/tables.ts';
import type { AppConfig } from '../../../lib/config.ts';
import { openArchiveCatalog } from '../../../scripts/local/catalog.ts';
import { runLocalPipeline, type VendorRunResult } from '../../../scripts/local/pipeline.ts';
import { type LocalS3, S3RVER_SUFFIX, startLocalS3 } from '../../../scripts/local/s3.ts';
import {
  localVendorSection,
  type PingOneSimulator,
  type PingOneSimulatorOptions,
} from '../../../simulators/pingone/server.ts';
import { testAppConfig } from '../../support/app-config.ts';
import {
  callGaps,
  expectNoSecrets,
  LogCapture,
  secretsOf,
  startSim,
  TENANT_A,
  TENANT_B,
  WINDOW_MS,
} from './helpers.ts';

const SCHEDULED = new Date('2026-11-22T02:20:00Z');
const DATE = '2026-11-22';
const ROWS = 80;
const report = pingOneDefinition.reports[0]!;

let dir: string;
let s3: LocalS3;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pingone-e2e-'));
  s3 = await startLocalS3(join(dir, 's3'));
  await mkdir(join(dir, 'tmp'), { recursive: true });
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  resetPingOneClientState();
});

function configFor(section: Record<string, unknown>): AppConfig {
  return testAppConfig({ pingone: PingOneSectionSchema.parse(section) });
}

interface Scenario {
  readonly sim: PingOneSimulator;
  readonly result: VendorRunResult;
  readonly logs: string;
  readonly config: AppConfig;
}

async function scenario(
  options: PingOneSimulatorOptions,
  adjust: (section: Record<string, unknown> & { tenants: Record<string, unknown>[] }) => void = () => {},
): Promise<Scenario> {
  const sim = await startSim({ rowsPerEnvironment: ROWS, ...options });
  const section = localVendorSection(sim) as Record<string, unknown> & { tenants: Record<string, unknown>[] };
  // due from the run's own day: a snapshot's earlier days would be lost, and recorded as such
  section.tenants = section.tenants.map((tenant) => ({ ...tenant, since: DATE }));
  adjust(section);
  const config = configFor(section);
  const capture = new LogCapture().start();
  let result: VendorRunResult;
  try {
    [result] = (await runLocalPipeline({
      config,
      scheduledTime: SCHEDULED,
      // the run happens at its scheduled time: a snapshot is only archived for the day it is taken
      now: () => new Date(SCHEDULED),
      s3,
      tmpDir: join(dir, 'tmp'),
      fastWaitsMs: 1,
      force: true,
      connectors: [connectorFor('pingone')],
      logger: new Logger({ serviceName: 'pingone-e2e', logLevel: 'DEBUG' }),
    })) as [VendorRunResult];
  } finally {
    capture.stop();
    await sim.close();
  }
  return { sim, result, logs: capture.text(), config };
}

async function archiveFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string) => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(full);
    }
  };
  await walk(join(dir, 's3'));
  return out;
}

/** Tokens, zip passwords and client secrets: nowhere in logs, events, output, or any archived object. */
async function assertNoSecrets(run: Scenario): Promise<void> {
  const texts = [run.logs, JSON.stringify(run.result)];
  for (const file of await archiveFiles()) texts.push((await readFile(file)).toString('latin1'));
  expect(expectNoSecrets(texts, secretsOf(run.sim))).toEqual([]);
  expect(run.logs).not.toMatch(/X-Amz-(Signature|Security-Token|Credential)/);
}

function assertSpacing(run: Scenario): void {
  expect(run.sim.stats.rateLimited).toBe(0);
  for (const gap of callGaps(run.sim)) expect(gap).toBeGreaterThanOrEqual(WINDOW_MS);
}

function archived(run: Scenario): Record<string, number> {
  return Object.fromEntries(
    run.result.events
      .filter((e) => e.detailType === 'Report Archived')
      .map((e) => [String(e.detail.tenant), Number(e.detail.rowCount)]),
  );
}

function failed(run: Scenario): Record<string, string> {
  return Object.fromEntries(
    run.result.events
      .filter((e) => e.detailType === 'Report Failed')
      .map((e) => [String(e.detail.tenant), `${e.detail.error}: ${e.detail.cause}`]),
  );
}

async function readManifest(tenant: string): Promise<Record<string, unknown>> {
  const key = manifestKey({ vendor: 'pingone', report: 'mfa_devices', tenant, date: DATE });
  return JSON.parse(await readFile(join(dir, 's3', s3.bucket, `${key}${S3RVER_SUFFIX}`), 'utf8'));
}

describe('pingone end to end through the state machine', () => {
  it('file mode (ZipCrypto, client_secret_basic, slow job) and entries mode (client_secret_post) archive every row', async () => {
    // Act
    const run = await scenario({ pollsUntilDone: 2 });
    // Assess
    expect(run.result.status).toBe('SUCCEEDED');
    expect(run.result.plan?.items.map((i) => i.date)).toEqual([DATE, DATE]);
    expect(archived(run)).toEqual({ [TENANT_A]: ROWS, [TENANT_B]: ROWS });
    const catalog = await openArchiveCatalog({
      s3Directory: join(dir, 's3'),
      bucket: s3.bucket,
      // Only the report table: the shared manifest view does not open in this DuckDB (compression 'none').
      tables: [reportTable('pingone', report)],
    });
    try {
      const counts = await catalog.query(
        `SELECT tenant, COUNT(*) AS n, SUM(CASE WHEN mfa_enabled = false THEN 1 ELSE 0 END) AS without_mfa
         FROM pingone_mfa_devices WHERE dt = '${DATE}' GROUP BY tenant ORDER BY tenant`,
      );
      const expected = (tenant: string) => {
        const env = run.sim.environments.find((e) => e.tenantId === tenant);
        return String(run.sim.dataset(env?.id ?? '').filter((r) => r.mfaEnabled === false).length);
      };
      expect(counts.rows).toEqual([
        { tenant: TENANT_A, n: String(ROWS), without_mfa: expected(TENANT_A) },
        { tenant: TENANT_B, n: String(ROWS), without_mfa: expected(TENANT_B) },
      ]);
    } finally {
      catalog.close();
    }
    const manifest = await readManifest(TENANT_A);
    expect(JSON.stringify(manifest)).toMatch(/devices-report-.*\.csv\.zip/);
    expect(JSON.stringify(manifest)).toMatch(/devices-report-.*\.json\.zip/);
    expect(run.sim.requests.filter((r) => r.route === 'download').every((r) => !r.hasAuthorization)).toBe(true);
    assertSpacing(run);
    await assertNoSecrets(run);
  });

  it('AES-256 zips and a refused (expired) link: fresh links, then archived', async () => {
    // Act
    const run = await scenario({ zipEncryption: 'aes256', refuseFirstDownloads: 1, pollsUntilDone: 1 });
    // Assess
    expect(archived(run)).toEqual({ [TENANT_A]: ROWS, [TENANT_B]: ROWS });
    expect(run.sim.requests.filter((r) => r.route === 'download').map((r) => r.status)).toContain(403);
    assertSpacing(run);
    await assertNoSecrets(run);
  });

  it('entries in the top-level shape with string booleans, and a JSON link under another name', async () => {
    // Act
    const run = await scenario(
      {
        entriesShape: 'top-level',
        entriesBooleansAsStrings: true,
        jsonLinkField: 'jsonFileUrl',
        pollsUntilDone: 0,
        entriesLayout: 'pretty',
      },
      (section) => {
        section.entries = { pageLimit: 15, deadlineSeconds: 60 };
      },
    );
    // Assess
    expect(archived(run)).toEqual({ [TENANT_A]: ROWS, [TENANT_B]: ROWS });
    expect(run.sim.requests.filter((r) => r.route === 'entries')).toHaveLength(Math.ceil(ROWS / 15));
    assertSpacing(run);
    // the original is the page bodies exactly as sent (indented, CRLF), one manifest entry per page
    const sent = run.sim.requests.filter((r) => r.route === 'entries' && r.sent).map((r) => r.sent!);
    expect(sent[0]!.toString('utf8')).toContain('\r\n    ');
    const where = { vendor: 'pingone', report: 'mfa_devices', tenant: TENANT_B, date: DATE };
    const manifest = ManifestSchema.parse(await readManifest(TENANT_B));
    const stored = await readFile(
      join(
        dir,
        's3',
        s3.bucket,
        `${originalKey(where, manifest.attempt, 'mfa-devices-entries.pages.json')}${S3RVER_SUFFIX}`,
      ),
    );
    expect(stored.equals(Buffer.concat(sent))).toBe(true);
    expect(manifest.originals.map((o) => [o.file_name, o.role, o.format])).toEqual([
      ['mfa-devices-entries.pages.json', 'original', 'json-pages'],
    ]);
    expect(manifest.originals[0]!.entries.map((e) => [e.name, e.bytes, e.sha256])).toEqual(
      sent.map((page, i) => [
        i === 0 ? 'page 1: entries?limit=15' : `page ${i + 1}: _links.next of page ${i}`,
        page.length,
        createHash('sha256').update(page).digest('hex'),
      ]),
    );
    expect(manifest.dropped).toEqual({});
    expect(manifest.row_count).toBe(ROWS);
  });

  it('429 with Retry-After (inline in seconds, long in an HTTP date) and 5xx are waited out', async () => {
    // Act
    const run = await scenario({
      pollsUntilDone: 1,
      retryAfterFormat: 'http-date',
      faults: [
        { route: 'create', status: 429, retryAfter: '1', environmentId: '3f0d3c1e-5b7a-4c2e-9a61-0c7a2d1e4b01' },
        {
          route: 'poll',
          status: 429,
          retryAfter: new Date(Date.now() + 60_000).toUTCString(),
          environmentId: '3f0d3c1e-5b7a-4c2e-9a61-0c7a2d1e4b01',
        },
        { route: 'entries', status: 503, times: 2 },
      ],
    });
    // Assess
    expect(archived(run)).toEqual({ [TENANT_A]: ROWS, [TENANT_B]: ROWS });
    const statuses = run.sim.requests.filter((r) => r.server === 'api').map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    expect(run.logs).toContain('vendor throttled; waiting in the state machine');
    await assertNoSecrets(run);
  });

  it('bad credentials fail that environment only, naming it; the other is archived', async () => {
    // Act
    const run = await scenario({ pollsUntilDone: 0 }, (section) => {
      const tenant = section.tenants[0] as { credentials: { clientSecret: string } };
      tenant.credentials = { ...tenant.credentials, clientSecret: 'not-the-Secret-42' };
    });
    // Assess
    expect(run.result.status).toBe('FAILED');
    expect(archived(run)).toEqual({ [TENANT_B]: ROWS });
    expect(failed(run)[TENANT_A]).toMatch(
      /^VendorAuthError: pingone environment 3f0d3c1e-.* \(tenant "sim-env-a"\): the token request was refused \(HTTP 401 ACCESS_FAILED/,
    );
    expect(JSON.stringify(run.result)).not.toContain('not-the-Secret-42');
    expect(run.logs).not.toContain('not-the-Secret-42');
    await assertNoSecrets(run);
  });

  it('a status that is neither IN_PROGRESS nor SUCCESS fails the run naming it', async () => {
    // Act
    const run = await scenario({ pollsUntilDone: 1, terminalStatus: 'FAILED' });
    // Assess
    expect(failed(run)[TENANT_A]).toMatch(/^JobFailed: .*reported status FAILED .*expected IN_PROGRESS or SUCCESS/);
    expect(archived(run)).toEqual({ [TENANT_B]: ROWS });
  });

  it('a lost exploration (404) is requested again and archived', async () => {
    // Act
    const run = await scenario({
      pollsUntilDone: 1,
      faults: [{ route: 'poll', status: 404, environmentId: '3f0d3c1e-5b7a-4c2e-9a61-0c7a2d1e4b01' }],
    });
    // Assess
    expect(archived(run)).toEqual({ [TENANT_A]: ROWS, [TENANT_B]: ROWS });
    const creates = run.sim.requests.filter(
      (r) => r.route === 'create' && r.environmentId === '3f0d3c1e-5b7a-4c2e-9a61-0c7a2d1e4b01',
    );
    expect(creates).toHaveLength(2);
    assertSpacing(run);
  });
});
