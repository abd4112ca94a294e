/**
 * The `npm run coverage` command line: its usage text, and argv read into `CoverageOptions` (a
 * UsageError when it is wrong). The target is chosen by the one rule of archive-args.ts: the
 * local workspace, or with `--config <file>` the stack deployed from that file.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addDays, utcDate } from '../../lambdas/core/dates.ts';
import {
  ARCHIVE_OPTIONS,
  type ArchiveTarget,
  checkArchiveArgs,
  checkVendorAndReport,
  TARGET_USAGE,
} from '../local/archive-args.ts';
import { parseCommandLine, UsageError } from '../local/command.ts';
import type { CoverageFilter } from './query.ts';

export const DEFAULT_DAYS = 30;
/** Longest range drawn: ten years of days. */
export const MAX_DAYS = 3660;

export const USAGE = `usage: npm run coverage -- [filters] [range] [--workspace <dir> | --config <file> [--region <r>]] [--out <file.html>]

Draws which days of every vendor, tenant and report the archive holds, and why the others are
not there (the \`coverage\` view): a table of day cells here, and a calendar page in HTML.

filters:
  --vendor <id>  --report <name>  --tenant <id>
range (UTC):
  --to <YYYY-MM-DD>    last day (default: today)
  --from <YYYY-MM-DD>  first day (default: --days before --to)
  --days <n>           days up to --to (default ${DEFAULT_DAYS}); not with --from
${TARGET_USAGE}
                       (queried with Athena in the stack's workgroup)
output:
  --out <file.html>    the page (default: coverage.html in the workspace, .local unless --workspace)

exit status: 0 every day in the range is archived, skipped or not expected; 1 a day is failed,
missing, at risk, lost or of unknown retention; 2 invalid arguments, configuration or stack, or a
query that failed.`;

export interface CoverageOptions {
  readonly filter: CoverageFilter;
  readonly target: ArchiveTarget;
  readonly out: string;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      ...ARCHIVE_OPTIONS,
      days: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

/** The range (dates checked by checkArchiveArgs): `--from`..`--to`, or the `--days` days up to `--to` (today by default). */
function rangeOf(values: Values, now: Date): { from: string; to: string } {
  if (values.from !== undefined && values.days !== undefined) {
    throw new UsageError('--from and --days both set where the range starts: choose one');
  }
  const days = values.days === undefined ? DEFAULT_DAYS : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new UsageError(
      `--days must be a whole number from 1 to ${MAX_DAYS}; received ${JSON.stringify(values.days)}`,
    );
  }
  const to = values.to ?? utcDate(now);
  const from = values.from ?? addDays(to, -(days - 1));
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  if (Date.parse(to) - Date.parse(from) >= MAX_DAYS * 86_400_000) {
    throw new UsageError(`the range ${from} to ${to} is longer than ${MAX_DAYS} days`);
  }
  return { from, to };
}

/** The options, 'help' for --help; a UsageError names what is wrong. */
export function parseCoverageArgs(argv: readonly string[], now: Date): CoverageOptions | 'help' {
  const values = parseCommandLine(() => parse(argv));
  if (values === 'help') return 'help';
  const target = checkArchiveArgs(values);
  checkVendorAndReport(values.vendor, values.report);
  const { vendor, tenant, report } = values;
  return {
    filter: { ...rangeOf(values, now), vendor, tenant, report },
    target,
    out: values.out ?? join(target.kind === 'local' ? target.workspace : '.local', 'coverage.html'),
  };
}
