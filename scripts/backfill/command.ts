/**
 * The backfill command with its clients handed in: plan, print, and unless `--dry-run` start.
 * Returns the exit status (see USAGE in args.ts).
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ConnectorDefinition } from '../../lambdas/core/types.ts';
import type { AppConfig } from '../../lib/config.ts';
import type { BackfillOptions } from './args.ts';
import { enabledVendorSection } from './config.ts';
import { formatPlan, formatSummary } from './format.ts';
import { planBackfill } from './plan.ts';
import { runBackfill } from './run.ts';

export interface BackfillCommandDeps {
  readonly config: AppConfig;
  readonly definitionFor: (vendor: string) => ConnectorDefinition;
  readonly cfn: CloudFormationClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
  readonly print: (text: string) => void;
}

export async function backfillCommand(options: BackfillOptions, deps: BackfillCommandDeps): Promise<number> {
  const section = enabledVendorSection(deps.config, options.vendor, options.config);
  const plan = await planBackfill(
    {
      from: options.from,
      to: options.to,
      force: options.force,
      ...(options.tenants ? { tenants: options.tenants } : {}),
    },
    {
      connector: deps.definitionFor(options.vendor),
      section,
      stackName: deps.config.stackName,
      cfn: deps.cfn,
      s3: deps.s3,
      now: deps.now,
    },
  );
  deps.print(formatPlan(plan, options));
  if (options.dryRun) return plan.refused.length > 0 ? 1 : 0;

  const summary = await runBackfill(plan, {
    sfn: deps.sfn,
    sleep: deps.sleep,
    now: deps.now,
    onProgress: (event) => {
      if (event.kind === 'waiting') deps.print(`  waiting ${event.seconds} s before ${event.next}`);
      if (event.kind === 'started') deps.print(`  ${event.execution.date}  started ${event.execution.executionArn}`);
      if (event.kind === 'already-started') {
        deps.print(`  ${event.execution.date}  already started (${event.execution.status ?? 'status unknown'})`);
      }
    },
  });
  deps.print(formatSummary(plan, summary));
  return summary.stopped || plan.refused.length > 0 ? 1 : 0;
}
