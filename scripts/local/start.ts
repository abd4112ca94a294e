/**
 * The `npm start` command: reads its command line, starts a local S3 (s3rver) and the built-in
 * vendor simulators (or, with `--config`, uses the vendors and credentials in that file), runs
 * each vendor's deployed state machine definition locally (its progress redrawn in place on a
 * terminal, progress.ts), prints what was archived and the answers to a few auditor queries, and
 * returns the exit code: 0, 1 when a run or a query failed, 2 for a bad command line or config.
 * scripts/local-run.ts only calls it.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { definitionFor, definitions } from '../../lambdas/connectors/registry.ts';
import { archiveQueries } from '../../lambdas/core/archive-queries.ts';
import { addDays, isCalendarDate, utcDate } from '../../lambdas/core/dates.ts';
import { type AppConfig, ConfigValidationError, enabledVendors, loadConfig, parseConfig } from '../../lib/config.ts';
import {
  type InjectedFailure,
  type LocalSimulators,
  simulatedTenants,
  startLocalSimulators,
} from '../../simulators/index.ts';
import { catalogTables, openArchiveCatalog } from './catalog.ts';
import { type CommandOutput, consoleOutput, UsageError } from './command.ts';
import { appendEvents, eventsFile } from './events-log.ts';
import { formatTable } from './format.ts';
import { type RunTracker, watchInterrupt } from './interrupt.ts';
import { writeLocalDigest } from './local-digest.ts';
import { runLocalPipeline, type VendorRunResult } from './pipeline.ts';
import { type ProgressDisplay, type ProgressTerminal, progressDisplay } from './progress.ts';
import { appendRun } from './runs-log.ts';
import { type LocalS3, startLocalS3 } from './s3.ts';
import { printSummary } from './summary.ts';
import {
  type LocalWorkspace,
  localWorkspace,
  prepareWorkspace,
  workspaceStartDate,
  writeCatalog,
} from './workspace.ts';

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
  --inject-failure <vendor>[/<tenant>]
                      the simulator refuses this tenant's credentials (default: the vendor's first
                      tenant) as the vendor documents, so its reports fail while the others
                      archive (repeatable; simulators only, not with --config)
  --fast-waits <ms>   shrink Wait states and retry pauses (for servers with shrunk clocks)
  --workspace <dir>   where the archive lives (default .local)
  --verbose           log every step
`;

type StartOptions = ReturnType<typeof parseStartArgs>['values'];

/**
 * When the simulated tenants' reports are due from, given the workspace's first day: the oldest
 * date a first run on that day plans (a snapshot's own day; OpenAthens' 30 days, CSP's catch-up
 * week, else the day before), so a first run leaves nothing missing or lost behind it.
 */
function simulatedSince(started: string): Record<string, string> {
  const scheduledTime = new Date(`${started}T12:00:00Z`);
  return Object.fromEntries(
    definitions.map((definition) => {
      if (definition.cadence.kind === 'snapshot') return [definition.vendor, started];
      const planned = definition.planDates?.({ scheduledTime, archived: new Set() }) ?? [addDays(started, -1)];
      return [definition.vendor, [...planned].sort()[0] ?? addDays(started, -1)];
    }),
  );
}

/** The vendors to run: from `--config`, or the built-in simulators. */
interface VendorSource {
  readonly config: AppConfig;
  readonly fastWaitsMs?: number;
  readonly simulators?: LocalSimulators;
}

export async function startCommand(
  argv: readonly string[],
  out: CommandOutput = consoleOutput,
  terminal: ProgressTerminal = process.stdout,
): Promise<number> {
  let options: StartOptions;
  let failures: InjectedFailure[];
  try {
    options = checkStartArgs(parseStartArgs(argv).values);
    failures = injectedFailures(options);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) return usageFailure(error.message, out);
    throw error;
  }
  if (options.help) {
    out.print(USAGE);
    return 0;
  }
  const started = Date.now();
  const workspace = localWorkspace(options.workspace);
  if (options.fresh) rmSync(workspace.root, { recursive: true, force: true });
  prepareWorkspace(workspace);

  let simulators: LocalSimulators | undefined;
  const s3 = await startLocalS3(workspace.s3Directory, workspace.bucket);
  try {
    let source: VendorSource;
    try {
      if (options.config) {
        source = configuredVendors(options, options.config);
      } else {
        const since = simulatedSince(workspaceStartDate(workspace, utcDate(new Date())));
        simulators = await startLocalSimulators({ only: options.vendor, failures, since });
        source = simulatedVendors(options, simulators);
      }
    } catch (error) {
      if (error instanceof UsageError) return usageFailure(error.message, out);
      if (!(error instanceof ConfigValidationError)) throw error;
      out.printError(`npm start: ${error.message}`);
      return 2;
    }
    const progress = progressDisplay({
      terminal,
      print: (line) => out.print(line),
      env: process.env,
      verbose: !!options.verbose,
    });
    const tracker = watchInterrupt({
      workspace,
      clear: () => progress.finish(),
      printError: (line) => out.printError(line),
    });
    let results: VendorRunResult[];
    try {
      results = await runVendors(options, source, s3, workspace, out, progress, tracker);
    } finally {
      tracker.dispose();
      progress.finish();
    }
    printSummary(results, Date.now() - started, out, options.date);
    const emitted = appendEvents(workspace, results);
    if (emitted > 0)
      out.print(`Events: ${eventsFile(workspace)} (${emitted} from this run, as EventBridge delivers them)`);
    await writeLocalDigest(s3, workspace, out);
    const queriesFailed = await answerQueries(results, workspace, out);
    out.print(`\nArchive: ${workspace.s3Directory}/${workspace.bucket}`);
    out.print('More: npm run query -- "SHOW TABLES"');
    return queriesFailed || results.some((r) => r.status === 'FAILED') ? 1 : 0;
  } finally {
    await simulators?.close();
    await s3.close();
  }
}

function parseStartArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      date: { type: 'string' },
      vendor: { type: 'string', multiple: true },
      tenant: { type: 'string', multiple: true },
      report: { type: 'string', multiple: true },
      force: { type: 'boolean' },
      fresh: { type: 'boolean' },
      'inject-failure': { type: 'string', multiple: true },
      'fast-waits': { type: 'string' },
      workspace: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The checks `parseArgs` cannot make; `--help` skips them. */
function checkStartArgs(values: StartOptions): StartOptions {
  if (values.help) return values;
  if (values.date !== undefined && !isCalendarDate(values.date)) {
    throw new UsageError(`--date must be a calendar date as YYYY-MM-DD; received "${values.date}"`);
  }
  const fastWaits = values['fast-waits'];
  if (fastWaits !== undefined && !(fastWaits.trim() !== '' && Number(fastWaits) >= 0)) {
    throw new UsageError(`--fast-waits must be a number of milliseconds; received "${fastWaits}"`);
  }
  const known = definitions.map((d) => d.vendor);
  const unknown = (values.vendor ?? []).filter((v) => !known.includes(v));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown vendor ${unknown.map((v) => `"${v}"`).join(', ')}; expected one of: ${known.join(', ')}`,
    );
  }
  return values;
}

/**
 * The tenants `--inject-failure <vendor>[/<tenant>]` names, each one a built-in simulator serves
 * in this run. Only a simulator can be told to refuse a tenant, so `--config` refuses the flag.
 */
function injectedFailures(values: StartOptions): InjectedFailure[] {
  const specs = values['inject-failure'] ?? [];
  if (values.help || specs.length === 0) return [];
  if (values.config !== undefined) {
    throw new UsageError('--inject-failure works only with the built-in simulators, not with --config');
  }
  return specs.map((spec) => {
    const [vendor = '', tenant, ...rest] = spec.split('/');
    const tenants = simulatedTenants(vendor);
    if (!tenants) {
      const known = definitions.map((d) => d.vendor).filter((v) => simulatedTenants(v));
      throw new UsageError(
        `--inject-failure "${spec}": unknown vendor "${vendor}"; expected one of: ${known.join(', ')}`,
      );
    }
    const chosen = tenant ?? tenants[0];
    if (chosen === undefined || rest.length > 0 || !tenants.includes(chosen)) {
      throw new UsageError(
        `--inject-failure "${spec}": unknown tenant of ${vendor}; expected ${vendor}/<tenant> with one of: ${tenants.join(', ')}`,
      );
    }
    if (values.vendor && !values.vendor.includes(vendor)) {
      throw new UsageError(`--inject-failure "${spec}": ${vendor} is not among the --vendor options of this run`);
    }
    if (values.tenant && !values.tenant.includes(chosen)) {
      throw new UsageError(`--inject-failure "${spec}": ${chosen} is not among the --tenant options of this run`);
    }
    return { vendor, tenant: chosen };
  });
}

/** Node's own errors for an unknown option or a missing value (`ERR_PARSE_ARGS_*`). */
function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
}

/** A bad command line: one line naming the problem, exit 2, nothing started. */
function usageFailure(message: string, out: CommandOutput): number {
  out.printError(`npm start: ${message}`);
  out.printError('see: npm start -- --help');
  return 2;
}

function configuredVendors(options: StartOptions, file: string): VendorSource {
  const config = loadConfig(file, 'local');
  const enabled = enabledVendors(config).map(([vendor]) => vendor);
  const notEnabled = (options.vendor ?? []).filter((v) => !enabled.includes(v));
  if (notEnabled.length > 0) {
    throw new UsageError(
      `vendor ${notEnabled.map((v) => `"${v}"`).join(', ')} is not enabled in ${file}; expected one of: ${enabled.join(', ') || '(none enabled)'}`,
    );
  }
  const fastWaits = options['fast-waits'];
  return { config, fastWaitsMs: fastWaits === undefined ? undefined : Number(fastWaits) };
}

function simulatedVendors(options: StartOptions, simulators: LocalSimulators): VendorSource {
  const config = parseConfig(simulators.config, 'built-in simulators', 'local');
  const fastWaits = options['fast-waits'];
  return { config, fastWaitsMs: fastWaits === undefined ? simulators.fastWaitsMs : Number(fastWaits), simulators };
}

async function runVendors(
  options: StartOptions,
  source: VendorSource,
  s3: LocalS3,
  workspace: LocalWorkspace,
  out: CommandOutput,
  progress: ProgressDisplay,
  tracker: RunTracker,
): Promise<VendorRunResult[]> {
  // A log line would scroll the lines being redrawn out of place; what an error line says is in
  // the summary (the failed reports with their causes, the plan's bookkeeping).
  const logger = new Logger({
    serviceName: 'identity-report-archive-local',
    logLevel: options.verbose ? 'DEBUG' : progress.redraws ? 'SILENT' : 'ERROR',
  });
  const scheduledTime = new Date();
  out.print(
    `identity-report-archive: local run, scheduled time ${scheduledTime.toISOString()}` +
      (options.date ? `, report date ${options.date}` : '') +
      (source.simulators ? ' (built-in simulators)' : ` (${options.config})`),
  );
  return runLocalPipeline({
    config: source.config,
    scheduledTime,
    date: options.date,
    vendors: options.vendor,
    tenants: options.tenant,
    reports: options.report,
    force: options.force,
    s3,
    tmpDir: workspace.tmpDir,
    fastWaitsMs: source.fastWaitsMs,
    logger,
    onExecutionStart: (vendor, execution) => tracker.started(vendor, execution),
    onExecutionEnd: (result) => {
      tracker.ended(result.vendor);
      appendRun(workspace, result);
    },
    onProgress: (event) => {
      if (event.kind === 'planned') tracker.planned(event.vendor, event.items);
      progress.onProgress(event);
    },
  });
}

/**
 * Records the catalog's tables in the workspace (every registered report, so what earlier runs
 * archived under another config stays queryable) and prints a few auditor queries over the
 * archive. True when one failed.
 */
async function answerQueries(
  results: readonly VendorRunResult[],
  workspace: LocalWorkspace,
  out: CommandOutput,
): Promise<boolean> {
  const tables = catalogTables();
  writeCatalog(workspace, tables);
  const catalog = await openArchiveCatalog({ s3Directory: workspace.s3Directory, bucket: workspace.bucket, tables });
  let failed = false;
  try {
    out.print('\nAuditor queries (DuckDB over the archived files; same SQL is saved in Athena):');
    const queries = [...archiveQueries, ...results.flatMap((r) => definitionFor(r.vendor).queries.slice(0, 2))];
    for (const query of queries) {
      out.print(`\n-- ${query.name}: ${query.description}`);
      try {
        out.print(formatTable(await catalog.query(query.sql), { maxRows: 12 }));
      } catch (error) {
        failed = true;
        out.print(`query failed: ${(error as Error).message}`);
      }
    }
  } finally {
    catalog.close();
  }
  return failed;
}
