/** The legal-hold command line: its usage text, and argv parsed into `LegalHoldOptions` (a UsageError when it is wrong). */
import { parseArgs } from 'node:util';
import { isCalendarDate } from '../../lambdas/core/dates.ts';
import { type ArchiveTarget, archiveTarget, TARGET_OPTIONS } from '../local/archive-args.ts';
import { parseCommandLine } from '../local/command.ts';
import { LegalHoldError, NoObjectLockError } from './errors.ts';

/** Holds exist only on the deployed bucket: the local target is refused with the reason. */
export const LOCAL_REFUSAL =
  "legal holds exist only on the deployed archive bucket (the local archive's S3, s3rver, has no Object Lock): name the deployed stack's config with --config <file>; nothing was changed";

export const USAGE = `usage: npm run legal-hold -- --config <file> --vendor <id> --from <YYYY-MM-DD> --to <YYYY-MM-DD> --on|--off [options]

Places (--on) or lifts (--off) an S3 Object Lock legal hold on every version of every object of a
vendor's reports for the dates from..to: data, originals and manifests. A version under a legal
hold cannot be deleted, whatever its retention, until the hold is lifted.

options:
  --config <file>      configuration the stack was deployed with (required: holds exist only on
                       the deployed bucket; the local archive's S3 has no Object Lock)
  --vendor <id>        vendor id (required)
  --from <date>        first report date, UTC (required)
  --to <date>          last report date, UTC (required)
  --on | --off         place or lift the hold (exactly one is required)
  --tenant <id>        only this tenant (default: every tenant)
  --report <name>      only this report (default: every report found in the bucket)
  --bucket <name>      the archive bucket (default: the stack output ArchiveBucketName)
  --region <region>    AWS region of the bucket and stack (default: config env.region, then the SDK's)
  --dry-run            list and report what would change; change nothing
  --json               print the report as JSON
  -h, --help           show this text

exit status: 0 every version is in the asked state; 1 a version could not be changed (each is
named), or no version was found in range; 2 invalid arguments, a bucket without Object Lock, or
no --config (the local archive).`;

export type LegalHoldStatus = 'ON' | 'OFF';

export interface LegalHoldOptions {
  readonly vendor: string;
  readonly from: string;
  readonly to: string;
  readonly status: LegalHoldStatus;
  readonly tenant?: string;
  readonly report?: string;
  readonly bucket?: string;
  readonly config: string;
  readonly region?: string;
  readonly dryRun: boolean;
  readonly json: boolean;
}

/** The command line is wrong: the CLI prints the usage text with it. */
export class UsageError extends LegalHoldError {
  override readonly name: string = 'UsageError';
}

export function parseLegalHoldArgs(argv: readonly string[]): LegalHoldOptions | 'help' {
  const values = parseCommandLine(
    () => parse(argv),
    (message) => new UsageError(message),
  );
  if (values === 'help') return 'help';
  const missing = (['vendor', 'from', 'to'] as const).filter((flag) => !values[flag]);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((f) => `--${f}`).join(', ')}`);
  if (values.on === values.off) {
    throw new UsageError(`expected exactly one of --on or --off; received ${values.on ? 'both' : 'neither'}`);
  }
  const from = values.from as string;
  const to = values.to as string;
  for (const [flag, date] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isCalendarDate(date)) throw new UsageError(`--${flag}: expected a date as YYYY-MM-DD; received ${date}`);
  }
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  const target = deployedTargetOf(values);
  return {
    vendor: values.vendor as string,
    from,
    to,
    status: values.on ? 'ON' : 'OFF',
    ...(values.tenant ? { tenant: values.tenant } : {}),
    ...(values.report ? { report: values.report } : {}),
    ...(values.bucket ? { bucket: values.bucket } : {}),
    config: target.config,
    ...(target.region ? { region: target.region } : {}),
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
  };
}

/** The deployed stack `--config` names; the local target is refused as having no Object Lock. */
function deployedTargetOf(values: ReturnType<typeof parse>['values']) {
  let target: ArchiveTarget;
  try {
    target = archiveTarget(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (target.kind === 'local') throw new NoObjectLockError(LOCAL_REFUSAL);
  return target;
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
      on: { type: 'boolean' },
      off: { type: 'boolean' },
      tenant: { type: 'string' },
      report: { type: 'string' },
      bucket: { type: 'string' },
      ...TARGET_OPTIONS,
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
