/**
 * Stage (a): fetch + decrypt + extract + hash: the archiver core's own `extractSource` (the one
 * `archiveReport` runs) with a sink that discards the bytes instead of parsing them:
 *
 *   project HTTP client → Spool (temp file, SHA-256 of the download) → sniff →
 *   zip: the first entry inflated while it downloads, the central directory checked after /
 *   gzip: gunzip while it downloads → ExtractMeter (count, SHA-256, CRC-32, limits) → null sink
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Spool } from '../../lambdas/core/archive/download.ts';
import { extractSource } from '../../lambdas/core/archive/extract.ts';
import { type ArchiveLimits, ExtractBudget } from '../../lambdas/core/archive/limits.ts';
import { createHttpClient } from '../../lambdas/core/http/index.ts';
import type { ReportSource } from '../../lambdas/core/types.ts';
import type { Task } from '../common.ts';
import type { Outcome, Prepared } from '../worker.ts';
import { CountingSink } from './sink.ts';

export const BENCH_LIMITS: ArchiveLimits = {
  maxDownloadBytes: 64 * 1024 ** 3,
  maxExtractedBytes: 64 * 1024 ** 3,
  maxCompressionRatio: 200,
  maxEntries: 1_000,
};

export function benchLogger(): Logger {
  return new Logger({ serviceName: 'bench', logLevel: 'WARN' });
}

/** A report source downloading `url` with the project's HTTP client (allowlisted to its host). */
export function httpSource(url: string, fileName: string, password: string | undefined, logger: Logger): ReportSource {
  const http = createHttpClient({ allowedHosts: [new URL(url).host], logger });
  return {
    fileName,
    role: 'data',
    open: () => http.download(url, { operation: 'download report' }),
    ...(password ? { password } : {}),
  };
}

export async function prepareFetch(task: Extract<Task, { kind: 'fetch' }>): Promise<Prepared> {
  const logger = benchLogger();
  const source = httpSource(task.url, task.fileName, task.password, logger);
  const workDir = await mkdtemp(join(task.tmpDir, 'fetch-'));
  return async () => {
    try {
      return await fetchAndExtract(source, join(workDir, 'source-0'), logger);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

async function fetchAndExtract(source: ReportSource, path: string, logger: Logger): Promise<Outcome> {
  const what = source.fileName;
  const spool = Spool.start(source, path, { maxBytes: BENCH_LIMITS.maxDownloadBytes, logger });
  try {
    const { format, entries } = await extractSource(spool, {
      limits: BENCH_LIMITS,
      budget: new ExtractBudget(BENCH_LIMITS.maxExtractedBytes),
      logger,
      createSink: () => new CountingSink(),
    });
    const download = await spool.done;
    if (format !== 'zip' && format !== 'gzip') throw new Error(`${what}: expected zip or gzip; sniffed ${format}`);
    if (entries.length !== 1) throw new Error(`${what}: expected one data file; extracted ${entries.length}`);
    const file = entries[0]!;
    return { bytes: file.bytes, sha256: file.sha256, detail: { format, download } };
  } finally {
    spool.abort(new Error('benchmark fetch ended'));
    await spool.settled();
  }
}
