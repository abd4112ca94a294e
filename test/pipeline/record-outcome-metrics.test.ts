/**
 * The metrics the RecordOutcome step publishes (EMF), against the local S3: one `ReportsRecorded`
 * per record it writes, by vendor and outcome, `RowsArchived` for an archived item, and nothing
 * for a retried invocation that finds its record already written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BYTES_ARCHIVED,
  METRICS_NAMESPACE,
  REPORTS_RECORDED,
  ROWS_ARCHIVED,
  reportRecordedLine,
} from '../../lambdas/pipeline/metrics.ts';
import { type RecordOutcomeInput, recordOutcome } from '../../lambdas/pipeline/record-outcome.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';

const RUN_ID = 'arn:aws:states:eu-west-1:123456789012:execution:DemoPipeline:7a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9';
const NOW = new Date('2026-11-22T02:10:00.000Z');

let dir: string;
let s3: LocalS3;

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  [field: string]: unknown;
}

/** Records `ending` for a tenant and returns the metric lines the call published. */
async function record(tenant: string, ending: RecordOutcomeInput['ending']): Promise<EmfLine[]> {
  const lines: string[] = [];
  await recordOutcome(
    { vendor: 'demo', runId: RUN_ID, request: { tenant, report: 'things', date: '2026-11-21' }, ending },
    {
      vendor: 'demo',
      s3: s3.client,
      bucket: s3.bucket,
      logger: new Logger({ logLevel: 'SILENT' }),
      now: () => NOW,
      metrics: (line) => lines.push(line),
    },
  );
  return lines.map((line) => JSON.parse(line) as EmfLine);
}

/** metric name → the dimension sets it is published under */
const published = (line: EmfLine) =>
  Object.fromEntries(
    line._aws.CloudWatchMetrics.flatMap((d) =>
      d.Metrics.map((m) => [m.Name, { namespace: d.Namespace, dimensions: d.Dimensions }]),
    ),
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'record-outcome-metrics-'));
  s3 = await startLocalS3(join(dir, 's3'));
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an archived item', () => {
  it('publishes ReportsRecorded 1 by vendor and outcome, and its rows by vendor', async () => {
    // Act
    const lines = await record('acme', {
      outcome: 'archived',
      manifestKey: 'manifests/x/manifest.json',
      rowCount: 42,
      bytes: 4200,
    });
    // Assess
    expect(lines).toHaveLength(1);
    const [line] = lines as [EmfLine];
    expect(line).toMatchObject({
      Vendor: 'demo',
      Outcome: 'archived',
      [REPORTS_RECORDED]: 1,
      [ROWS_ARCHIVED]: 42,
      [BYTES_ARCHIVED]: 4200,
    });
    expect(line._aws.Timestamp).toBe(NOW.getTime());
    expect(published(line)).toEqual({
      [REPORTS_RECORDED]: { namespace: METRICS_NAMESPACE, dimensions: [['Vendor', 'Outcome']] },
      [ROWS_ARCHIVED]: { namespace: METRICS_NAMESPACE, dimensions: [['Vendor']] },
      [BYTES_ARCHIVED]: { namespace: METRICS_NAMESPACE, dimensions: [['Vendor']] },
    });
  });

  it('publishes nothing when a retried invocation finds its record written', async () => {
    // Act
    const lines = await record('acme', {
      outcome: 'archived',
      manifestKey: 'manifests/x/manifest.json',
      rowCount: 42,
      bytes: 4200,
    });
    // Assess
    expect(lines).toEqual([]);
  });
});

describe('a failed or skipped item', () => {
  it('publishes ReportsRecorded by its outcome and no rows', async () => {
    // Act
    const failed = await record('globex', { outcome: 'failed', error: { Error: 'VendorAuthError', Cause: null } });
    const skipped = await record('initech', { outcome: 'skipped', reason: 'not yet available' });
    // Assess
    for (const [lines, outcome] of [
      [failed, 'failed'],
      [skipped, 'skipped'],
    ] as const) {
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ Vendor: 'demo', Outcome: outcome, [REPORTS_RECORDED]: 1 });
      expect(lines[0]).not.toHaveProperty(ROWS_ARCHIVED);
      expect(lines[0]).not.toHaveProperty(BYTES_ARCHIVED);
      expect(Object.keys(published(lines[0] as EmfLine))).toEqual([REPORTS_RECORDED]);
    }
  });
});

describe('reportRecordedLine', () => {
  it('gives every metric it declares a number and every dimension a string, as EMF requires', () => {
    // Act
    const line = JSON.parse(reportRecordedLine('demo', 'archived', { rows: 0, bytes: 0 }, NOW)) as EmfLine;
    // Assess
    for (const directive of line._aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics) expect(typeof line[metric.Name], metric.Name).toBe('number');
      for (const dimension of directive.Dimensions.flat()) expect(typeof line[dimension], dimension).toBe('string');
    }
  });
});
