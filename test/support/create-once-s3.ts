/**
 * A loopback proxy in front of the local S3 (s3rver) that answers a conditional create as S3
 * does. s3rver ignores `If-None-Match`; S3 answers 412 with the XML error `PreconditionFailed`
 * when the key exists. Everything else goes through unchanged (the Host header included, so the
 * request's signature still holds). Tests only: the existence check (s3rver's file on disk) and the
 * write are two steps, not one atomic one as in S3.
 */
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { type LocalS3, S3RVER_SUFFIX } from '../../scripts/local/s3.ts';
import { type Loopback, startLoopback } from './loopback.ts';

/** S3's answer to a failed `If-None-Match: *` (S3 API reference, PutObject / Error responses). */
export function preconditionFailed(res: ServerResponse, key: string): void {
  res
    .writeHead(412, { 'content-type': 'application/xml', 'x-amz-request-id': 'STUB' })
    .end(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
        '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
        `<Condition>If-None-Match</Condition><Resource>/${key}</Resource><RequestId>STUB</RequestId></Error>`,
    );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forward(upstream: URL, req: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      resolve,
    );
    out.on('error', reject);
    out.end(body);
  });
}

/**
 * Starts the proxy in front of `s3`. A key exists when s3rver's file for it does (path-style
 * URLs: `/<bucket>/<key>`). `refused` lists the creates answered 412.
 */
export async function startConditionalS3(s3: LocalS3): Promise<Loopback & { refused: string[] }> {
  const upstream = new URL(s3.endpoint);
  const refused: string[] = [];
  const loopback = await startLoopback((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://stub').pathname);
      if (
        req.method === 'PUT' &&
        req.headers['if-none-match'] === '*' &&
        existsSync(join(s3.directory, `${path}${S3RVER_SUFFIX}`))
      ) {
        refused.push(path);
        preconditionFailed(res, path);
        return;
      }
      const answer = await forward(upstream, req, body);
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(res);
    })().catch((error: unknown) => {
      res.writeHead(502).end(String(error));
    });
  });
  return { ...loopback, refused };
}
