/**
 * archiveReport with the CSV fast path (`ReportDefinition.compileCsv`): the reader hands field
 * arrays to the compiled mapper, the writer takes ready JSON lines, and the archive is the same,
 * byte for byte and error for error, as through `toRecord`.
 */
import { readdir } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rawStatisticsReport } from '../../../lambdas/connectors/openathens/records.ts';
import { archiveReport } from '../../../lambdas/core/archive/index.ts';
import { MalformedCsvError } from '../../../lambdas/core/errors.ts';
import { dataKey } from '../../../lambdas/core/layout.ts';
import type { ReportDefinition } from '../../../lambdas/core/types.ts';
import {
  archiveDeps,
  archiveInput,
  capturedLogger,
  expectArchived,
  httpSource,
  newRequest,
  openathensCsv,
  TEST_ATTEMPT,
  USERS_REPORT,
  useArchiveTestBed,
} from '../../support/archive-fixtures.ts';

describe('archiveReport with a report that compiles its CSV mapping', () => {
  const generic: ReportDefinition = { ...rawStatisticsReport, compileCsv: undefined };

  const bed = useArchiveTestBed('archive-compiled-');

  async function archive(report: ReportDefinition, fileName: string, body: Buffer | string) {
    bed.vendor.files.set(fileName, { body: Buffer.from(body) });
    const request = newRequest();
    const { logger } = capturedLogger();
    const result = expectArchived(
      await archiveReport(
        { ...archiveInput(request, [httpSource(bed.vendor, fileName)]), report },
        archiveDeps(bed.s3, bed.tmpDir, logger),
      ),
    );
    return { result, data: await bed.s3.getBytes(dataKey(request, TEST_ATTEMPT)) };
  }

  async function archiveError(report: ReportDefinition, fileName: string, body: string): Promise<Error> {
    const before = await bed.s3.keys();
    const error = await archive(report, fileName, body).then(
      () => new Error('expected the archive to fail'),
      (caught: unknown) => caught as Error,
    );
    expect(await bed.s3.keys()).toEqual(before); // nothing published
    expect(await readdir(bed.tmpDir)).toEqual([]);
    return error;
  }

  it('maps CSV rows with compileCsv, once per file, and JSON records with toRecord', async () => {
    // Prepare: a report whose toRecord refuses CSV rows (they come as objects keyed by "id")
    const headers: (readonly string[])[] = [];
    const report: ReportDefinition = {
      ...USERS_REPORT,
      toRecord(raw) {
        if (typeof raw.id === 'string') throw new Error('toRecord called for a CSV row');
        return USERS_REPORT.toRecord({ ...raw, id: String(raw.id) });
      },
      compileCsv(header) {
        headers.push(header);
        const at = header.indexOf('id');
        return (fields) => JSON.stringify({ id: fields[at]!, fields: fields.length });
      },
    };
    // Act
    const csv = await archive(report, 'users.csv', 'id,name\r\nu1,Ann\r\nu2,"Bob, Jr"\r\n');
    const json = await archive(report, 'users.json', '[{"id":1,"name":"Ann"}]');
    // Assess
    expect(headers).toEqual([['id', 'name']]);
    expect(gunzipSync(csv.data).toString('utf8')).toBe('{"id":"u1","fields":2}\n{"id":"u2","fields":2}\n');
    expect(csv.result.rowCount).toBe(2);
    expect(gunzipSync(json.data).toString('utf8')).toBe('{"id":"1","name":"Ann","note":null,"city":null}\n');
  });

  it.each([
    ['plain CSV', 'report.csv', (csv: string) => Buffer.from(csv)],
    ['gzip', 'report.csv.gz', (csv: string) => gzipSync(csv)],
  ])('stores the same data object, byte for byte, as toRecord does (%s)', async (_label, fileName, encode) => {
    // Prepare: several MiB of JSON Lines, so batches are flushed and reused
    const csv = openathensCsv(6000);
    // Act
    const fast = await archive(rawStatisticsReport, fileName, encode(csv));
    const slow = await archive(generic, fileName, encode(csv));
    // Assess
    expect(fast.result.rowCount).toBe(6000);
    expect(fast.result.rowCount).toBe(slow.result.rowCount);
    expect(gunzipSync(fast.data).length).toBeGreaterThan(4 * 1024 * 1024);
    expect(fast.data.equals(slow.data)).toBe(true);
    expect(fast.result.sha256.data).toBe(slow.result.sha256.data);
    expect(fast.result.bytes).toEqual(slow.result.bytes);
  });

  it.each([
    [
      'a bad event time',
      (csv: string) => csv.replace(/\r\n(\d\d\/06\/2023T)/, '\r\n99/06/2023T'),
      /field "date" must be a UTC time/,
    ],
    [
      'a row with a missing field',
      (csv: string) => `${csv}20/06/2023T23:59:59,AUTHENTICATE\r\n`,
      /record 301 \(line \d+\) has 2 fields/,
    ],
  ])('fails with the same error as toRecord on %s, and publishes nothing', async (_label, spoil, message) => {
    // Prepare
    const csv = spoil(openathensCsv(300));
    // Act
    const fast = await archiveError(rawStatisticsReport, 'report.csv', csv);
    const slow = await archiveError(generic, 'report.csv', csv);
    // Assess
    expect(fast).toBeInstanceOf(MalformedCsvError);
    expect(fast.message).toMatch(message);
    expect(fast.message).toBe(slow.message);
  });
});
