/**
 * Custom metrics as CloudWatch Embedded Metric Format: one JSON line on stdout, which CloudWatch
 * Logs turns into a metric. The alarms in lib/alerts.ts watch these names.
 */
export const METRICS_NAMESPACE = 'IdentityReportArchive';
export const DATES_AT_RISK = 'DatesAtRisk';

export type MetricsSink = (line: string) => void;

const stdoutSink: MetricsSink = (line) => {
  process.stdout.write(`${line}\n`);
};

export function datesAtRiskLine(vendor: string, count: number, now: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [['Vendor']], Metrics: [{ Name: DATES_AT_RISK, Unit: 'Count' }] },
      ],
    },
    Vendor: vendor,
    [DATES_AT_RISK]: count,
  });
}

export function publishDatesAtRisk(
  vendor: string,
  count: number,
  sink: MetricsSink = stdoutSink,
  now = new Date(),
): void {
  sink(datesAtRiskLine(vendor, count, now));
}
