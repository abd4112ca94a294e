/**
 * The loopback servers of a benchmark run, in the parent process:
 *
 * 1. a file server: `GET /files/<name>` answers a generated report with Content-Length, as a
 *    vendor's download link would;
 * 2. a null S3 endpoint: just enough of the S3 REST API for the SDK's PutObject, multipart upload
 *    (`lambdas/core/archive/s3-upload.ts`), abort and delete to succeed, discarding bodies. It counts bytes per key so
 *    the run can check what was uploaded, and separates our cost from s3rver's.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** Serves the files of `dir` (flat names only) under `/files/`. */
export async function startFileServer(dir: string): Promise<RunningServer> {
  const server = createServer((req, res) => {
    serveFile(dir, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  return { url: await listen(server), close: closer(server) };
}

async function serveFile(dir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/files\//, ''));
  if (!/^[A-Za-z0-9._-]+$/.test(name) || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404).end();
    return;
  }
  const path = join(dir, name);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
  file.on('error', () => res.destroy());
  res.on('close', () => file.destroy());
  file.pipe(res);
}

export interface NullObject {
  readonly bytes: number;
  readonly contentType?: string;
  /** small objects (the manifest) are kept, to be checked */
  readonly body?: Buffer;
}

export interface NullS3 extends RunningServer {
  /** completed objects by `bucket/key` */
  readonly objects: Map<string, NullObject>;
  /** counts of requests by S3 operation */
  readonly operations: Map<string, number>;
  reset(): void;
}

const KEEP_BODY_BYTES = 1024 * 1024;

/** A server that accepts what the SDK sends for uploads and keeps nothing but counts. */
export async function startNullS3(): Promise<NullS3> {
  const objects = new Map<string, NullObject>();
  const operations = new Map<string, number>();
  const uploads = new Map<string, { key: string; parts: Map<number, number>; contentType?: string }>();
  const count = (operation: string) => operations.set(operation, (operations.get(operation) ?? 0) + 1);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = decodeURIComponent(url.pathname.slice(1));
    const query = url.searchParams;
    const send = (status: number, body = '', headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'x-amz-request-id': 'null',
        ...(body ? { 'content-type': 'application/xml' } : {}),
        ...headers,
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(body);
    };
    // aws-chunked bodies carry framing; the decoded length is what the object holds
    const decoded = Number(req.headers['x-amz-decoded-content-length']);
    readBody(req, (bytes, body) => {
      const size = Number.isFinite(decoded) && decoded >= 0 ? decoded : bytes;
      const etag = `"${randomUUID().replace(/-/g, '')}"`;
      const method = req.method ?? 'GET';
      if (method === 'POST' && query.has('uploads')) {
        count('CreateMultipartUpload');
        const uploadId = randomUUID();
        const contentType = req.headers['content-type'];
        uploads.set(uploadId, { key, parts: new Map(), ...(contentType ? { contentType } : {}) });
        const [bucket, ...rest] = key.split('/');
        return send(
          200,
          `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xml(rest.join('/'))}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
        );
      }
      if (method === 'PUT' && query.has('uploadId') && query.has('partNumber')) {
        count('UploadPart');
        const upload = uploads.get(query.get('uploadId')!);
        if (!upload) return send(404, noSuchUpload());
        upload.parts.set(Number(query.get('partNumber')), size);
        return send(200, '', { etag });
      }
      if (method === 'POST' && query.has('uploadId')) {
        count('CompleteMultipartUpload');
        const uploadId = query.get('uploadId')!;
        const upload = uploads.get(uploadId);
        if (!upload) return send(404, noSuchUpload());
        uploads.delete(uploadId);
        let total = 0;
        for (const part of upload.parts.values()) total += part;
        objects.set(upload.key, { bytes: total, ...(upload.contentType ? { contentType: upload.contentType } : {}) });
        const [bucket, ...rest] = key.split('/');
        return send(
          200,
          `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Location>http://null/${xml(key)}</Location><Bucket>${bucket}</Bucket><Key>${xml(rest.join('/'))}</Key><ETag>${xml(etag)}</ETag></CompleteMultipartUploadResult>`,
        );
      }
      if (method === 'DELETE' && query.has('uploadId')) {
        count('AbortMultipartUpload');
        uploads.delete(query.get('uploadId')!);
        return send(204);
      }
      if (method === 'PUT' && req.headers['x-amz-copy-source']) {
        count('CopyObject');
        const source = decodeURIComponent(String(req.headers['x-amz-copy-source']).replace(/^\//, ''));
        const object = objects.get(source);
        if (!object) return send(404, noSuchKey());
        objects.set(key, object);
        return send(
          200,
          `<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><ETag>${xml(etag)}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`,
        );
      }
      if (method === 'PUT') {
        count('PutObject');
        const contentType = req.headers['content-type'];
        objects.set(key, {
          bytes: size,
          ...(contentType ? { contentType } : {}),
          ...(body ? { body } : {}),
        });
        return send(200, '', { etag });
      }
      if (method === 'DELETE') {
        count('DeleteObject');
        objects.delete(key);
        return send(204);
      }
      if ((method === 'HEAD' || method === 'GET') && query.get('list-type') === '2') {
        count('ListObjectsV2');
        return send(
          200,
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${xml(key)}</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
        );
      }
      if (method === 'HEAD' || method === 'GET') {
        count(method === 'HEAD' ? 'HeadObject' : 'GetObject');
        const object = objects.get(key);
        if (!object) return method === 'HEAD' ? send(404) : send(404, noSuchKey());
        if (method === 'GET' && object.body) {
          res.writeHead(200, { etag, 'content-length': String(object.body.length) });
          return res.end(object.body);
        }
        return send(200, '', { etag, 'content-length': String(object.bytes) });
      }
      count(`unsupported ${method}`);
      return send(
        501,
        `<Error><Code>NotImplemented</Code><Message>null S3: ${method} ${xml(url.search)}</Message></Error>`,
      );
    });
  });

  return {
    url: await listen(server),
    objects,
    operations,
    reset() {
      objects.clear();
      operations.clear();
      uploads.clear();
    },
    close: closer(server),
  };
}

/** Reads and drops a request body; keeps it only when small. */
function readBody(req: IncomingMessage, done: (bytes: number, body?: Buffer) => void): void {
  let bytes = 0;
  let kept: Buffer[] | undefined = [];
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (kept && bytes <= KEEP_BODY_BYTES) kept.push(chunk);
    else kept = undefined;
  });
  req.on('end', () => done(bytes, kept && bytes > 0 ? Buffer.concat(kept) : undefined));
  req.on('error', () => undefined);
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function noSuchKey(): string {
  return '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';
}

function noSuchUpload(): string {
  return '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
}
