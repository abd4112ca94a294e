/** The backfill command line: its usage text, and argv parsed into `BackfillOptions` (a UsageError when it is wrong). */
import { parseArgs } from 'node:util';
import { type ArchiveTarget, archiveTarget, TARGET_OPTIONS } from '../local/archive-args.ts';
import { parseCommandLine } from '../local/command.ts';
import { BackfillError, UsageError } from './errors.ts';

/** Backfill only starts deployed executions: the local target is refused, with its local equivalent. */
export const LOCAL_REFUSAL =
  'only a deployed stack can be backfilled: name its config with --config <file> (locally, archive a past date with npm start -- --date <YYYY-MM-DD>)';

export const USAGE = `usage: npm run backfill -- --config <file> --vendor <id> --from <YYYY-MM-DD> --to <YYYY-MM-DD> [options]

Starts one execution of the vendor's deployed state machine per date (oldest first), spaced by the
vendor's backfill.spacingSeconds. Dates archived for every selected tenant and report are skipped.

options:
  --vendor <id>        vendor id, enabled in the config (required)
  --from <date>        first date, UTC (required)
  --to <date>          last date, UTC, at most yesterday (required)
  --config <file>      configuration the stack was deployed with (required: the deployed stack
                       is the only target; locally, use npm start -- --date <YYYY-MM-DD>)
  --tenant <id>        limit to this tenant; repeat for several (default: all configured)
  --force              archive again even when a date is already archived
  --dry-run            print the plan and start nothing
  --region <region>    AWS region of the stack (default: config env.region, then the SDK's)
  -h, --help           show this text

exit status: 0 every date was started, already started or already archived; 1 a date was
refused or an error stopped the backfill; 2 invalid arguments, configuration or stack.`;

export interface BackfillOptions {
  readonly vendor: string;
  readonly from: string;
  readonly to: string;
  readonly config: string;
  readonly tenants?: string[];
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly region?: string;
}

export function parseBackfillArgs(argv: readonly string[]): BackfillOptions | 'help' {
  const values = parseCommandLine(
    () => parse(argv),
    (message) => new UsageError(message),
  );
  if (values === 'help') return 'help';
  const missing = (['vendor', 'from', 'to'] as const).filter((flag) => !values[flag]);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((f) => `--${f}`).join(', ')}`);
  let target: ArchiveTarget;
  try {
    target = archiveTarget(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // one line, without the usage: the command line is right, the target is not one backfill has
  if (target.kind === 'local') throw new BackfillError(LOCAL_REFUSAL);
  return {
    vendor: values.vendor as string,
    from: values.from as string,
    to: values.to as string,
    config: target.config,
    ...(values.tenant ? { tenants: values.tenant } : {}),
    force: values.force ?? false,
    dryRun: values['dry-run'] ?? false,
    ...(target.region ? { region: target.region } : {}),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      vendor: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      ...TARGET_OPTIONS,
      tenant: { type: 'string', multiple: true },
      force: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
