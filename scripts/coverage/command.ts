/**
 * The `npm run coverage` command: reads its command line, runs the coverage query over the local
 * archive (DuckDB over the workspace) or the deployed one (Athena, found from the stack's
 * outputs), prints the terminal table, writes the HTML page and returns the exit code: 0 every
 * day in the range is archived, skipped or not expected; 1 a day needs attention (failed,
 * missing, at risk, lost, retention unknown); 2 a bad command line, config or stack, or a query
 * that failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ConfigValidationError } from '../../lib/config.ts';
import { AthenaQueryError, athenaTargetOf, queryAthena } from '../deployed/athena.ts';
import { clientConfigOf, deployedStack } from '../deployed/stack.ts';
import type { ArchiveTarget } from '../local/archive-args.ts';
import { type CommandOutput, consoleOutput, UsageError } from '../local/command.ts';
import { type CoverageOptions, parseCoverageArgs, USAGE } from './args.ts';
import { attentionCount, buildCalendar } from './calendar.ts';
import { coveragePage } from './html.ts';
import { queryLocal } from './local.ts';
import { coverageDays, coverageSql } from './query.ts';
import { formatCalendar } from './terminal.ts';

export interface CoverageDeps {
  readonly now: () => Date;
  /** the clients for the deployed target (`--config`), made for the region chosen */
  readonly clients: (region: string | undefined) => { athena: AthenaClient; cfn: CloudFormationClient };
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultDeps: CoverageDeps = {
  now: () => new Date(),
  clients: (region) => {
    const config = region ? { region } : {};
    return { athena: new AthenaClient(config), cfn: new CloudFormationClient(config) };
  },
};

export async function coverageCommand(
  argv: readonly string[],
  out: CommandOutput = consoleOutput,
  deps: CoverageDeps = defaultDeps,
): Promise<number> {
  const now = deps.now();
  let options: CoverageOptions | 'help';
  try {
    options = parseCoverageArgs(argv, now);
  } catch (error) {
    out.printError(`npm run coverage: ${(error as Error).message}`);
    out.printError(USAGE);
    return 2;
  }
  if (options === 'help') {
    out.print(USAGE);
    return 0;
  }
  let result: { source: string; rows: Record<string, unknown>[] };
  try {
    const sql = coverageSql(options.filter);
    const { target } = options;
    result =
      target.kind === 'deployed' ? await queryDeployed(sql, target, deps) : await queryLocal(sql, target.workspace);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigValidationError || error instanceof AthenaQueryError) {
      out.printError(`npm run coverage: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const calendar = buildCalendar(coverageDays(result.rows), options.filter.from, options.filter.to);
  const file = resolve(options.out);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, coveragePage(calendar, { source: result.source, generatedAt: now }));
  out.print(formatCalendar(calendar, result.source));
  out.print(`page: ${file}`);
  return attentionCount(calendar.counts) === 0 ? 0 : 1;
}

async function queryDeployed(
  sql: string,
  target: Extract<ArchiveTarget, { kind: 'deployed' }>,
  deps: CoverageDeps,
): Promise<{ source: string; rows: Record<string, unknown>[] }> {
  const stack = deployedStack(target);
  const { config } = stack;
  const { athena, cfn } = deps.clients(clientConfigOf(stack).region);
  try {
    const target = await athenaTargetOf(cfn, config.stackName);
    const rows = await queryAthena(sql, target, { athena, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
    return { source: `stack ${config.stackName} (Athena workgroup ${target.workgroup})`, rows };
  } finally {
    athena.destroy();
    cfn.destroy();
  }
}
