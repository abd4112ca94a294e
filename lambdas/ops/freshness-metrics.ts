/**
 * The freshness metrics, as CloudWatch Embedded Metric Format: one JSON line per vendor on
 * stdout, in the namespace of the pipeline's own metrics (lambdas/pipeline/metrics.ts). The
 * freshness alarms (lib/alerts.ts `watchFreshness`) watch these names; a vendor with no line in a
 * period has no data point, which those alarms treat as breaching.
 */
import { METRICS_NAMESPACE, type MetricsSink } from '../pipeline/metrics.ts';

export const MINUTES_SINCE_LAST_ARCHIVED = 'MinutesSinceLastArchived';
export const STALE_TENANTS = 'StaleTenants';

export interface FreshnessMetrics {
  readonly minutesSinceLastArchived: number;
  readonly staleTenants: number;
}

export function freshnessMetricsLine(vendor: string, metrics: FreshnessMetrics, now: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Vendor']],
          Metrics: [
            { Name: MINUTES_SINCE_LAST_ARCHIVED, Unit: 'None' },
            { Name: STALE_TENANTS, Unit: 'Count' },
          ],
        },
      ],
    },
    Vendor: vendor,
    [MINUTES_SINCE_LAST_ARCHIVED]: metrics.minutesSinceLastArchived,
    [STALE_TENANTS]: metrics.staleTenants,
  });
}

export function publishFreshness(vendor: string, metrics: FreshnessMetrics, sink: MetricsSink, now: Date): void {
  sink(freshnessMetricsLine(vendor, metrics, now));
}
