import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ArchiveLimits, archiveReport } from '../../../lambdas/core/archive/index.ts';
import {
  CompressionRatioError,
  CorruptArchiveError,
  MalformedCsvError,
  MalformedJsonError,
  SizeLimitError,
  UnsafeEntryNameError,
  UnsupportedFormatError,
  VendorUnavailableError,
  WrongPasswordError,
} from '../../../lambdas/core/errors.ts';
import { dataKey } from '../../../lambdas/core/layout.ts';
import type { ReportDefinition, ReportSource } from '../../../lambdas/core/types.ts';
import {
  archiveDeps,
  archiveInput,
  bulkCsv,
  capturedLogger,
  httpSource,
  newRequest,
  rawZip,
  TEST_ATTEMPT,
  USERS_REPORT,
  useArchiveTestBed,
  zipJs,
} from '../../support/archive-fixtures.ts';

const CSV = 'id,name,note,city\nu1,Ann,,Paris\nu2,Bob,x,Rome\n';
const PASSWORD = 'vendor-zip-password-42';
const MiB = 1024 * 1024;

type ErrorClass = abstract new (...args: never[]) => Error;

describe('archiveReport with bad input', () => {
  const bed = useArchiveTestBed('archive-bad-', { expectTempFilesRemoved: true });

  function serve(name: string, body: Buffer | string, options: { cutAfter?: number; chunked?: boolean } = {}) {
    bed.vendor.files.set(name, { body: Buffer.from(body), ...options });
  }

  /** Runs the archiver, expects the named error, and checks nothing of the run was published. */
  async function expectFailure(
    sources: ReportSource[],
    errorClass: ErrorClass,
    message?: RegExp,
    options: { limits?: Partial<ArchiveLimits>; report?: ReportDefinition; partSizeBytes?: number } = {},
  ): Promise<{ error: Error; logs: string }> {
    const request = newRequest();
    const { logger, lines } = capturedLogger();
    const input = { ...archiveInput(request, sources), report: options.report ?? USERS_REPORT };
    const deps = { ...archiveDeps(bed.s3, bed.tmpDir, logger, options.limits), partSizeBytes: options.partSizeBytes };
    const error = await archiveReport(input, deps).then(
      () => {
        throw new Error('expected the archive to fail');
      },
      (caught: Error) => caught,
    );
    expect(error).toBeInstanceOf(errorClass);
    expect(error.name).toBe(errorClass.name);
    if (message) expect(error.message).toMatch(message);
    // nothing at the data, originals or manifest keys of this run
    expect((await bed.s3.keys()).filter((key) => key.includes(`/tenant=${request.tenant}/`))).toEqual([]);
    return { error, logs: lines.join('\n') };
  }

  describe('unsupported formats', () => {
    it('names an HTML error page served with status 200', async () => {
      serve('users.csv', '<!DOCTYPE html>\n<html><body>Session expired</body></html>');
      await expectFailure([httpSource(bed.vendor, 'users.csv')], UnsupportedFormatError, /HTML/);
    });

    it('rejects unknown binary data', async () => {
      serve('users.csv', Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x80, 0x81, 0x00, 0x10]));
      await expectFailure([httpSource(bed.vendor, 'users.csv')], UnsupportedFormatError, /binary/);
    });

    it('rejects an HTML page inside a zip', async () => {
      serve('users.zip', await zipJs([{ name: 'users.csv', data: '<html><body>error</body></html>' }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], UnsupportedFormatError, /HTML/);
    });

    it('rejects an original-role source that is not a known format', async () => {
      serve('users.csv', CSV);
      serve('summary.pdf', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'));
      await expectFailure(
        [httpSource(bed.vendor, 'users.csv'), httpSource(bed.vendor, 'summary.pdf', { role: 'original' })],
        UnsupportedFormatError,
        /PDF/,
      );
    });

    it('rejects a zip with no data entries', async () => {
      serve(
        'users.zip',
        await zipJs([
          { name: 'dir/', directory: true },
          { name: '.DS_Store', data: 'x' },
        ]),
      );
      await expectFailure([httpSource(bed.vendor, 'users.zip')], UnsupportedFormatError, /no data entries/);
    });
  });

  describe('unsafe entry names', () => {
    it.each([
      ['../evil.csv', /climbs out/],
      ['data/../../evil.csv', /climbs out/],
      ['..\\evil.csv', /climbs out/],
      ['/etc/evil.csv', /absolute path/],
      ['C:\\evil.csv', /absolute path/],
      ['C:/evil.csv', /absolute path/],
    ])('rejects %s', async (name, message) => {
      serve('users.zip', rawZip([{ name, data: Buffer.from(CSV) }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], UnsafeEntryNameError, message);
    });
  });

  describe('bombs and size limits', () => {
    const zeros = Buffer.alloc(4 * MiB);

    it('rejects an absurd declared compression ratio before inflating', async () => {
      serve('users.zip', rawZip([{ name: 'users.csv', data: zeros }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], CompressionRatioError, /ratio/, {
        limits: { maxCompressionRatio: 50 },
      });
    });

    it('rejects a zip entry whose header under-declares its size, while inflating', async () => {
      serve('users.zip', rawZip([{ name: 'users.csv', data: zeros, uncompressedSize: 1000 }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], CompressionRatioError, /ratio/, {
        limits: { maxCompressionRatio: 50 },
      });
    });

    it('rejects a gzip bomb while inflating', async () => {
      serve('users.csv.gz', gzipSync(Buffer.concat([Buffer.from(CSV), Buffer.alloc(4 * MiB, '\n')])));
      await expectFailure([httpSource(bed.vendor, 'users.csv.gz')], CompressionRatioError, /ratio/, {
        limits: { maxCompressionRatio: 50 },
      });
    });

    it('gives up on a vendor that trickles a byte at a time, at the overall download deadline', async () => {
      // each byte comes well within the 30 s idle timer, so only an overall deadline ends this
      bed.vendor.files.set('users.csv', { body: Buffer.from(CSV.repeat(100)), trickleMs: 20 });
      await expectFailure([httpSource(bed.vendor, 'users.csv')], VendorUnavailableError, /did not finish within 1 s/, {
        limits: { maxDownloadSeconds: 1 },
      });
    });

    it('rejects a download over maxDownloadBytes', async () => {
      serve('users.csv', CSV.repeat(100));
      await expectFailure([httpSource(bed.vendor, 'users.csv')], SizeLimitError, /limit/, {
        limits: { maxDownloadBytes: 1000 },
      });
    });

    it('rejects a download over maxDownloadBytes while streaming when no Content-Length is given', async () => {
      serve('users.csv', CSV.repeat(100), { chunked: true });
      await expectFailure(
        [httpSource(bed.vendor, 'users.csv')],
        SizeLimitError,
        /larger than the limit of 1000 bytes/,
        {
          limits: { maxDownloadBytes: 1000 },
        },
      );
    });

    it('rejects a zip whose declared entries exceed maxExtractedBytes', async () => {
      serve('users.zip', await zipJs([{ name: 'users.csv', data: CSV.repeat(100) }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], SizeLimitError, /extraction limit/, {
        limits: { maxExtractedBytes: 1000 },
      });
    });

    it('rejects a gzip that extracts over maxExtractedBytes', async () => {
      serve('users.csv.gz', gzipSync(CSV.repeat(100)));
      await expectFailure([httpSource(bed.vendor, 'users.csv.gz')], SizeLimitError, /extracted data exceeds/, {
        limits: { maxExtractedBytes: 1000 },
      });
    });

    it('rejects a zip with more than maxEntries entries', async () => {
      const entries = Array.from({ length: 6 }, (_, i) => ({ name: `part-${i}.csv`, data: Buffer.from(CSV) }));
      serve('users.zip', rawZip(entries));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], SizeLimitError, /6 entries/, {
        limits: { maxEntries: 5 },
      });
    });
  });

  describe('corrupt archives and downloads', () => {
    it('rejects a truncated zip', async () => {
      const zip = await zipJs([{ name: 'users.csv', data: CSV }]);
      serve('users.zip', zip.subarray(0, zip.length - 30));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], CorruptArchiveError, /truncated/);
    });

    it('rejects a truncated gzip', async () => {
      const gz = gzipSync(CSV.repeat(50));
      serve('users.csv.gz', gz.subarray(0, gz.length - 10));
      await expectFailure([httpSource(bed.vendor, 'users.csv.gz')], CorruptArchiveError, /truncated/);
    });

    it('rejects a zip entry whose CRC-32 does not match', async () => {
      serve('users.zip', rawZip([{ name: 'users.csv', data: Buffer.from(CSV), crc32: 0x12345678 }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], CorruptArchiveError, /CRC-32/);
    });

    it('rejects a zip entry whose stored data is corrupt', async () => {
      const zip = await zipJs([{ name: 'users.csv', data: CSV.repeat(20) }]);
      zip.fill(0xff, 60, 90); // inside the deflate stream of the only entry
      serve('users.zip', zip);
      await expectFailure([httpSource(bed.vendor, 'users.zip')], CorruptArchiveError);
    });

    it('rejects an AES entry whose encrypted data was tampered with', async () => {
      const zip = await zipJs([{ name: 'users.csv', data: bulkCsv(200), password: PASSWORD }]);
      zip[2000] = zip[2000]! ^ 0x55; // inside the encrypted data
      serve('users.zip', zip);
      await expectFailure([httpSource(bed.vendor, 'users.zip', { password: PASSWORD })], CorruptArchiveError);
    });

    // The first entry is inflated while the zip downloads, from its local header; the central
    // directory read afterwards must agree with it in every field.
    describe('a first entry that disagrees with the central directory', () => {
      /** `zip` with the first central directory record patched by `patch(record, nameStart)` */
      function patchCentral(zip: Buffer, patch: (record: Buffer) => void): Buffer {
        const patched = Buffer.from(zip);
        const at = patched.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        patch(patched.subarray(at));
        return patched;
      }

      it.each([
        [
          'a declared-size zip with another CRC-32',
          'raw',
          (record: Buffer) => record.writeUInt32LE(0x12345678, 16),
          /CRC-32/,
        ],
        [
          'a data-descriptor zip with another CRC-32',
          'zipjs',
          (record: Buffer) => record.writeUInt32LE(0x12345678, 16),
          /CRC-32/,
        ],
        [
          'another compressed size',
          'zipjs',
          (record: Buffer) => record.writeUInt32LE(record.readUInt32LE(20) + 1, 20),
          /compressed bytes/,
        ],
        [
          'another uncompressed size',
          'zipjs',
          (record: Buffer) => record.writeUInt32LE(record.readUInt32LE(24) - 1, 24),
          /were extracted/,
        ],
        ['another name', 'raw', (record: Buffer) => record.write('x', 46), /name "xsers\.csv"/],
        ['encryption', 'raw', (record: Buffer) => record.writeUInt16LE(record.readUInt16LE(8) | 1, 8), /./],
      ] as const)('rejects %s', async (_label, writer, patch, message) => {
        const data = Buffer.from(CSV.repeat(50));
        const zip =
          writer === 'raw' ? rawZip([{ name: 'users.csv', data }]) : await zipJs([{ name: 'users.csv', data }]);
        serve('users.zip', patchCentral(zip, patch));
        const { error } = await expectFailure([httpSource(bed.vendor, 'users.zip')], CorruptArchiveError, message);
        if (_label !== 'encryption') expect(error.message).toMatch(/does not match the zip's central directory/);
      });

      it('rejects a zip whose central directory places no entry at the first local header', async () => {
        const zip = rawZip([{ name: 'users.csv', data: Buffer.from(CSV) }]);
        serve(
          'users.zip',
          patchCentral(zip, (record) => record.writeUInt32LE(1, 42)),
        );
        await expectFailure([httpSource(bed.vendor, 'users.zip')], CorruptArchiveError);
      });
    });

    it('fails with a retryable error when the bed.vendor drops the connection mid-download', async () => {
      serve('users.csv', CSV.repeat(2000), { cutAfter: 5000 });
      await expectFailure([httpSource(bed.vendor, 'users.csv')], VendorUnavailableError, /users\.csv/);
    });
  });

  describe('passwords', () => {
    it.each([
      ['AES-256', false],
      ['ZipCrypto', true],
    ])('rejects a wrong password for %s and never logs or reports it', async (_label, zipCrypto) => {
      serve('users.zip', await zipJs([{ name: 'users.csv', data: CSV, password: PASSWORD, zipCrypto }]));
      const wrong = 'not-the-password-17';
      const { error, logs } = await expectFailure(
        [httpSource(bed.vendor, 'users.zip', { password: wrong })],
        WrongPasswordError,
        /password is wrong/,
      );
      expect(`${error.message}\n${error.stack}\n${logs}`).not.toContain(wrong);
      expect(logs).not.toContain('secret-signature');
    });

    it('rejects an encrypted entry when no password was given', async () => {
      serve('users.zip', await zipJs([{ name: 'users.csv', data: CSV, password: PASSWORD }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], WrongPasswordError, /no password/);
    });
  });

  describe('malformed records', () => {
    it('names the record and line of a row with the wrong number of fields', async () => {
      serve('users.csv', 'id,name,note,city\r\nu1,Ann,"two\r\nlines",Paris\r\nu2,Bob,Rome\r\n');
      await expectFailure([httpSource(bed.vendor, 'users.csv')], MalformedCsvError, /record 2 \(line 4\) has 3 fields/);
    });

    it('fails on a bad row at once while the vendor stalls the rest of a gzip', async () => {
      const lines = bulkCsv(20_000, 1).split('\n');
      const gz = gzipSync([lines[0], 'u0,a,,x,EXTRA\r', ...lines.slice(1)].join('\n'));
      const body = new PassThrough();
      body.write(gz.subarray(0, 100_000)); // and no more: the run must not wait for it
      const source: ReportSource = { fileName: 'users.csv.gz', role: 'data', open: async () => ({ body }) };
      await expectFailure([source], MalformedCsvError, /record 1 \(line 2\) has 5 fields/);
    });

    it('names a row with the wrong number of fields inside a zip', async () => {
      serve('users.zip', await zipJs([{ name: 'users.csv', data: `${CSV}u3,extra,field,count,5\n` }]));
      await expectFailure([httpSource(bed.vendor, 'users.zip')], MalformedCsvError, /users\.csv.*record 3/);
    });

    it.each([
      ['duplicate', 'id,name,id\n1,2,3\n', /repeats the name "id"/],
      ['empty', 'id,,city\n1,2,3\n', /column 2 has no name/],
    ])('rejects a %s header name', async (_label, body, message) => {
      serve('users.csv', body);
      await expectFailure([httpSource(bed.vendor, 'users.csv')], MalformedCsvError, message);
    });

    it('rejects an unterminated quote', async () => {
      serve('users.csv', 'id,name,note,city\nu1,"Ann,,Paris\n');
      await expectFailure([httpSource(bed.vendor, 'users.csv')], MalformedCsvError, /not closed/);
    });

    it('rejects CSV that is not UTF-8', async () => {
      const good = Buffer.from(CSV.repeat(200)); // past the bytes the format is sniffed from
      serve('users.csv', Buffer.concat([good, Buffer.from('u9,Ren'), Buffer.from([0xe9]), Buffer.from(',,Lyon\n')]));
      await expectFailure([httpSource(bed.vendor, 'users.csv')], MalformedCsvError, /UTF-8/);
    });

    it.each([
      ['a syntax error in a record', '[{"id":"1"},{"id":}]', /record 2/],
      ['a missing comma', '[{"id":"1"} {"id":"2"}]', /expected "," or "\]"/],
      ['a non-object element', '[{"id":"1"}, 42]', /record 2 is a number/],
      ['truncated JSON', '[{"id":"1"},{"id":"2"', /ends in the middle/],
      ['two array properties', '{"a":[{"id":"1"}],"b":[]}', /2 array properties/],
      ['NDJSON with a bad line', '{"id":"1"}\n{"id":"2"\n{"id":"3"}\n', /not valid JSON|ends in the middle/],
      [
        'a record nested 10,000 deep',
        `[{"id":"1","note":${'['.repeat(10_000)}${']'.repeat(10_000)}}]`,
        /nests deeper than 64/,
      ],
      [
        'a lone object nested 10,000 deep',
        `{"id":"1","note":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
        /nests deeper/,
      ],
    ])('rejects JSON with %s', async (_label, body, message) => {
      serve('users.json', body);
      await expectFailure([httpSource(bed.vendor, 'users.json')], MalformedJsonError, message);
    });

    it('aborts the data upload when a bad row comes after parts were uploaded', async () => {
      // Prepare: ~7.5 MB of gzip JSON Lines before the bad row, so at least one 5 MiB part is sent
      // first; a client that records each S3 command as it is sent (s3rver answers 405 to
      // AbortMultipartUpload, which the uploader ignores as best effort)
      serve('users.csv', `${bulkCsv(150_000)}u-last,too,few\r\n`);
      const request = newRequest();
      const { logger } = capturedLogger();
      const client = bed.s3.client();
      const sent: { command: string; key?: string; uploadId?: string }[] = [];
      const uploadIds: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Key?: string; UploadId?: string };
          sent.push({ command: context.commandName ?? '', key: input.Key, uploadId: input.UploadId });
          const result = await next(args);
          const output = result.output as { UploadId?: string };
          if (output.UploadId) uploadIds.push(output.UploadId);
          return result;
        },
        { step: 'initialize' },
      );
      // Act
      const error = await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'users.csv')]), {
        ...archiveDeps(bed.s3, bed.tmpDir, logger),
        s3: client,
        partSizeBytes: 5 * MiB,
      }).catch((caught: Error) => caught);
      client.destroy();
      // Assess
      expect(error).toBeInstanceOf(MalformedCsvError);
      expect((error as Error).message).toMatch(/record 150001/);
      const data = sent.filter((s) => s.key === dataKey(request, TEST_ATTEMPT));
      expect(uploadIds).toHaveLength(1);
      expect(data.filter((s) => s.command === 'UploadPartCommand').length).toBeGreaterThan(0);
      expect(data.filter((s) => s.command === 'AbortMultipartUploadCommand')).toEqual([
        { command: 'AbortMultipartUploadCommand', key: dataKey(request, TEST_ATTEMPT), uploadId: uploadIds[0] },
      ]);
      expect(data.some((s) => s.command === 'CompleteMultipartUploadCommand')).toBe(false);
      expect((await bed.s3.keys()).filter((key) => key.includes(`/tenant=${request.tenant}/`))).toEqual([]);
    });

    it('propagates errors thrown by toRecord', async () => {
      class BadValueError extends Error {
        override name = 'BadValueError';
      }
      const report: ReportDefinition = {
        ...USERS_REPORT,
        toRecord(raw) {
          if (raw.id === 'u2') throw new BadValueError('bad value in field "id"');
          return USERS_REPORT.toRecord(raw);
        },
      };
      serve('users.csv', CSV);
      await expectFailure([httpSource(bed.vendor, 'users.csv')], BadValueError, /field "id"/, { report });
    });
  });

  describe('late failures', () => {
    it('publishes no data object when an original fails to upload (the data upload is never completed)', async () => {
      // Prepare: an S3 client that refuses writes under originals/
      serve('users.csv', CSV);
      const request = newRequest();
      const { logger } = capturedLogger();
      const deps = archiveDeps(bed.s3, bed.tmpDir, logger);
      const failing = bed.s3.client();
      failing.middlewareStack.add(
        (next) => async (args) => {
          const key = (args.input as { Key?: string }).Key ?? '';
          if (key.startsWith('originals/')) throw new Error('simulated S3 outage');
          return next(args);
        },
        { step: 'initialize' },
      );
      // Act
      const error = await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'users.csv')]), {
        ...deps,
        s3: failing,
      }).catch((caught: Error) => caught);
      // Assess
      failing.destroy();
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('simulated S3 outage');
      expect((await bed.s3.keys()).filter((key) => key.includes(`/tenant=${request.tenant}/`))).toEqual([]);
    });
  });
});
