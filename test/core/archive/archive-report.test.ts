import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { archiveReport, type Manifest, ManifestSchema } from '../../../lambdas/core/archive/index.ts';
import { dataKey, manifestKey, originalKey } from '../../../lambdas/core/layout.ts';
import type { ReportRequest, ReportSource } from '../../../lambdas/core/types.ts';
import {
  archiveDeps,
  archiveInput,
  bulkCsv,
  capturedLogger,
  expectArchived,
  httpSource,
  newRequest,
  readRecords,
  sha256,
  TEST_ATTEMPT,
  useArchiveTestBed,
  zipJs,
} from '../../support/archive-fixtures.ts';

// BOM, CRLF, quoted commas, quotes and line breaks, non-ASCII, empty fields.
const TRICKY_CSV =
  '\uFEFFid,name,note,city\r\n' +
  '1,"Smith, Jane","She said ""hi""",Zürich\r\n' +
  '2,Ōsaka Taro,"line one\r\nline two",\r\n' +
  '3,,"",東京\r\n' +
  '4,"Emoji 🎉","a,b,""c""\nd",São Paulo\r\n';
const TRICKY_RECORDS = [
  { id: '1', name: 'Smith, Jane', note: 'She said "hi"', city: 'Zürich' },
  { id: '2', name: 'Ōsaka Taro', note: 'line one\r\nline two', city: '' },
  { id: '3', name: '', note: '', city: '東京' },
  { id: '4', name: 'Emoji 🎉', note: 'a,b,"c"\nd', city: 'São Paulo' },
];
const SMALL_CSV = 'id,name,note,city\nu1,Ann,,Paris\nu2,Bob,x,Rome\n';
const SMALL_RECORDS = [
  { id: 'u1', name: 'Ann', note: '', city: 'Paris' },
  { id: 'u2', name: 'Bob', note: 'x', city: 'Rome' },
];

describe('archiveReport', () => {
  const bed = useArchiveTestBed('archive-test-', { expectTempFilesRemoved: true });

  async function run(request: ReportRequest, sources: ReportSource[]) {
    const { logger, lines } = capturedLogger();
    const result = expectArchived(
      await archiveReport(archiveInput(request, sources), archiveDeps(bed.s3, bed.tmpDir, logger)),
    );
    const manifest = ManifestSchema.parse(JSON.parse((await bed.s3.getBytes(manifestKey(request))).toString('utf8')));
    const records = await readRecords(bed.s3, dataKey(request, TEST_ATTEMPT));
    return { result, manifest, records, lines };
  }

  function serve(name: string, body: Buffer | string, contentType?: string) {
    bed.vendor.files.set(name, { body: Buffer.from(body), contentType });
  }

  describe('plain CSV', () => {
    it('round-trips BOM, CRLF, quoting, line breaks in fields, non-ASCII and empty fields exactly', async () => {
      // Prepare
      const request = newRequest();
      serve('users.csv', TRICKY_CSV, 'text/html');
      // Act
      const { result, manifest, records } = await run(request, [httpSource(bed.vendor, 'users.csv')]);
      // Assess
      expect(records).toEqual(TRICKY_RECORDS);
      expect(result.rowCount).toBe(4);
      expect(manifest.row_count).toBe(4);
      expect(manifest.originals[0]).toMatchObject({
        file_name: 'users.csv',
        role: 'data',
        format: 'csv',
        content_type: 'text/html',
        bytes: Buffer.byteLength(TRICKY_CSV),
        sha256: sha256(TRICKY_CSV),
        entries: [],
      });
      expect(await bed.s3.getBytes(originalKey(request, TEST_ATTEMPT, 'users.csv'))).toEqual(Buffer.from(TRICKY_CSV));
    });

    it('writes a manifest whose hashes, sizes and keys match independently computed values', async () => {
      // Prepare
      const request = newRequest();
      serve('users.csv', SMALL_CSV);
      // Act
      const { result, manifest } = await run(request, [httpSource(bed.vendor, 'users.csv')]);
      // Assess
      const data = await bed.s3.getBytes(dataKey(request, TEST_ATTEMPT));
      const manifestText = (await bed.s3.getBytes(manifestKey(request))).toString('utf8');
      expect(manifestText.trimEnd().split('\n')).toHaveLength(1);
      expect(manifest).toEqual<Manifest>({
        schema_version: 2,
        attempt: TEST_ATTEMPT,
        vendor: 'acme',
        tenant: request.tenant,
        report: 'users',
        report_date: '2026-11-21',
        run_id: request.runId,
        started_at: '2026-11-22T01:00:00.000Z',
        completed_at: '2026-11-22T01:02:03.000Z',
        software_version: '1.2.3-test',
        request_parameters: { window: '1d' },
        job: { jobId: 'job-1' },
        row_count: 2,
        columns: ['id', 'name', 'note', 'city'],
        data: {
          key: dataKey(request, TEST_ATTEMPT),
          bytes: data.length,
          sha256: sha256(data),
          format: 'jsonl.gz',
          version_id: null, // s3rver keeps no versions
        },
        originals: [
          {
            file_name: 'users.csv',
            key: originalKey(request, TEST_ATTEMPT, 'users.csv'),
            role: 'data',
            bytes: SMALL_CSV.length,
            sha256: sha256(SMALL_CSV),
            format: 'csv',
            content_type: 'application/octet-stream',
            entries: [],
            version_id: null,
          },
        ],
        dropped: {},
        replaces: null,
      });
      expect(result).toEqual({
        outcome: 'ARCHIVED',
        vendor: 'acme',
        tenant: request.tenant,
        report: 'users',
        date: '2026-11-21',
        keys: {
          data: dataKey(request, TEST_ATTEMPT),
          manifest: manifestKey(request),
          originals: [originalKey(request, TEST_ATTEMPT, 'users.csv')],
        },
        rowCount: 2,
        bytes: { original: SMALL_CSV.length, extracted: SMALL_CSV.length, data: data.length },
        sha256: { data: sha256(data), originals: [sha256(SMALL_CSV)] },
      });
    });

    it('streams a CSV large enough for a multipart data object', async () => {
      // Prepare
      const request = newRequest();
      const csv = bulkCsv(100_000);
      serve('bulk.csv', csv);
      // Act
      const { logger } = capturedLogger();
      const deps = { ...archiveDeps(bed.s3, bed.tmpDir, logger), partSizeBytes: 5 * 1024 * 1024 };
      const result = expectArchived(
        await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'bulk.csv')]), deps),
      );
      // Assess
      const data = await bed.s3.getBytes(dataKey(request, TEST_ATTEMPT));
      expect(data.length).toBeGreaterThan(5 * 1024 * 1024);
      expect(result.rowCount).toBe(100_000);
      expect(result.sha256.data).toBe(sha256(data));
      const records = await readRecords(bed.s3, dataKey(request, TEST_ATTEMPT));
      expect(records).toHaveLength(100_000);
      expect(records[99_999]).toMatchObject({ id: 'u99999' });
    });

    it('archives a header-only CSV as zero rows', async () => {
      const request = newRequest();
      serve('empty.csv', 'id,name,note,city\r\n');
      const { result, records } = await run(request, [httpSource(bed.vendor, 'empty.csv')]);
      expect(result.rowCount).toBe(0);
      expect(records).toEqual([]);
    });
  });

  describe('zip', () => {
    it('extracts a deflated entry and records it in the manifest', async () => {
      // Prepare
      const request = newRequest();
      const zip = await zipJs([{ name: 'export/users.csv', data: TRICKY_CSV }]);
      serve('users.zip', zip);
      // Act
      const { manifest, records } = await run(request, [httpSource(bed.vendor, 'users.zip')]);
      // Assess
      expect(records).toEqual(TRICKY_RECORDS);
      expect(manifest.originals[0]).toMatchObject({
        format: 'zip',
        bytes: zip.length,
        sha256: sha256(zip),
        entries: [
          {
            name: 'export/users.csv',
            bytes: Buffer.byteLength(TRICKY_CSV),
            sha256: sha256(TRICKY_CSV),
            encryption: 'none',
          },
        ],
      });
      expect(await bed.s3.getBytes(originalKey(request, TEST_ATTEMPT, 'users.zip'))).toEqual(zip);
    });

    it('extracts a stored entry', async () => {
      const request = newRequest();
      serve('users.zip', await zipJs([{ name: 'users.csv', data: SMALL_CSV, level: 0 }]));
      const { records } = await run(request, [httpSource(bed.vendor, 'users.zip')]);
      expect(records).toEqual(SMALL_RECORDS);
    });

    it('reads ZIP64 archives', async () => {
      const request = newRequest();
      const zip = await zipJs([{ name: 'users.csv', data: SMALL_CSV }], { zip64: true });
      expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // ZIP64 end record present
      serve('users.zip', zip);
      const { records } = await run(request, [httpSource(bed.vendor, 'users.zip')]);
      expect(records).toEqual(SMALL_RECORDS);
    });

    it('parses every data entry into one table and skips directories and OS junk', async () => {
      // Prepare
      const request = newRequest();
      const zip = await zipJs([
        { name: 'part1/', directory: true },
        { name: 'part1/a.csv', data: 'id,name,note,city\n1,A,,X\n' },
        { name: '__MACOSX/part1/._a.csv', data: 'junk' },
        { name: 'part1/.DS_Store', data: 'junk' },
        { name: 'part2.json', data: '[{"id":"2","name":"B","note":"n","city":"Y"}]' },
      ]);
      serve('users.zip', zip);
      // Act
      const { manifest, records, result } = await run(request, [httpSource(bed.vendor, 'users.zip')]);
      // Assess
      expect(records).toEqual([
        { id: '1', name: 'A', note: '', city: 'X' },
        { id: '2', name: 'B', note: 'n', city: 'Y' },
      ]);
      expect(result.rowCount).toBe(2);
      expect(manifest.originals[0]!.entries.map((entry) => entry.name)).toEqual(['part1/a.csv', 'part2.json']);
    });

    it.each([
      ['AES-256', false, 'aes'],
      ['ZipCrypto', true, 'zipcrypto'],
    ] as const)('decrypts %s entries with the source password', async (_label, zipCrypto, encryption) => {
      // Prepare
      const request = newRequest();
      const password = 'correct horse battery staple';
      serve('users.zip', await zipJs([{ name: 'users.csv', data: TRICKY_CSV, password, zipCrypto }]));
      // Act
      const { manifest, records, lines } = await run(request, [httpSource(bed.vendor, 'users.zip', { password })]);
      // Assess
      expect(records).toEqual(TRICKY_RECORDS);
      expect(manifest.originals[0]!.entries).toEqual([
        { name: 'users.csv', bytes: Buffer.byteLength(TRICKY_CSV), sha256: sha256(TRICKY_CSV), encryption },
      ]);
      const manifestText = (await bed.s3.getBytes(manifestKey(request))).toString('utf8');
      expect(manifestText).not.toContain(password);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('\n')).not.toContain(password);
      expect(lines.join('\n')).not.toContain('secret-signature');
    });
  });

  describe('zip passwords', () => {
    it('refuses to write a manifest that would carry the zip password', async () => {
      // Prepare: a connector that (wrongly) put the password in the request parameters
      const request = newRequest();
      const password = 'correct horse battery staple';
      serve('users.zip', await zipJs([{ name: 'users.csv', data: SMALL_CSV, password }]));
      const { logger, lines } = capturedLogger();
      const input = {
        ...archiveInput(request, [httpSource(bed.vendor, 'users.zip', { password })]),
        requestParameters: { window: '1d', zipPassword: password },
      };
      // Act
      const error = await archiveReport(input, archiveDeps(bed.s3, bed.tmpDir, logger)).catch((e: Error) => e);
      // Assess
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(
        'the manifest would contain the password of users.zip; refusing to write it',
      );
      expect(await bed.s3.keys()).not.toContain(manifestKey(request));
      expect(lines.join('\n')).not.toContain(password);
    });
  });

  describe('gzip', () => {
    it('decompresses a single-member file', async () => {
      const request = newRequest();
      const gz = gzipSync(TRICKY_CSV);
      serve('users.csv.gz', gz);
      const { manifest, records } = await run(request, [httpSource(bed.vendor, 'users.csv.gz')]);
      expect(records).toEqual(TRICKY_RECORDS);
      expect(manifest.originals[0]).toMatchObject({
        format: 'gzip',
        sha256: sha256(gz),
        entries: [{ name: 'users.csv', bytes: Buffer.byteLength(TRICKY_CSV), sha256: sha256(TRICKY_CSV) }],
      });
    });

    it('decompresses a multi-member file as one stream', async () => {
      const request = newRequest();
      const [head, tail] = [SMALL_CSV.slice(0, 25), SMALL_CSV.slice(25)];
      serve('users.gz', Buffer.concat([gzipSync(head), gzipSync(tail)]));
      const { records } = await run(request, [httpSource(bed.vendor, 'users.gz')]);
      expect(records).toEqual(SMALL_RECORDS);
    });
  });

  describe('JSON', () => {
    const objects = [
      { id: 'j1', name: 'Jo "Q"', note: 'a\nb', city: 'Kraków' },
      { id: 'j2', name: 'Li', note: '', city: null },
    ];
    it.each([
      ['an array of objects', JSON.stringify(objects, null, 2)],
      ['NDJSON', `${objects.map((o) => JSON.stringify(o)).join('\r\n')}\r\n`],
      ['an object with one array property', JSON.stringify({ count: 2, entries: objects, meta: { page: 1 } })],
    ])('parses %s', async (_label, body) => {
      const request = newRequest();
      serve('users.json', body);
      const { records, manifest } = await run(request, [httpSource(bed.vendor, 'users.json')]);
      expect(records).toEqual(objects);
      expect(manifest.originals[0]!.format).toBe('json');
    });

    it('archives JSON inside a gzip', async () => {
      const request = newRequest();
      serve('users.json.gz', gzipSync(JSON.stringify(objects)));
      const { records } = await run(request, [httpSource(bed.vendor, 'users.json.gz')]);
      expect(records).toEqual(objects);
    });

    it('keeps every digit of an integer past 2^53 (a string column holds it as text)', async () => {
      const request = newRequest();
      const body =
        '[{"id":12345678901234567891,"name":"n 98765432109876543210","note":-9007199254740993,"city":9007199254740991}]';
      serve('users.json', body);
      const { records } = await run(request, [httpSource(bed.vendor, 'users.json')]);
      expect(records).toEqual([
        {
          id: '12345678901234567891',
          name: 'n 98765432109876543210',
          note: '-9007199254740993',
          city: 9007199254740991,
        },
      ]);
    });

    it('keeps a number past the double range or an integer in exponent form as its text, never null or rounded', async () => {
      const request = newRequest();
      serve('users.json', '[{"id":1E400,"name":-1e999,"note":12345678901234567891e0,"city":1234567890123456789.0}]');
      const { records } = await run(request, [httpSource(bed.vendor, 'users.json')]);
      expect(records).toEqual([
        { id: '1E400', name: '-1e999', note: '12345678901234567891e0', city: '1234567890123456789.0' },
      ]);
    });
  });

  describe('inflated chunks in reused buffers', () => {
    // 64-byte chunks: records, JSON values and UTF-8 sequences span many chunks, and every buffer
    // is overwritten two chunks later. A reader that kept a chunk without copying it would store
    // garbage here.
    const objects = Array.from({ length: 40 }, (_, i) => ({
      id: `u${i}`,
      name: `Näme "${i}" ${'x'.repeat(i * 3)}`,
      note: i % 3 === 0 ? 'line\nbreak, comma' : '',
      city: '東京',
    }));
    const csv = `id,name,note,city\n${objects.map((o) => [o.id, `"${o.name.replaceAll('"', '""')}"`, `"${o.note}"`, o.city].join(',')).join('\n')}\n`;

    it.each([['native'], ['stream']] as const)(
      'parses zip and gzip, CSV and JSON, alike (%s engine)',
      async (engine) => {
        const request = newRequest();
        serve(
          'export.zip',
          await zipJs([
            { name: 'users.json', data: JSON.stringify({ total: objects.length, users: objects }) },
            { name: 'users.csv', data: csv },
          ]),
        );
        serve('more.json.gz', gzipSync(objects.map((o) => JSON.stringify(o)).join('\n')));
        const { logger } = capturedLogger();
        const deps = { ...archiveDeps(bed.s3, bed.tmpDir, logger), inflate: { engine, chunkBytes: 64 } };
        const sources = [httpSource(bed.vendor, 'export.zip'), httpSource(bed.vendor, 'more.json.gz')];
        const result = expectArchived(await archiveReport(archiveInput(request, sources), deps));
        expect(result.rowCount).toBe(3 * objects.length);
        expect(await readRecords(bed.s3, dataKey(request, TEST_ATTEMPT))).toEqual([...objects, ...objects, ...objects]);
      },
    );
  });

  describe('S3 requests', () => {
    it('writes every object with SSE-KMS, the data object as ndjson without Content-Encoding', async () => {
      // Prepare: a client that records what each command asks for
      const request = newRequest();
      serve('users.csv', SMALL_CSV);
      const client = bed.s3.client();
      const sent: Array<{ command: string; input: Record<string, unknown> }> = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
          return next(args);
        },
        { step: 'initialize' },
      );
      const { logger } = capturedLogger();
      const deps = {
        ...archiveDeps(bed.s3, bed.tmpDir, logger),
        s3: client,
        kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/test',
      };
      // Act
      await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'users.csv')]), deps);
      client.destroy();
      // Assess
      const writes = sent.filter(
        (s) => s.command === 'PutObjectCommand' || s.command === 'CreateMultipartUploadCommand',
      );
      // the manifest comes last, then its entry in the publication log; a small data object is
      // one PutObject once the originals are up
      expect(writes.map((w) => w.input.Key)).toEqual([
        originalKey(request, TEST_ATTEMPT, 'users.csv'),
        dataKey(request, TEST_ATTEMPT),
        manifestKey(request),
        expect.stringMatching(/^publications\/2026-11-22T01-02-03\.000Z-[0-9a-f]{8}\.json$/),
      ]);
      for (const write of writes) {
        expect(write.input).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: deps.kmsKeyId });
        expect(write.input).not.toHaveProperty('ChecksumAlgorithm');
        expect(write.input).not.toHaveProperty('ContentEncoding');
      }
      expect(writes.map((w) => w.input.ContentType)).toEqual([
        'text/csv',
        'application/x-ndjson',
        'application/json',
        'application/json',
      ]);
    });
    it('sends every data part, then the originals through the same part buffers, then completes the data', async () => {
      // Prepare: a report whose data object and original both take several parts
      const request = newRequest();
      serve('bulk.csv', bulkCsv(100_000));
      const client = bed.s3.client();
      const sent: Array<{ command: string; key: unknown; body?: ArrayBufferLike }> = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Key?: unknown; Body?: unknown };
          const body = Buffer.isBuffer(input.Body) ? input.Body.buffer : undefined;
          sent.push({ command: context.commandName ?? '', key: input.Key, ...(body ? { body } : {}) });
          return next(args);
        },
        { step: 'initialize' },
      );
      const { logger } = capturedLogger();
      const deps = { ...archiveDeps(bed.s3, bed.tmpDir, logger), s3: client, partSizeBytes: 5 * 1024 * 1024 };
      // Act
      await archiveReport(archiveInput(request, [httpSource(bed.vendor, 'bulk.csv')]), deps);
      client.destroy();
      // Assess
      const steps = sent.map(
        (s) =>
          `${s.command.replace(/Command$/, '')} ${s.key === dataKey(request, TEST_ATTEMPT) ? 'data' : s.key === manifestKey(request) ? 'manifest' : 'original'}`,
      );
      const last = (step: string) => steps.lastIndexOf(step);
      const first = (step: string) => steps.indexOf(step);
      expect(steps.filter((step) => step === 'UploadPart data').length).toBeGreaterThan(1);
      expect(steps.filter((step) => step === 'UploadPart original').length).toBeGreaterThan(1);
      expect(last('UploadPart data')).toBeLessThan(first('CreateMultipartUpload original'));
      expect(last('CompleteMultipartUpload original')).toBeLessThan(first('CompleteMultipartUpload data'));
      expect(last('CompleteMultipartUpload data')).toBeLessThan(first('PutObject manifest'));
      const buffers = (who: string) =>
        new Set(
          sent
            .filter(
              (s) =>
                s.command === 'UploadPartCommand' && (s.key === dataKey(request, TEST_ATTEMPT)) === (who === 'data'),
            )
            .map((s) => s.body),
        );
      expect([...buffers('original')].every((buffer) => buffers('data').has(buffer))).toBe(true);
    });
  });

  describe('several sources', () => {
    it('parses data sources into one table and archives original-role sources byte for byte', async () => {
      // Prepare
      const request = newRequest();
      const summary = gzipSync('{"total": 3}');
      serve('a.csv', SMALL_CSV);
      serve('b.zip', await zipJs([{ name: 'b.csv', data: 'id,name,note,city\nu3,Cy,,Oslo\n' }]));
      serve('summary.json.gz', summary);
      // Act
      const { records, manifest, result } = await run(request, [
        httpSource(bed.vendor, 'a.csv'),
        httpSource(bed.vendor, 'b.zip'),
        httpSource(bed.vendor, 'summary.json.gz', { role: 'original' }),
      ]);
      // Assess
      expect(records).toEqual([...SMALL_RECORDS, { id: 'u3', name: 'Cy', note: '', city: 'Oslo' }]);
      expect(result.rowCount).toBe(3);
      expect(manifest.originals.map((o) => [o.file_name, o.role, o.format])).toEqual([
        ['a.csv', 'data', 'csv'],
        ['b.zip', 'data', 'zip'],
        ['summary.json.gz', 'original', 'gzip'],
      ]);
      expect(await bed.s3.getBytes(originalKey(request, TEST_ATTEMPT, 'summary.json.gz'))).toEqual(summary);
      expect(result.sha256.originals[2]).toBe(sha256(summary));
    });
  });
});
