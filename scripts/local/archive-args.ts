/**
 * The options every command over the archive takes, checked one way: the partition filters
 * (`--vendor`, `--report`, `--tenant`, `--from`, `--to`) and the target. One rule chooses the
 * target in every command (query, coverage, verify, status, backfill, legal-hold): without
 * `--config`, the local workspace (`--workspace`, default `.local`); with `--config <file>`, the
 * stack deployed from that file, in `--region`, else the file's `env.region`, else the SDK's.
 */
import { definitions } from '../../lambdas/connectors/registry.ts';
import { isCalendarDate } from '../../lambdas/core/dates.ts';
import { UsageError } from './command.ts';

/** `parseArgs` options of the target: every command that reads the archive or the stack takes them. */
export const TARGET_OPTIONS = {
  workspace: { type: 'string' },
  config: { type: 'string' },
  region: { type: 'string' },
  // only to refuse it by name: the flag that used to choose the deployed target
  deployed: { type: 'boolean' },
} as const;

/** `parseArgs` options of the filters and the target. */
export const ARCHIVE_OPTIONS = {
  vendor: { type: 'string' },
  report: { type: 'string' },
  tenant: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  ...TARGET_OPTIONS,
} as const;

export const DEPLOYED_IS_GONE = "--deployed is gone: name the deployed stack's config with --config <file>";

/** The two sentences of the rule, for the usage texts. */
export const TARGET_USAGE = `where (one rule for every command):
  --workspace <dir>    the local archive of npm start (default .local), when no --config is given
  --config <file>      the stack deployed from this file (its stackName), with AWS credentials
                       from the environment; --region <r> its region (default: the file's
                       env.region, then the SDK's)`;

interface TargetValues {
  readonly workspace?: string;
  readonly deployed?: boolean;
  readonly config?: string;
  readonly region?: string;
}

export type ArchiveTarget =
  | { readonly kind: 'local'; readonly workspace: string }
  | { readonly kind: 'deployed'; readonly config: string; readonly region?: string };

/** The target the command line names; a UsageError for `--deployed` or a mixed target. */
export function archiveTarget(values: TargetValues): ArchiveTarget {
  if (values.deployed !== undefined) throw new UsageError(DEPLOYED_IS_GONE);
  if (values.config === undefined) {
    if (values.region !== undefined) {
      throw new UsageError("--region is the deployed stack's region: name its config with --config <file>");
    }
    return { kind: 'local', workspace: values.workspace ?? '.local' };
  }
  if (values.workspace !== undefined) {
    throw new UsageError('--workspace is the local archive and --config the deployed stack: choose one');
  }
  return { kind: 'deployed', config: values.config, ...(values.region !== undefined ? { region: values.region } : {}) };
}

interface ArchiveValues extends TargetValues {
  readonly vendor?: string;
  readonly report?: string;
  readonly from?: string;
  readonly to?: string;
}

/** Refuses dates that are not dates, a report without its vendor, and a target the rule refuses. */
export function checkArchiveArgs(values: ArchiveValues): ArchiveTarget {
  for (const name of ['from', 'to'] as const) {
    const value = values[name];
    if (value !== undefined && !isCalendarDate(value)) {
      throw new UsageError(`--${name} must be a date as YYYY-MM-DD; received ${JSON.stringify(value)}`);
    }
  }
  if (values.report && !values.vendor) throw new UsageError('--report needs --vendor (report names are per vendor)');
  return archiveTarget(values);
}

/**
 * The `--vendor` and `--report` filters, checked against the connector registry: a name it does
 * not know is a typo, refused, not an empty answer that reads as proof.
 */
export function checkVendorAndReport(vendor: string | undefined, report: string | undefined): void {
  if (vendor === undefined) return;
  const definition = definitions.find((d) => d.vendor === vendor);
  if (!definition) {
    throw new UsageError(
      `--vendor ${vendor}: unknown vendor; expected one of: ${definitions.map((d) => d.vendor).join(', ')}`,
    );
  }
  if (report !== undefined && !definition.reports.some((r) => r.name === report)) {
    throw new UsageError(
      `--report ${report}: ${vendor} has no such report; expected one of: ${definition.reports.map((r) => r.name).join(', ')}`,
    );
  }
}
