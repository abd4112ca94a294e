/**
 * A report too large to parse within the archive function's timeout fails at once, from the size
 * its vendor declares, with a named error that says so: before its body downloads, and with
 * nothing published.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveReport } from '../../../lambdas/core/archive/archive-report.ts';
import { reportBytesWithin } from '../../../lambdas/core/archive/limits.ts';
import { SizeLimitError } from '../../../lambdas/core/errors.ts';
import { DEFAULT_FUNCTION_SIZING } from '../../../lambdas/core/settings.ts';
import type { ReportSource } from '../../../lambdas/core/types.ts';
import {
  archiveDeps,
  archiveInput,
  capturedLogger,
  httpSource,
  newRequest,
  useArchiveTestBed,
} from '../../support/archive-fixtures.ts';
import { type Loopback, startLoopback } from '../../support/loopback.ts';

const GB = 1e9;
/** what one vCPU parses in 15 minutes at the planned throughput: the default archive function */
const WITHIN = reportBytesWithin(DEFAULT_FUNCTION_SIZING.archive);

describe('archiveReport with a report too large for the timeout', () => {
  const bed = useArchiveTestBed('archive-size-', { expectTempFilesRemoved: true });
  let vendor: Loopback;

  beforeEach(async () => {
    // Declares 40 GB of CSV, sends a header line, then waits: a run that started the download
    // would end only at the idle timeout, with a retryable VendorUnavailableError.
    vendor = await startLoopback((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(40 * GB) });
      res.write('id,name,note,city\n');
    });
  });
  afterEach(async () => {
    await vendor.close();
  });

  it('fails with SizeLimitError naming the timeout before downloading the body', async () => {
    // Prepare: a download limit that would let it through, as with a larger ephemeral storage
    const request = newRequest();
    const source: ReportSource = httpSource(vendor, 'users.csv');
    const { logger } = capturedLogger();
    const deps = archiveDeps(bed.s3, bed.tmpDir, logger, { maxDownloadBytes: 100 * GB, maxReportBytes: WITHIN });

    // Act
    const error = await archiveReport(archiveInput(request, [source]), deps).catch((caught: Error) => caught);

    // Assess
    expect(error).toBeInstanceOf(SizeLimitError);
    expect((error as Error).message).toBe(
      `users.csv is 40000000000 bytes (Content-Length): too large to archive within the archive function's timeout, which parses at most ${WITHIN} bytes (functions.archive: memoryMb and timeoutMinutes)`,
    );
    expect((await bed.s3.keys()).filter((key) => key.includes(`/tenant=${request.tenant}/`))).toEqual([]);
  });
});
