/**
 * Custom metrics as CloudWatch Embedded Metric Format: one JSON line on stdout, which CloudWatch
 * Logs turns into a metric. The alarms in lib/alerts.ts and the dashboard in lib/dashboard.ts
 * read these names.
 *
 * - `DatesAtRisk` (dimension Vendor): from the plan step, dates about to age out unarchived.
 * - `ReportsRecorded` (dimensions Vendor, Outcome; value 1) and `RowsArchived` (dimension Vendor):
 *   from the RecordOutcome step, one line per outcome record it writes.
 */
import type { Outcome } from './outcome-record.ts';

export const METRICS_NAMESPACE = 'IdentityReportArchive';
export const DATES_AT_RISK = 'DatesAtRisk';
export const REPORTS_RECORDED = 'ReportsRecorded';
export const ROWS_ARCHIVED = 'RowsArchived';
export const BYTES_ARCHIVED = 'BytesArchived';

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

/**
 * One recorded outcome: `ReportsRecorded` = 1 by Vendor and Outcome, and for an archived item its
 * `RowsArchived` and `BytesArchived` (the vendor's bytes, as received) by Vendor. The two metrics have different dimension sets, so each has its own
 * directive; both read the same `Vendor` field of the line.
 */
/** What an archived item holds: its rows and the vendor's bytes. */
export interface ArchivedVolume {
  readonly rows: number;
  readonly bytes: number;
}

export function reportRecordedLine(vendor: string, outcome: Outcome, volume: ArchivedVolume | null, now: Date): string {
  const recorded = {
    Namespace: METRICS_NAMESPACE,
    Dimensions: [['Vendor', 'Outcome']],
    Metrics: [{ Name: REPORTS_RECORDED, Unit: 'Count' }],
  };
  const rows = {
    Namespace: METRICS_NAMESPACE,
    Dimensions: [['Vendor']],
    Metrics: [
      { Name: ROWS_ARCHIVED, Unit: 'Count' },
      { Name: BYTES_ARCHIVED, Unit: 'Bytes' },
    ],
  };
  const archived = outcome === 'archived' && volume !== null;
  return JSON.stringify({
    _aws: { Timestamp: now.getTime(), CloudWatchMetrics: archived ? [recorded, rows] : [recorded] },
    Vendor: vendor,
    Outcome: outcome,
    [REPORTS_RECORDED]: 1,
    ...(archived ? { [ROWS_ARCHIVED]: volume.rows, [BYTES_ARCHIVED]: volume.bytes } : {}),
  });
}

export function publishReportRecorded(
  vendor: string,
  outcome: Outcome,
  volume: ArchivedVolume | null,
  sink: MetricsSink = stdoutSink,
  now = new Date(),
): void {
  sink(reportRecordedLine(vendor, outcome, volume, now));
}
