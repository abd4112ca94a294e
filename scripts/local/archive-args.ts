/**
 * The options every command over the archive takes, checked one way: the partition filters
 * (`--vendor`, `--report`, `--tenant`, `--from`, `--to`) and the target (the local workspace by
 * default, or `--deployed` with its `--config` and `--region`).
 */
import { definitions } from '../../lambdas/connectors/registry.ts';
import { isCalendarDate } from '../../lambdas/core/dates.ts';
import { UsageError } from './command.ts';

/** `parseArgs` options of the filters and the target. */
export const ARCHIVE_OPTIONS = {
  vendor: { type: 'string' },
  report: { type: 'string' },
  tenant: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  workspace: { type: 'string' },
  deployed: { type: 'boolean' },
  config: { type: 'string' },
  region: { type: 'string' },
} as const;

interface ArchiveValues {
  readonly vendor?: string;
  readonly report?: string;
  readonly from?: string;
  readonly to?: string;
  readonly workspace?: string;
  readonly deployed?: boolean;
  readonly config?: string;
  readonly region?: string;
}

/** Refuses dates that are not dates, a report without its vendor, and a mixed target. */
export function checkArchiveArgs(values: ArchiveValues): void {
  for (const name of ['from', 'to'] as const) {
    const value = values[name];
    if (value !== undefined && !isCalendarDate(value)) {
      throw new UsageError(`--${name} must be a date as YYYY-MM-DD; received ${JSON.stringify(value)}`);
    }
  }
  if (values.report && !values.vendor) throw new UsageError('--report needs --vendor (report names are per vendor)');
  if (values.deployed && values.workspace) {
    throw new UsageError('--workspace is the local archive: not with --deployed');
  }
  if (!values.deployed && (values.config || values.region)) {
    throw new UsageError('--config and --region are for the deployed archive: add --deployed');
  }
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
