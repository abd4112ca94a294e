/**
 * A loopback proxy in front of s3rver that answers conditional writes as S3 documents them, which
 * s3rver does not: a PutObject or CompleteMultipartUpload with `If-None-Match: *` on a key that
 * holds an object, or with `If-Match: <etag>` on a key whose ETag differs, gets 412
 * PreconditionFailed (If-Match on a key that holds nothing: 404 NoSuchKey); a key set up to
 * conflict gets 409 ConditionalRequestConflict.
 * Conditional writes to one key are decided one at a time, as S3 does. With `versioning`, every
 * published object's response carries an `x-amz-version-id`, as a versioned bucket's does.
 *
 * Everything else is forwarded as received (the Host header too, so s3rver's signature check
 * passes). Hooks let a test place a rival write between a run's read and its write.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type Loopback, startLoopback } from './loopback.ts';

export interface ConditionalWrite {
  readonly key: string;
  /** PUT (PutObject) or POST (CompleteMultipartUpload) */
  readonly method: string;
  readonly ifNoneMatch?: string;
  readonly ifMatch?: string;
  /** what the proxy answered */
  status?: number;
}

export interface ConditionalS3 extends Loopback {
  /** an S3 client whose requests go through the proxy */
  readonly s3: S3Client;
  /** every PutObject or CompleteMultipartUpload, in arrival order */
  readonly writes: ConditionalWrite[];
  /** the version ids given out per key, oldest first (with `versioning`) */
  readonly versions: Map<string, string[]>;
  /** answer this many conditional writes to a key with 409 before deciding them */
  readonly conflicts: Map<string, number>;
  versioning: boolean;
  /** awaited before a conditional write to the key waits its turn (e.g. a barrier for two runs) */
  arrive?: (key: string) => Promise<void>;
  /** awaited in the key's turn, just before its condition is checked (e.g. a rival's write) */
  beforeDecide?: (key: string) => Promise<void>;
}

const PRECONDITION_FAILED = errorXml(
  'PreconditionFailed',
  'At least one of the pre-conditions you specified did not hold',
);
const CONDITIONAL_CONFLICT = errorXml(
  'ConditionalRequestConflict',
  'A conflicting conditional operation is currently in progress against this resource. Please try again.',
);

const ANSWERS: Record<number, string> = {
  404: errorXml('NoSuchKey', 'The specified key does not exist.'),
  409: CONDITIONAL_CONFLICT,
  412: PRECONDITION_FAILED,
};

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy</RequestId><HostId>proxy</HostId></Error>`;
}

/** Where the proxy forwards to: an S3 client of s3rver and its bucket. */
export interface Upstream {
  readonly s3: S3Client;
  readonly bucket: string;
}

export async function startConditionalS3(upstream: Upstream): Promise<ConditionalS3> {
  const endpoint = await upstream.s3.config.endpoint?.();
  if (!endpoint) throw new Error('the local S3 client has no endpoint');
  const target = { hostname: endpoint.hostname, port: endpoint.port };
  const turns = new Map<string, Promise<void>>();
  let state: ConditionalS3 | undefined;
  const loopback = await startLoopback((req, res) => {
    handle(state!, req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  const s3 = new S3Client({
    endpoint: loopback.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const closeLoopback = loopback.close;
  state = Object.assign(loopback, {
    s3,
    writes: [],
    versions: new Map<string, string[]>(),
    conflicts: new Map<string, number>(),
    versioning: false,
    close: async () => {
      s3.destroy();
      await closeLoopback();
    },
  });
  return state;

  async function handle(proxy: ConditionalS3, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const key = decodeURIComponent(url.pathname.replace(/^\/[^/]+\//, ''));
    const publishes =
      (req.method === 'PUT' && !url.searchParams.has('partNumber') && !req.headers['x-amz-copy-source']) ||
      (req.method === 'POST' && url.searchParams.has('uploadId'));
    if (!publishes) return forward(proxy, req, res, undefined);
    const write: ConditionalWrite = {
      key,
      method: req.method ?? '',
      ...(typeof req.headers['if-none-match'] === 'string' && { ifNoneMatch: req.headers['if-none-match'] }),
      ...(typeof req.headers['if-match'] === 'string' && { ifMatch: req.headers['if-match'] }),
    };
    proxy.writes.push(write);
    if (!write.ifMatch && !write.ifNoneMatch) return forward(proxy, req, res, write);
    await proxy.arrive?.(key);
    // One conditional write per key at a time: the next starts when this one was answered.
    const previous = turns.get(key) ?? Promise.resolve();
    let done!: () => void;
    const turn = new Promise<void>((resolve) => {
      done = resolve;
    });
    turns.set(
      key,
      previous.then(() => turn),
    );
    await previous;
    try {
      await proxy.beforeDecide?.(key);
      const status = await decide(proxy, write);
      if (status === undefined) return await forward(proxy, req, res, write);
      write.status = status;
      req.resume();
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(ANSWERS[status]);
    } finally {
      done();
    }
  }

  /** The status S3 would answer instead of writing, or undefined to write. */
  async function decide(proxy: ConditionalS3, write: ConditionalWrite): Promise<number | undefined> {
    const conflicts = proxy.conflicts.get(write.key) ?? 0;
    if (conflicts > 0) {
      proxy.conflicts.set(write.key, conflicts - 1);
      return 409;
    }
    const etag = await upstream.s3.send(new HeadObjectCommand({ Bucket: upstream.bucket, Key: write.key })).then(
      (head) => head.ETag,
      () => undefined,
    );
    if (write.ifNoneMatch === '*' && etag !== undefined) return 412;
    // S3: If-Match on a key that holds nothing is 404 NoSuchKey, not 412
    if (write.ifMatch !== undefined && etag === undefined) return 404;
    if (write.ifMatch !== undefined && write.ifMatch !== etag) return 412;
    return undefined;
  }

  /** Sends the request on to s3rver; a published object's response gets a version id. */
  function forward(
    proxy: ConditionalS3,
    req: IncomingMessage,
    res: ServerResponse,
    write: ConditionalWrite | undefined,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ ...target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const headers = { ...answer.headers };
        if (write) write.status = answer.statusCode;
        if (write && proxy.versioning && answer.statusCode === 200) {
          const versionId = randomUUID();
          headers['x-amz-version-id'] = versionId;
          proxy.versions.set(write.key, [...(proxy.versions.get(write.key) ?? []), versionId]);
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', reject);
      });
      outgoing.on('error', reject);
      req.pipe(outgoing);
    });
  }
}
