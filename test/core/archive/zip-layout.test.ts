import { describe, expect, it } from 'vitest';
import { type ArchiveLimits, type ArchiveResult, archiveReport } from '../../../lambdas/core/archive/index.ts';
import { CompressionRatioError, CorruptArchiveError, UnsafeEntryError } from '../../../lambdas/core/errors.ts';
import {
  archiveDeps,
  archiveInput,
  capturedLogger,
  httpSource,
  newRequest,
  rawZip,
  useArchiveTestBed,
} from '../../support/archive-fixtures.ts';

const CSV = 'id,name,note,city\nu1,Ann,,Paris\nu2,Bob,x,Rome\n';
const CENTRAL_SIGNATURE = 0x02014b50;

type ErrorClass = abstract new (...args: never[]) => Error;

/** Offsets of each central directory record of a zip built by `rawZip` (no comment, no ZIP64). */
function centralRecords(zip: Buffer): number[] {
  const end = zip.length - 22;
  const count = zip.readUInt16LE(end + 10);
  const offsets: number[] = [];
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(CENTRAL_SIGNATURE);
    offsets.push(at);
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return offsets;
}

function central(zip: Buffer, index: number): number {
  const offset = centralRecords(zip)[index];
  if (offset === undefined) throw new Error(`no central record ${index}`);
  return offset;
}

describe('zip layout: entries that no ordinary tool writes are refused before anything is inflated', () => {
  const bed = useArchiveTestBed('zip-layout-', { expectTempFilesRemoved: true });

  async function archive(zip: Buffer, limits: Partial<ArchiveLimits> = {}) {
    bed.vendor.files.set('users.zip', { body: zip });
    const request = newRequest();
    const deps = archiveDeps(bed.s3, bed.tmpDir, capturedLogger().logger, limits);
    const outcome: { result?: ArchiveResult; error?: Error } = await archiveReport(
      archiveInput(request, [httpSource(bed.vendor, 'users.zip')]),
      deps,
    ).then(
      (result) => ({ result }),
      (error: Error) => ({ error }),
    );
    const published = (await bed.s3.keys()).filter((key) => key.includes(`/tenant=${request.tenant}/`));
    return { ...outcome, published };
  }

  async function expectRefused(zip: Buffer, errorClass: ErrorClass, message: RegExp, limits?: Partial<ArchiveLimits>) {
    const { error, published } = await archive(zip, limits);
    expect(error).toBeInstanceOf(errorClass);
    expect(error?.name).toBe(errorClass.name);
    expect(error?.message).toMatch(message);
    expect(published).toEqual([]);
  }

  it('archives two well-formed entries (the control for the cases below)', async () => {
    const zip = rawZip([
      { name: 'a.csv', data: Buffer.from(CSV) },
      { name: 'b.csv', data: Buffer.from(CSV) },
    ]);
    const { result, published } = await archive(zip);
    expect(result?.outcome === 'ARCHIVED' && result.rowCount).toBe(4);
    expect(published).toHaveLength(3);
  });

  it('refuses two entries with the same name', async () => {
    const zip = rawZip([
      { name: 'users.csv', data: Buffer.from(CSV) },
      { name: 'users.csv', data: Buffer.from(CSV) },
    ]);
    await expectRefused(zip, UnsafeEntryError, /two entries named "users\.csv"/);
  });

  it.each([
    ['differ only in case', 'users.csv', 'Users.CSV'],
    ['differ by a "./" prefix', 'users.csv', './users.csv'],
    ['differ by a doubled slash', 'dir/users.csv', 'dir//users.csv'],
    ['differ by a backslash separator', 'dir/users.csv', 'dir\\users.csv'],
    ['are the NFC and NFD spellings of one name', 'caf\u00e9.csv', 'cafe\u0301.csv'],
  ])('refuses two entry names that %s (one file once unzipped)', async (_label, first, second) => {
    const zip = rawZip([
      { name: first, data: Buffer.from(CSV) },
      { name: second, data: Buffer.from(CSV) },
    ]);
    await expectRefused(zip, UnsafeEntryError, /one file once extracted|two entries named/);
  });

  it('refuses two central entries pointing at one local header', async () => {
    const zip = rawZip([
      { name: 'a.csv', data: Buffer.from(CSV), method: 0 },
      { name: 'b.csv', data: Buffer.from(CSV), method: 0 },
    ]);
    zip.writeUInt32LE(0, central(zip, 1) + 42);
    await expectRefused(
      zip,
      CorruptArchiveError,
      /entry "a\.csv" .*does not match the zip's central directory \(name "b\.csv"\)/,
    );
  });

  it('refuses an entry whose data runs over the next entry (overlapping entries)', async () => {
    const zip = rawZip([
      { name: 'a.csv', data: Buffer.from(CSV), method: 0 },
      { name: 'b.csv', data: Buffer.from(CSV), method: 0 },
    ]);
    const first = central(zip, 0);
    const covering = CSV.length + 30 + 'b.csv'.length + CSV.length;
    zip.writeUInt32LE(covering, first + 20);
    zip.writeUInt32LE(covering, first + 24);
    await expectRefused(zip, UnsafeEntryError, /"a\.csv" and "b\.csv" overlap/);
  });

  it('refuses a local header that names another file than the central directory, on any entry', async () => {
    const zip = rawZip([
      { name: 'a.csv', data: Buffer.from(CSV) },
      { name: 'b.csv', data: Buffer.from(CSV) },
    ]);
    const secondLocal = zip.readUInt32LE(central(zip, 1) + 42);
    zip.write('c.csv', secondLocal + 30);
    await expectRefused(
      zip,
      CorruptArchiveError,
      /entry "c\.csv" .*does not match the zip's central directory \(name "b\.csv"\)/,
    );
  });

  it('refuses a symbolic link entry', async () => {
    const zip = rawZip([{ name: 'users.csv', data: Buffer.from(CSV) }]);
    const record = central(zip, 0);
    zip.writeUInt16LE((3 << 8) | 20, record + 4); // made by Unix
    zip.writeUInt32LE((0o120777 << 16) >>> 0, record + 38); // lrwxrwxrwx
    await expectRefused(zip, UnsafeEntryError, /"users\.csv".*symbolic link/);
  });

  it('applies the compression ratio to the archive as a whole, not only per entry', async () => {
    // Each entry stays under the per-entry grace size (1 MiB), so only the total can tell.
    const rows = `id,name,note,city\n${'u1,Ann,,Paris\n'.repeat(70_000)}`;
    const entries = Array.from({ length: 12 }, (_, i) => ({ name: `part-${i}.csv`, data: Buffer.from(rows) }));
    await expectRefused(rawZip(entries), CompressionRatioError, /as a whole.*the limit is 50/, {
      maxCompressionRatio: 50,
    });
  });
});
