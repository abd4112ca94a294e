/**
 * A full temporary storage while the archive step creates its spool directory or a spool file:
 * the same named SizeLimitError as a download that fills it, never a raw ENOSPC the state machine
 * cannot name.
 */
import fsPromises, { mkdtemp, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { archiveReport } from '../../../lambdas/core/archive/archive-report.ts';
import { createSpoolDir, Spool } from '../../../lambdas/core/archive/download.ts';
import { SizeLimitError } from '../../../lambdas/core/errors.ts';
import {
  archiveInput,
  BUCKET,
  capturedLogger,
  LIMITS,
  newRequest,
  startLocalS3,
} from '../../support/archive-fixtures.ts';

/**
 * The next call of `name` fails as a full disk does. Test files share their worker's modules
 * (vitest.config.ts), so the built-in module's own function is replaced, and
 * `syncBuiltinESMExports` carries that to every importer's binding; `restore` undoes both.
 */
function failNext(name: 'mkdtemp' | 'open'): { restore(): void } {
  const spy = vi.spyOn(fsPromises, name).mockRejectedValueOnce(diskFull());
  syncBuiltinESMExports();
  return {
    restore() {
      spy.mockRestore();
      syncBuiltinESMExports();
    },
  };
}

const diskFull = () => Object.assign(new Error('ENOSPC: no space left on device, mkdtemp'), { code: 'ENOSPC' });

let tmpDir: string;
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'spool-dir-'));
});
afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true });
});

describe('createSpoolDir', () => {
  it('maps a full disk to SizeLimitError', async () => {
    // Prepare
    const fs = { mkdtemp: () => Promise.reject(diskFull()) };

    // Act
    const error = await createSpoolDir(tmpDir, fs).catch((caught: Error) => caught);

    // Assess
    expect(error).toBeInstanceOf(SizeLimitError);
    expect((error as Error).message).toBe(
      `the spool directory under ${tmpDir} ran out of temporary storage (ENOSPC); keep archive.maxDownloadBytes below the function's ephemeral storage`,
    );
  });

  it('passes any other failure through as it is', async () => {
    // Prepare
    const denied = Object.assign(new Error('EACCES: permission denied, mkdtemp'), { code: 'EACCES' });

    // Act
    const error = await createSpoolDir(tmpDir, { mkdtemp: () => Promise.reject(denied) }).catch(
      (caught: Error) => caught,
    );

    // Assess
    expect(error).toBe(denied);
  });
});

describe('archiveReport', () => {
  it('fails with SizeLimitError, opening no source, when its spool directory cannot be created', async () => {
    // Prepare: a real S3 (the archive reads the report's manifest before it makes its spool
    // directory), then the next mkdtemp fails as a full disk does
    const s3 = await startLocalS3();
    const full = failNext('mkdtemp');
    const open = vi.fn(() => Promise.reject(new Error('the source must not be opened')));
    const input = archiveInput(newRequest(), [{ fileName: 'users.csv', role: 'data', open }]);
    const { logger } = capturedLogger();
    const deps = {
      s3: s3.s3,
      bucket: BUCKET,
      tmpDir,
      logger,
      now: () => new Date('2026-11-22T01:02:03.000Z'),
      limits: LIMITS,
      softwareVersion: 'test',
    };

    // Act
    const error = await archiveReport(input, deps)
      .catch((caught: Error) => caught)
      .finally(() => full.restore());
    await s3.close();

    // Assess
    expect(error).toBeInstanceOf(SizeLimitError);
    expect((error as Error).message).toMatch(/ran out of temporary storage \(ENOSPC\)/);
    expect(open).not.toHaveBeenCalled();
  });
});

describe('Spool', () => {
  it('fails with SizeLimitError when its spool file cannot be created', async () => {
    // Prepare: the spool's file is the first one opened
    const full = failNext('open');
    const source = { fileName: 'users.csv', role: 'data' as const, open: async () => ({ body: new PassThrough() }) };

    // Act
    const spool = Spool.start(source, join(tmpDir, 'source-0'), { maxBytes: 1024, logger: capturedLogger().logger });
    const error = await spool.done.catch((caught: Error) => caught).finally(() => full.restore());

    // Assess
    expect(error).toBeInstanceOf(SizeLimitError);
    expect((error as Error).message).toMatch(/^download of users\.csv ran out of temporary storage \(ENOSPC\)/);
  });
});
