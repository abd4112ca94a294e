/**
 * The `npm run status` command: reads its command line, opens the local source (runs.jsonl and
 * s3rver over the workspace) or the deployed one (Step Functions and the bucket, from the stack's
 * outputs), collects the report, prints it (or JSON) and returns the exit code: 0 healthy, 1
 * something needs attention, 2 a bad command line, config or stack.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { UnreadableRecordError } from '../../lambdas/ops/outcome-reader.ts';
import { ConfigValidationError } from '../../lib/config.ts';
import { clientConfigOf, deployedStack } from '../deployed/stack.ts';
import type { ArchiveTarget } from '../local/archive-args.ts';
import { type CommandOutput, consoleOutput, UsageError } from '../local/command.ts';
import { DEFAULT_GRACE_HOURS, parseStatusArgs, type StatusOptions, USAGE } from './args.ts';
import { collectStatus } from './collect.ts';
import type { DeployedClients } from './deployed.ts';
import { deployedSource } from './deployed.ts';
import { formatStatus } from './format.ts';
import { localSource } from './local.ts';
import type { StatusReport } from './model.ts';

export interface StatusDeps {
  readonly now: () => Date;
  /** the clients for the deployed target, made for the region chosen */
  readonly clients: (region: string | undefined) => DeployedClients;
  /** colour the verdicts: the output is a terminal */
  readonly colour: boolean;
}

const defaultDeps: StatusDeps = {
  now: () => new Date(),
  clients: (region) => {
    const config = region ? { region } : {};
    return { cfn: new CloudFormationClient(config), sfn: new SFNClient(config), s3: new S3Client(config) };
  },
  colour: process.stdout.isTTY === true && !process.env.CI && !process.env.NO_COLOR,
};

export async function statusCommand(
  argv: readonly string[],
  out: CommandOutput = consoleOutput,
  deps: StatusDeps = defaultDeps,
): Promise<number> {
  let options: StatusOptions | 'help';
  try {
    options = parseStatusArgs(argv);
  } catch (error) {
    out.printError(`npm run status: ${(error as Error).message}`);
    out.printError(USAGE);
    return 2;
  }
  if (options === 'help') {
    out.print(USAGE);
    return 0;
  }
  let report: StatusReport;
  try {
    const { target } = options;
    report =
      target.kind === 'local' ? await statusLocal(target, options, deps) : await statusDeployed(target, options, deps);
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ConfigValidationError ||
      error instanceof UnreadableRecordError // a record of the archive, named by its key
    ) {
      out.printError(`npm run status: ${error.message}`);
      return 2;
    }
    throw error;
  }
  out.print(options.json ? JSON.stringify(report, null, 2) : formatStatus(report, { colour: deps.colour }));
  return report.healthy ? 0 : 1;
}

async function statusLocal(
  target: Extract<ArchiveTarget, { kind: 'local' }>,
  options: StatusOptions,
  deps: StatusDeps,
): Promise<StatusReport> {
  const source = await localSource(target.workspace, DEFAULT_GRACE_HOURS, options.vendor);
  try {
    return await collectStatus(source, { now: deps.now(), days: options.days, runs: options.runs });
  } finally {
    await source.close();
  }
}

async function statusDeployed(
  target: Extract<ArchiveTarget, { kind: 'deployed' }>,
  options: StatusOptions,
  deps: StatusDeps,
): Promise<StatusReport> {
  const stack = deployedStack(target);
  const clients = deps.clients(clientConfigOf(stack).region);
  try {
    const graceHours = stack.config.alerts.freshnessGraceHours;
    const source = await deployedSource(stack.config, clients, graceHours, options.vendor);
    return await collectStatus(source, { now: deps.now(), days: options.days, runs: options.runs });
  } finally {
    clients.cfn.destroy();
    clients.sfn.destroy();
    clients.s3.destroy();
  }
}
