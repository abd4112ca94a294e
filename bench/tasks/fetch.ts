/**
 * Stage (a): fetch + decrypt + extract + hash, with the archiver core's own pieces and in its
 * order (`archive-report.ts` `extractSource` / `extractZipEntry`), the output discarded:
 *
 *   project HTTP client → Spool (temp file, SHA-256 of the download) → sniff →
 *   zip: wait for the download, ZipArchive (yauzl + node:zlib, zip.js for decryption) /
 *   gzip: gunzip while it downloads → ExtractMeter (count, SHA-256, CRC-32, limits) → null sink
 *
 * The core does not export this composition (its `extractSource` ends in the CSV parser), so
 * this mirrors it; see the report for the export that would let the bench call it directly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Spool } from '../../lambdas/core/archive/download.ts';
import { gunzip } from '../../lambdas/core/archive/gzip.ts';
import { type ArchiveLimits, ExtractBudget, ExtractMeter } from '../../lambdas/core/archive/limits.ts';
import { SNIFF_BYTES, sniffFormat } from '../../lambdas/core/archive/sniff.ts';
import { ZipArchive } from '../../lambdas/core/archive/zip.ts';
import { createHttpClient } from '../../lambdas/core/http.ts';
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
  const budget = new ExtractBudget(BENCH_LIMITS.maxExtractedBytes);
  const spool = Spool.start(source, path, { maxBytes: BENCH_LIMITS.maxDownloadBytes, logger });
  try {
    const format = sniffFormat(await spool.head(SNIFF_BYTES), what);
    const files: Array<{ bytes: number; sha256: string; crc32: number }> = [];
    if (format === 'zip') {
      await spool.done;
      const zip = await ZipArchive.open(spool.path, what, BENCH_LIMITS, budget.max - budget.used);
      try {
        for (const entry of zip.dataEntries) {
          const opened = await zip.openEntry(entry, source.password);
          const meter = new ExtractMeter({
            what: zip.entryWhat(entry),
            budget,
            maxRatio: BENCH_LIMITS.maxCompressionRatio,
            ...(entry.method === 8 ? { compressedBytes: opened.compressedBytes } : {}),
            declaredSize: entry.uncompressedSize,
            ...(entry.crc32 === undefined ? {} : { declaredCrc32: entry.crc32 }),
          });
          await pipeline(opened.stream, meter, new CountingSink());
          files.push(meter.file);
        }
      } finally {
        await zip.close();
      }
    } else if (format === 'gzip') {
      const opened = gunzip(spool.createReader());
      const meter = new ExtractMeter({
        what: `${what} (gzip)`,
        budget,
        maxRatio: BENCH_LIMITS.maxCompressionRatio,
        compressedBytes: opened.compressedBytes,
      });
      await pipeline(opened.stream, meter, new CountingSink());
      files.push(meter.file);
    } else {
      throw new Error(`${what}: expected zip or gzip; sniffed ${format}`);
    }
    const download = await spool.done;
    if (files.length !== 1) throw new Error(`${what}: expected one data file; extracted ${files.length}`);
    const file = files[0]!;
    return { bytes: file.bytes, sha256: file.sha256, detail: { format, download } };
  } finally {
    spool.abort(new Error('benchmark fetch ended'));
    await spool.settled();
  }
}
