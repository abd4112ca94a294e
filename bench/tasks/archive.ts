/**
 * Stage (b): the whole archive step, `archiveReport` as the ArchiveReport Lambda calls it, with
 * the OpenAthens `raw_statistics` definition mapping the CSV header to typed columns, writing to
 * s3rver or to the null S3 endpoint.
 */
import { rawStatisticsReport } from '../../lambdas/connectors/openathens/records.ts';
import { archiveReport } from '../../lambdas/core/archive/index.ts';
import { localS3Client } from '../../scripts/local/s3-client.ts';
import type { Task } from '../common.ts';
import type { Prepared } from '../worker.ts';
import { BENCH_LIMITS, benchLogger, httpSource } from './fetch.ts';

export const BENCH_REPORT_DATE = '2026-11-21';

export async function prepareArchive(task: Extract<Task, { kind: 'archive' }>): Promise<Prepared> {
  const logger = benchLogger();
  const s3 = localS3Client(task.endpoint);
  const source = httpSource(task.url, task.fileName, task.password, logger);
  return async () => {
    try {
      const result = await archiveReport(
        {
          request: {
            vendor: 'openathens',
            tenant: `bench-${task.format}`,
            report: rawStatisticsReport.name,
            date: BENCH_REPORT_DATE,
            runId: `bench-${process.pid}`,
          },
          report: rawStatisticsReport,
          sources: [source],
          requestParameters: { benchmark: true },
          job: {},
        },
        {
          s3,
          bucket: task.bucket,
          tmpDir: task.tmpDir,
          logger,
          now: () => new Date(),
          limits: BENCH_LIMITS,
          softwareVersion: 'bench',
          ...(task.partSizeBytes ? { partSizeBytes: task.partSizeBytes } : {}),
        },
      );
      // every run has attempt keys of its own; only a concurrent writer could supersede one
      if (result.outcome !== 'ARCHIVED') throw new Error(`archive ${result.outcome}: ${result.reason}`);
      return {
        bytes: result.bytes.extracted,
        rows: result.rowCount,
        outputBytes: result.bytes.data,
        detail: { result },
      };
    } finally {
      s3.destroy();
    }
  };
}
