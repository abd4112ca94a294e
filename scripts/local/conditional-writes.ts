/**
 * S3's conditional writes for the local S3: s3rver ignores `If-None-Match` and `If-Match` on a
 * write, so this Koa middleware, in front of its router, answers them as S3 documents them for
 * PutObject, CopyObject and CompleteMultipartUpload:
 *
 * - `If-None-Match: *` when the key exists: 412 PreconditionFailed (any other value: 501, as S3
 *   accepts only `*`);
 * - `If-Match: <etag>` when the key's ETag differs: 412 PreconditionFailed; when the key does not
 *   exist: 404 NoSuchKey;
 * - a conditional write to a key while another write of it is in flight: 409
 *   ConditionalRequestConflict.
 *
 * A conditional write is checked when it arrives and holds its key until it is stored; an
 * unconditional write or delete of that key waits for it, so no write lands between the check and
 * the commit. S3 decides when the upload completes instead: the outcomes are the same, but which
 * of two racing writers gets the 409 can differ.
 */
import type { S3rverContext, S3rverMiddleware } from 's3rver';
import type FilesystemStore from 's3rver/lib/stores/filesystem.js';

/** The error S3 answers, as the XML body its SDKs read the error's name from. */
interface S3ErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly detail: Readonly<Record<string, string>>;
}

interface ObjectWrite {
  readonly bucket: string;
  readonly key: string;
  readonly conditional: boolean;
}

export function conditionalWrites(store: FilesystemStore): S3rverMiddleware {
  const writes = new KeyWrites();
  return async (ctx, next) => {
    const write = objectWrite(ctx);
    if (!write || !(await store.getBucket(write.bucket))) return next();
    const name = `${write.bucket}/${write.key}`;
    if (!write.conditional) {
      const release = await writes.unconditional(name);
      return next().finally(release);
    }
    const release = writes.conditional(name);
    if (!release) return answer(ctx, CONFLICT);
    try {
      const failed = await precondition(store, write, ctx.get('if-none-match'), ctx.get('if-match'));
      if (failed) return answer(ctx, failed);
      await next();
    } finally {
      release();
    }
  };
}

/** The object write a request is, if it is one: the bucket and key from its path-style URL. */
function objectWrite(ctx: S3rverContext): ObjectWrite | undefined {
  const path = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (!path?.[1] || !path[2]) return undefined;
  const query = ctx.query;
  const putsObject = ctx.method === 'PUT' && !['uploadId', 'tagging', 'acl'].some((name) => name in query);
  const completesUpload = ctx.method === 'POST' && 'uploadId' in query;
  const deletes = ctx.method === 'DELETE' && !['uploadId', 'tagging'].some((name) => name in query);
  if (!putsObject && !completesUpload && !deletes) return undefined;
  try {
    const conditional = !deletes && (ctx.get('if-none-match') !== '' || ctx.get('if-match') !== '');
    return { bucket: decodeURIComponent(path[1]), key: decodeURIComponent(path[2]), conditional };
  } catch {
    return undefined; // a malformed escape: s3rver's router answers it
  }
}

async function precondition(
  store: FilesystemStore,
  write: ObjectWrite,
  ifNoneMatch: string,
  ifMatch: string,
): Promise<S3ErrorAnswer | undefined> {
  if (ifNoneMatch !== '' && ifNoneMatch.trim() !== '*') {
    return {
      status: 501,
      code: 'NotImplemented',
      message: 'A header you provided implies functionality that is not implemented',
      detail: { Header: 'If-None-Match' },
    };
  }
  const etag = await currentEtag(store, write);
  if (ifNoneMatch !== '' && etag !== undefined) return preconditionFailed('If-None-Match');
  if (ifMatch === '') return undefined;
  if (etag === undefined) {
    return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', detail: { Key: write.key } };
  }
  return etagMatches(ifMatch, etag) ? undefined : preconditionFailed('If-Match');
}

async function currentEtag(store: FilesystemStore, write: ObjectWrite): Promise<string | undefined> {
  try {
    return (await store.getMetadata(write.bucket, write.key)).etag;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** `If-Match` holds a list of entity tags, quoted or not, or `*` for any current object. */
function etagMatches(ifMatch: string, etag: string): boolean {
  const bare = (tag: string) =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
  return ifMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

function preconditionFailed(condition: string): S3ErrorAnswer {
  return {
    status: 412,
    code: 'PreconditionFailed',
    message: 'At least one of the pre-conditions you specified did not hold',
    detail: { Condition: condition },
  };
}

const CONFLICT: S3ErrorAnswer = {
  status: 409,
  code: 'ConditionalRequestConflict',
  message: 'A conflicting conditional operation is currently in progress against this resource. Please try again.',
  detail: {},
};

function answer(ctx: S3rverContext, error: S3ErrorAnswer): void {
  const fields = { Code: error.code, Message: error.message, ...error.detail };
  const xml = Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  ctx.status = error.status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${xml}</Error>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The writes in flight per key. A conditional write needs the key to itself; unconditional ones
 * may overlap each other (the last to finish wins, as in S3) but wait for a conditional one.
 */
class KeyWrites {
  private readonly keys = new Map<string, { writers: number; conditional?: Promise<void> }>();

  /** Takes the key for a conditional write; undefined when another write of it is in flight. */
  conditional(name: string): (() => void) | undefined {
    if (this.keys.has(name)) return undefined;
    let done = () => {};
    const conditional = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.keys.set(name, { writers: 1, conditional });
    return () => {
      this.keys.delete(name);
      done();
    };
  }

  async unconditional(name: string): Promise<() => void> {
    for (let held = this.keys.get(name); held?.conditional; held = this.keys.get(name)) await held.conditional;
    const entry = this.keys.get(name) ?? { writers: 0 };
    entry.writers += 1;
    this.keys.set(name, entry);
    return () => {
      entry.writers -= 1;
      if (entry.writers === 0 && this.keys.get(name) === entry) this.keys.delete(name);
    };
  }
}
