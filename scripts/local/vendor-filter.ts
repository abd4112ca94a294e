/**
 * The `--vendor` and `--report` filters every archive command takes, checked against the connector
 * registry: a name it does not know is a typo, refused, not an empty answer that reads as proof.
 */
import { definitions } from '../../lambdas/connectors/registry.ts';
import { UsageError } from './command.ts';

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
