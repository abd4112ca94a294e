/**
 * `npm start`: the local pipeline, with no AWS account and no network.
 *
 * 1. Starts the built-in vendor simulators and a local S3 (s3rver) on loopback, or, with
 *    `--config`, uses the vendors and credentials in that file (real or your own servers).
 * 2. Runs each vendor's deployed state machine definition with the real handlers in-process.
 * 3. Prints what was archived and the answers to a few auditor queries, run by DuckDB over the
 *    archived files through the same table definitions as the Glue tables.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { definitionFor, definitions } from '../lambdas/connectors/registry.ts';
import { isCalendarDate } from '../lambdas/core/dates.ts';
import { MANIFESTS_PREFIX } from '../lambdas/core/layout.ts';
import { ConfigValidationError, enabledVendors, loadConfig, parseConfig } from '../lib/config.ts';
import { type LocalSimulators, startLocalSimulators } from '../simulators/index.ts';
import { catalogTables, openArchiveCatalog } from './local/catalog.ts';
import { formatBytes, formatTable } from './local/format.ts';
import { runLocalPipeline, type VendorRunResult } from './local/pipeline.ts';
import { startLocalS3 } from './local/s3.ts';
import { localWorkspace, mergeCatalog, prepareWorkspace, readCatalogIfAny, writeCatalog } from './local/workspace.ts';

const USAGE = `usage: npm start -- [options]

With no options, runs every vendor against the built-in simulators.

  --config <file>     vendors, tenants, base URLs and credentials to use instead of the simulators
                      (tenants may give credentials inline or as credentialsEnv)
  --date <YYYY-MM-DD> the report date to fetch (default: each vendor's choice for today)
  --vendor <id>       only this vendor (repeatable)
  --tenant <id>       only this tenant (repeatable)
  --report <name>     only this report (repeatable)
  --force             archive again dates that are already archived
  --fresh             empty the local archive first
  --fast-waits <ms>   shrink Wait states and retry pauses (for servers with shrunk clocks)
  --workspace <dir>   where the archive lives (default .local)
  --verbose           log every step
`;

/** A bad command line: one line naming the problem, exit 2, nothing started. */
function usageError(message: string): never {
  console.error(`npm start: ${message}`);
  console.error('see: npm start -- --help');
  process.exit(2);
}

let parsed: ReturnType<typeof parseCommandLine>;
try {
  parsed = parseCommandLine();
} catch (error) {
  usageError((error as Error).message);
}
const { values } = parsed;

function parseCommandLine() {
  return parseArgs({
    options: {
      config: { type: 'string' },
      date: { type: 'string' },
      vendor: { type: 'string', multiple: true },
      tenant: { type: 'string', multiple: true },
      report: { type: 'string', multiple: true },
      force: { type: 'boolean' },
      fresh: { type: 'boolean' },
      'fast-waits': { type: 'string' },
      workspace: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

if (values.date !== undefined && !isCalendarDate(values.date)) {
  usageError(`--date must be a calendar date as YYYY-MM-DD; received "${values.date}"`);
}

const fastWaitsArg = values['fast-waits'];
if (fastWaitsArg !== undefined && !(fastWaitsArg.trim() !== '' && Number(fastWaitsArg) >= 0)) {
  usageError(`--fast-waits must be a number of milliseconds; received "${fastWaitsArg}"`);
}

const knownVendors = definitions.map((d) => d.vendor);
const unknownVendors = (values.vendor ?? []).filter((v) => !knownVendors.includes(v));
if (unknownVendors.length > 0) {
  usageError(
    `unknown vendor ${unknownVendors.map((v) => `"${v}"`).join(', ')}; expected one of: ${knownVendors.join(', ')}`,
  );
}

const started = Date.now();
const workspace = localWorkspace(values.workspace);
if (values.fresh) rmSync(workspace.root, { recursive: true, force: true });
prepareWorkspace(workspace);

let simulators: LocalSimulators | undefined;
const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
let failed = false;
try {
  let config: ReturnType<typeof parseConfig>;
  let fastWaitsMs: number | undefined;
  try {
    if (values.config) {
      config = loadConfig(values.config, 'local');
      fastWaitsMs = fastWaitsArg === undefined ? undefined : Number(fastWaitsArg);
      const enabled = enabledVendors(config).map(([vendor]) => vendor);
      const notEnabled = (values.vendor ?? []).filter((v) => !enabled.includes(v));
      if (notEnabled.length > 0) {
        usageError(
          `vendor ${notEnabled.map((v) => `"${v}"`).join(', ')} is not enabled in ${values.config}; expected one of: ${enabled.join(', ') || '(none enabled)'}`,
        );
      }
    } else {
      simulators = await startLocalSimulators({ only: values.vendor });
      config = parseConfig(simulators.config, 'built-in simulators', 'local');
      fastWaitsMs = fastWaitsArg === undefined ? simulators.fastWaitsMs : Number(fastWaitsArg);
    }
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = new Logger({
    serviceName: 'identity-report-archive-local',
    logLevel: values.verbose ? 'DEBUG' : 'ERROR',
  });
  const scheduledTime = new Date();
  console.log(
    `identity-report-archive: local run, scheduled time ${scheduledTime.toISOString()}` +
      (values.date ? `, report date ${values.date}` : '') +
      (simulators ? ' (built-in simulators)' : ` (${values.config})`),
  );
  const results = await runLocalPipeline({
    config,
    scheduledTime,
    date: values.date,
    vendors: values.vendor,
    tenants: values.tenant,
    reports: values.report,
    force: values.force,
    s3,
    tmpDir: workspace.tmpDir,
    fastWaitsMs,
    logger,
  });
  failed = results.some((r) => r.status === 'FAILED');
  printSummary(results, Date.now() - started);

  // keep the tables of earlier runs: their files are still in the archive
  const tables = mergeCatalog(readCatalogIfAny(workspace), catalogTables(config));
  writeCatalog(workspace, tables);
  const catalog = await openArchiveCatalog({ s3Directory: workspace.s3Directory, bucket: workspace.bucket, tables });
  try {
    console.log('\nAuditor queries (DuckDB over the archived files; same SQL is saved in Athena):');
    const queries = [
      {
        description: `what was collected when (manifests under ${MANIFESTS_PREFIX}/)`,
        sql: `SELECT vendor, report, tenant, dt, row_count, substr(completed_at, 1, 19) AS completed_at, substr(originals[1].sha256, 1, 16) AS original_sha256 FROM report_manifests ORDER BY completed_at DESC, vendor, report, tenant LIMIT 12`,
      },
      ...results.flatMap((r) => definitionFor(r.vendor).queries.slice(0, 2)),
    ];
    for (const query of queries) {
      console.log(`\n-- ${query.description}`);
      try {
        console.log(formatTable(await catalog.query(query.sql), 12));
      } catch (error) {
        failed = true;
        console.log(`query failed: ${(error as Error).message}`);
      }
    }
  } finally {
    catalog.close();
  }
  console.log(`\nArchive: ${workspace.s3Directory}/${workspace.bucket}`);
  console.log('More: npm run query -- "SHOW TABLES"');
} finally {
  await simulators?.close();
  await s3.close();
}
process.exitCode = failed ? 1 : 0;

function printSummary(results: VendorRunResult[], elapsedMs: number): void {
  let reports = 0;
  let rows = 0;
  let originalBytes = 0;
  let dataBytes = 0;
  const table = results.map((r) => {
    const archived = r.events.filter((e) => e.detailType === 'Report Archived');
    const failures = r.events.filter((e) => e.detailType === 'Report Failed');
    const skipped = r.outcomes.filter((o) => o.outcome === 'SKIPPED');
    const vendorRows = archived.reduce((sum, e) => sum + Number(e.detail.rowCount ?? 0), 0);
    const bytes = archived.map((e) => e.detail.bytes as { original: number; data: number });
    reports += archived.length;
    rows += vendorRows;
    originalBytes += bytes.reduce((s, b) => s + b.original, 0);
    dataBytes += bytes.reduce((s, b) => s + b.data, 0);
    return {
      vendor: r.vendor,
      status: r.status,
      archived: archived.length,
      'already archived': r.plan?.alreadyArchived ?? 0,
      failed: failures.length,
      skipped: skipped.length,
      rows: vendorRows,
      seconds: (r.durationMs / 1000).toFixed(1),
    };
  });
  console.log(
    formatTable({ columns: Object.keys(table[0] ?? { vendor: '' }), rows: table as Record<string, unknown>[] }, 50),
  );
  // a failure of the plan step has no tenant, report or date
  const item = (d: Record<string, unknown>) =>
    [d.tenant, d.report, d.date].filter((x) => x !== undefined && x !== '').join(' ');
  for (const r of results) {
    for (const e of r.events.filter((x) => x.detailType === 'Report Failed')) {
      const what = item(e.detail);
      console.log(`  ${r.vendor}: ${what ? `${what}: ` : ''}${e.detail.error}: ${e.detail.cause}`);
    }
    for (const o of r.outcomes.filter((x) => x.outcome === 'SKIPPED')) {
      console.log(`  ${r.vendor}: ${item(o.request)}: skipped: ${String(o.reason ?? 'no reason given')}`);
    }
    if (r.status === 'FAILED' && r.events.length === 0) console.log(`  ${r.vendor}: ${r.error}`);
  }
  console.log(
    `\n${reports} reports archived, ${rows} rows, ${formatBytes(originalBytes)} as delivered, ${formatBytes(dataBytes)} as gzip JSON Lines, in ${(elapsedMs / 1000).toFixed(1)} s`,
  );
}
