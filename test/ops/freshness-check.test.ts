/**
 * The deployed FreshnessCheck handler, cold-started with `process.env` as Lambda sets it and a
 * local S3 holding real outcome records: one EMF line per vendor it could read, one `report
 * freshness` log line per tenant × report, and a vendor whose records cannot be read publishing
 * nothing without stopping the others.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshnessEnvironment } from '../../lambdas/ops/freshness-environment.ts';
import { MINUTES_SINCE_LAST_ARCHIVED, STALE_TENANTS } from '../../lambdas/ops/freshness-metrics.ts';
import { METRICS_NAMESPACE } from '../../lambdas/pipeline/metrics.ts';
import { LogCapture } from '../support/log-capture.ts';
import { expectation, type OpsArchive, outcome, startOpsArchive } from './outcome-fixtures.ts';

let archive: OpsArchive;
const startedAt = Date.now();
const hoursAgo = (hours: number) => new Date(startedAt - hours * 3_600_000).toISOString();
const dayOf = (instant: string) => instant.slice(0, 10);

beforeAll(async () => {
  archive = await startOpsArchive();
  await archive.expect('openathens', [expectation({ tenant: 'a' }), expectation({ tenant: 'b' })]);
  await archive.record(
    outcome({ tenant: 'a', report_date: dayOf(hoursAgo(2)), recorded_at: hoursAgo(2) }),
    outcome({
      tenant: 'b',
      report_date: dayOf(hoursAgo(3)),
      recorded_at: hoursAgo(3),
      outcome: 'failed',
      error: 'VendorAuthError',
      reason: 'the token endpoint answered 401',
    }),
  );
  await archive.expect('csp', [expectation({ vendor: 'csp', tenant: 'ops' })]);
  await archive.put(`outcomes/vendor=csp/dt=${dayOf(hoursAgo(0))}/audit_log/ops/run-1.json`, '{"broken":');
  await archive.expect('rsa', [expectation({ vendor: 'rsa', tenant: 'acme' })]);

  const variables = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: archive.s3.endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...freshnessEnvironment({
      bucket: archive.s3.bucket,
      vendors: [
        { vendor: 'openathens', cadenceHours: 24 },
        { vendor: 'csp', cadenceHours: 24 },
        { vendor: 'rsa', cadenceHours: 24 },
      ],
      graceHours: 6,
    }),
  };
  for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, String(value));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await archive?.close();
});

async function invoke(): Promise<{ lines: Record<string, unknown>[]; error: unknown }> {
  vi.resetModules();
  const { handler } = await import('../../lambdas/handlers/freshness-check.ts');
  const capture = new LogCapture().start();
  let error: unknown;
  try {
    await handler();
  } catch (thrown) {
    error = thrown;
  } finally {
    capture.stop();
  }
  const lines = capture
    .text()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, error };
}

describe('the FreshnessCheck handler', () => {
  it('publishes each readable vendor, logs each tenant × report, and fails naming the unreadable vendor', async () => {
    // Act
    const { lines, error } = await invoke();

    // Assess: csp's record cannot be read, so the check fails naming it…
    expect(error).toMatchObject({ name: 'FreshnessCheckError', message: expect.stringContaining('csp') });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'freshness check failed', vendor: 'csp' }),
    );

    // …and publishes nothing for it, while openathens and rsa are published
    const metrics = lines.filter((line) => '_aws' in line);
    expect(metrics.map((line) => line.Vendor)).toEqual(['openathens', 'rsa']);
    const openathens = metrics[0] as Record<string, unknown>;
    expect(openathens._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Vendor']],
          Metrics: [{ Name: MINUTES_SINCE_LAST_ARCHIVED }, { Name: STALE_TENANTS }],
        },
      ],
    });
    expect(openathens[STALE_TENANTS]).toBe(1);
    expect(openathens[MINUTES_SINCE_LAST_ARCHIVED]).toBeGreaterThanOrEqual(120);
    expect(openathens[MINUTES_SINCE_LAST_ARCHIVED]).toBeLessThan(30 * 60);
    // rsa never archived: the window's length, past cadence + grace
    expect(metrics[1]).toMatchObject({ [STALE_TENANTS]: 1, [MINUTES_SINCE_LAST_ARCHIVED]: 3 * 24 * 60 });

    const reports = lines.filter((line) => line.message === 'report freshness');
    expect(reports.map((line) => [line.vendor, line.tenant, line.stale])).toEqual([
      ['openathens', 'a', false],
      ['openathens', 'b', true],
      ['rsa', 'acme', true],
    ]);
    // Powertools leaves null fields out of the line (Logs Insights reads a missing field as null)
    expect(reports[1]).not.toHaveProperty('hoursSinceArchived');
    expect(reports[1]).toMatchObject({
      report: 'raw_statistics',
      lastOutcome: 'failed',
      lastError: 'VendorAuthError',
      lastReason: 'the token endpoint answered 401',
    });
  });
});
