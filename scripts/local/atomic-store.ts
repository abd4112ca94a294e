/**
 * s3rver's filesystem store, with writes that land whole or not at all, for the local S3.
 *
 * s3rver writes `<key>._S3rver_object` in place while the body streams, then its `.md5` and
 * `._S3rver_metadata.json`: a kill (or a dropped connection) leaves a short object that lists,
 * reads and globs as real. Here an object is first written whole into its own directory under
 * `<root>/.s3rver-tmp/` (bytes, MD5, metadata, and which key it is for), then moved into place by
 * renames: the object file first (the commit), then its metadata and MD5. Nothing under the temp
 * directory is in a bucket, so neither s3rver's listings nor DuckDB's globs see it.
 *
 * Between those renames a reader in this process could pair new bytes with old metadata, so every
 * commit, read and delete of one key holds that key's lock. A kill between them is finished by
 * `recover()` at the next start: an entry whose object file is gone was committed, so its
 * metadata and MD5 are moved in; an entry that still has its object file never was, so it is
 * removed. It assumes it is the only server on the directory (one `npm start` per workspace).
 *
 * Files are flushed to disk before they are renamed, so an operating-system crash cannot leave a
 * renamed but empty file either.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3Object from 's3rver/lib/models/object.js';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';

/** Below the store's root, beside the buckets; not a valid bucket name, so never served as one. */
export const STAGING_DIRECTORY = '.s3rver-tmp';
const TARGET_FILE = 'target.json';
/** the staged files that follow the object file into place, by s3rver's resource name */
const SIDE_FILES = ['metadata.json', 'object.md5'] as const;

interface Target {
  readonly bucket: string;
  readonly key: string;
}

export class AtomicFilesystemStore extends FilesystemStore {
  private readonly locks = new KeyLocks();

  override async getBucket(bucket: string) {
    return bucket === STAGING_DIRECTORY ? null : super.getBucket(bucket);
  }

  override getMetadata(bucket: string, key: string) {
    return this.locks.run(bucket, key, () => super.getMetadata(bucket, key));
  }

  /** s3rver reads the metadata, then opens the file: both under the lock, so they are of one write. */
  override getObject(bucket: string, key: string, options?: { start?: number; end?: number }) {
    return this.locks.run(bucket, key, () => super.getObject(bucket, key, options));
  }

  override deleteObject(bucket: string, key: string) {
    return this.locks.run(bucket, key, () => super.deleteObject(bucket, key));
  }

  override async putObject(object: S3Object): Promise<{ size: number; md5: string }> {
    const { bucket, key } = object;
    const staging = join(this.rootDirectory, STAGING_DIRECTORY, randomBytes(8).toString('hex'));
    await mkdir(staging, { recursive: true });
    try {
      await writeFile(join(staging, TARGET_FILE), JSON.stringify({ bucket, key } satisfies Target), { flush: true });
      // named as the object will be, so a staged manifest is recognisable on disk
      const staged = join(staging, objectFileName(key));
      const written = await writeBody(object.content, staged);
      await this.stageMetadata(staging, object, written.md5);
      await this.locks.run(bucket, key, () => this.commit(staging, staged, { bucket, key }));
      return written;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** A copy is a write of the source's bytes (s3rver copies them in place). */
  override async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, unknown> | null,
  ) {
    const source = await this.getObject(srcBucket, srcKey);
    if (!source) throw Object.assign(new Error(`no object ${srcBucket}/${srcKey}`), { code: 'ENOENT' });
    await this.putObject(new S3Object(destBucket, destKey, source.content, replacementMetadata ?? source.metadata));
    return this.getMetadata(destBucket, destKey);
  }

  /** Writes the metadata and MD5 files as s3rver's `putMetadata` would, into the staging directory. */
  private async stageMetadata(staging: string, object: S3Object, md5: string): Promise<void> {
    const metadata = Object.fromEntries(
      Object.entries(object.metadata).filter(
        ([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-'),
      ),
    );
    await writeFile(join(staging, 'metadata.json'), JSON.stringify(metadata, null, 2), { flush: true });
    await writeFile(join(staging, 'object.md5'), md5, { flush: true });
  }

  private async commit(staging: string, staged: string, target: Target): Promise<void> {
    const objectPath = this.getResourcePath(target.bucket, target.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    await rename(staged, objectPath);
    await this.moveSideFiles(staging, target);
  }

  private async moveSideFiles(staging: string, target: Target): Promise<void> {
    for (const resource of SIDE_FILES) {
      await rename(join(staging, resource), this.getResourcePath(target.bucket, target.key, resource)).catch(
        ignoreMissing,
      );
    }
  }

  /**
   * Finishes or drops what a killed process left staged (see the first comment), and drops
   * multipart uploads, whose parts only a client of that process could have completed.
   */
  async recover(): Promise<void> {
    const root = join(this.rootDirectory, STAGING_DIRECTORY);
    for (const entry of await readdir(root).catch(() => [])) {
      const staging = join(root, entry);
      const target = await readTarget(staging);
      const files = await readdir(staging).catch(() => []);
      const committed = target && !files.some((name) => name.endsWith(OBJECT_SUFFIX));
      if (committed) await this.moveSideFiles(staging, target);
      await rm(staging, { recursive: true, force: true });
    }
    for (const bucket of await readdir(this.rootDirectory)) {
      if (bucket === STAGING_DIRECTORY) continue;
      await rm(this.getResourcePath(bucket, undefined, 'uploads'), { recursive: true, force: true });
    }
  }
}

const OBJECT_SUFFIX = '._S3rver_object';

function objectFileName(key: string): string {
  const name = key.split('/').pop() ?? '';
  return `${name.replace(/[^A-Za-z0-9._=-]/g, '_')}${OBJECT_SUFFIX}`;
}

/** Streams a body into `path`, flushed and closed, with its size and MD5 (s3rver's ETag). */
async function writeBody(content: S3Object['content'], path: string): Promise<{ size: number; md5: string }> {
  const md5 = createHash('md5');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const source = Buffer.isBuffer(content) ? [content] : (content ?? []);
  // a request whose connection drops before its body ends fails here: nothing is committed
  await pipeline(source, measure, createWriteStream(path, { flush: true }));
  return { size, md5: md5.digest('hex') };
}

async function readTarget(staging: string): Promise<Target | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(staging, TARGET_FILE), 'utf8'));
    const { bucket, key } = (parsed ?? {}) as Partial<Target>;
    return typeof bucket === 'string' && typeof key === 'string' ? { bucket, key } : undefined;
  } catch {
    return undefined;
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

/**
 * One lock per bucket and key, taken in turn. A holder may take its own key again (s3rver's
 * `getObject` calls `getMetadata`), which `AsyncLocalStorage` recognises.
 */
class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly held = new AsyncLocalStorage<string>();

  async run<T>(bucket: string, key: string, work: () => Promise<T>): Promise<T> {
    const name = `${bucket}/${key}`;
    if (this.held.getStore() === name) return work();
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    try {
      return await this.held.run(name, work);
    } finally {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}
