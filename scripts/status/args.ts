/**
 * The `npm run status` command line: its usage text, and argv read into `StatusOptions` (a
 * UsageError when it is wrong). The target is chosen by the one rule of archive-args.ts.
 */
import { parseArgs } from 'node:util';
import {
  type ArchiveTarget,
  archiveTarget,
  checkVendorAndReport,
  TARGET_OPTIONS,
  TARGET_USAGE,
} from '../local/archive-args.ts';
import { parseCommandLine, UsageError } from '../local/command.ts';

export const DEFAULT_RUNS = 5;
export const DEFAULT_DAYS = 7;
/** The freshness alarm's default grace (config `alerts.freshnessGraceHours`). */
export const DEFAULT_GRACE_HOURS = 6;

export const USAGE = `usage: npm run status -- [--vendor <id>] [--runs <n>] [--days <n>] [--workspace <dir> | --config <file> [--region <r>]] [--json]

Per vendor: the last runs (time, result, archived / failed / skipped counts), the failed and
skipped items of the latest run with their reasons, the deferred backlog and the dates at risk
of the latest plan, and freshness per tenant (as the freshness alarms compute it).

  --vendor <id>   only this vendor
  --runs <n>      runs listed per vendor (default ${DEFAULT_RUNS})
  --days <n>      report dates of outcome records read, up to today (default ${DEFAULT_DAYS}; at least
                  the freshness window)
  --json          the whole report as JSON
${TARGET_USAGE}
                       (Step Functions executions, and the archive bucket, from its outputs)

exit status: 0 healthy; 1 something needs attention (a failed run or item, a stale tenant, a date
at risk); 2 invalid arguments, configuration or stack, or an outcome record or expectations file
it cannot read (named by its key).`;

export interface StatusOptions {
  readonly target: ArchiveTarget;
  readonly vendor?: string;
  readonly runs: number;
  readonly days: number;
  readonly json: boolean;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      ...TARGET_OPTIONS,
      vendor: { type: 'string' },
      runs: { type: 'string' },
      days: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function wholeNumber(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max}; received ${JSON.stringify(value)}`);
  }
  return n;
}

export function parseStatusArgs(argv: readonly string[]): StatusOptions | 'help' {
  const values = parseCommandLine(() => parse(argv));
  if (values === 'help') return 'help';
  checkVendorAndReport(values.vendor, undefined);
  return {
    target: archiveTarget(values),
    ...(values.vendor !== undefined ? { vendor: values.vendor } : {}),
    runs: wholeNumber('runs', values.runs, DEFAULT_RUNS, 100),
    days: wholeNumber('days', values.days, DEFAULT_DAYS, 400),
    json: values.json ?? false,
  };
}
