/**
 * A loopback S3 with versions and Object Lock legal holds, answering as S3's API reference
 * describes: ListObjectVersions (prefix, delimiter, key and version-id markers, paged by
 * `pageSize` however many keys are asked for), GetObjectLockConfiguration, GetObjectLegalHold
 * (404 NoSuchObjectLockConfiguration for a version never held) and PutObjectLegalHold, which it
 * records. s3rver has none of these.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Loopback, startLoopback } from './loopback.ts';

export interface StoredVersion {
  readonly key: string;
  readonly versionId: string;
  hold?: 'ON' | 'OFF';
  readonly deleteMarker?: boolean;
  /** answer PutObjectLegalHold on this version with 403 AccessDenied */
  readonly refuse?: boolean;
}

export interface ObjectLockS3 extends Loopback {
  readonly bucket: string;
  /** PutObjectLegalHold requests, in order */
  readonly holds: { key: string; versionId: string; status: string }[];
  /** every request's method and query string, in order */
  readonly requests: { method: string; path: string; query: URLSearchParams }[];
}

const xml = (res: ServerResponse, status: number, body: string) =>
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
const error = (res: ServerResponse, status: number, code: string, message: string) =>
  xml(res, status, `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>STUB</RequestId></Error>`);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Versions after the markers, by key then in stored order (S3 lists a key's newest first). */
function listVersions(all: StoredVersion[], q: URLSearchParams, bucket: string, pageSize: number): string {
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const versionMarker = q.get('version-id-marker') ?? '';
  const sorted = all
    .filter((v) => v.key.startsWith(prefix))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // a marker that is a common prefix (ends with the delimiter) skips every key below it, as in S3
  const skipBelow = delimiter && keyMarker.endsWith(delimiter);
  let start = sorted.findIndex((v) => v.key > keyMarker && !(skipBelow && v.key.startsWith(keyMarker)));
  if (versionMarker) start = sorted.findIndex((v) => v.key === keyMarker && v.versionId === versionMarker) + 1;
  const after = start < 0 ? [] : sorted.slice(start);
  const entries: string[] = [];
  const prefixes = new Set<string>();
  let last: StoredVersion | undefined;
  let marker: { key: string; versionId?: string } | undefined;
  let count = 0;
  for (const v of after) {
    const rest = v.key.slice(prefix.length);
    const common = delimiter && rest.includes(delimiter) ? prefix + rest.slice(0, rest.indexOf(delimiter) + 1) : '';
    if (count >= pageSize && !(common && prefixes.has(common))) break;
    if (common) {
      if (!prefixes.has(common)) count++;
      prefixes.add(common);
      marker = { key: common };
    } else {
      const tag = v.deleteMarker ? 'DeleteMarker' : 'Version';
      entries.push(
        `<${tag}><Key>${esc(v.key)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>false</IsLatest>` +
          `<LastModified>2026-11-22T02:00:00.000Z</LastModified>${v.deleteMarker ? '' : '<ETag>"e"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass>'}</${tag}>`,
      );
      count++;
      marker = { key: v.key, versionId: v.versionId };
    }
    last = v;
  }
  const truncated = last !== undefined && after.indexOf(last) < after.length - 1;
  const versionMarkerXml = marker?.versionId ? `<NextVersionIdMarker>${marker.versionId}</NextVersionIdMarker>` : '';
  const next = truncated && marker ? `<NextKeyMarker>${esc(marker.key)}</NextKeyMarker>${versionMarkerXml}` : '';
  return (
    `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${esc(prefix)}</Prefix>` +
    `<MaxKeys>${pageSize}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${next}${entries.join('')}` +
    `${[...prefixes].map((p) => `<CommonPrefixes><Prefix>${esc(p)}</Prefix></CommonPrefixes>`).join('')}</ListVersionsResult>`
  );
}

export async function startObjectLockS3(
  versions: StoredVersion[],
  options: { bucket?: string; objectLock?: boolean; pageSize?: number } = {},
): Promise<ObjectLockS3> {
  const bucket = options.bucket ?? 'archive';
  const pageSize = options.pageSize ?? 2;
  const holds: ObjectLockS3['holds'] = [];
  const requests: ObjectLockS3['requests'] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://stub');
    // bucket requests come as `/<bucket>/` or `/<bucket>`
    const path = decodeURIComponent(url.pathname).replace(new RegExp(`^/${bucket}/$`), `/${bucket}`);
    const q = url.searchParams;
    requests.push({ method: req.method ?? '', path, query: q });
    if (path === `/${bucket}` && q.has('object-lock')) {
      if (options.objectLock === false) {
        return error(
          res,
          404,
          'ObjectLockConfigurationNotFoundError',
          'Object Lock configuration does not exist for this bucket',
        );
      }
      return xml(
        res,
        200,
        '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>',
      );
    }
    if (path === `/${bucket}` && q.has('versions')) return xml(res, 200, listVersions(versions, q, bucket, pageSize));
    const key = path.slice(bucket.length + 2);
    const version = versions.find((v) => v.key === key && v.versionId === q.get('versionId') && !v.deleteMarker);
    if (!q.has('legal-hold')) return error(res, 501, 'NotImplemented', 'the stub answers legal holds only');
    if (!version) return error(res, 404, 'NoSuchVersion', 'The specified version does not exist.');
    if (req.method === 'GET') {
      if (!version.hold)
        return error(
          res,
          404,
          'NoSuchObjectLockConfiguration',
          'The specified object does not have a ObjectLock configuration',
        );
      return xml(res, 200, `<LegalHold><Status>${version.hold}</Status></LegalHold>`);
    }
    if (version.refuse) return error(res, 403, 'AccessDenied', 'Access Denied');
    const status =
      Buffer.concat(chunks)
        .toString()
        .match(/<Status>(ON|OFF)<\/Status>/)?.[1] ?? '?';
    holds.push({ key, versionId: version.versionId, status });
    version.hold = status as 'ON' | 'OFF';
    return res.writeHead(200).end();
  };
  const loopback = await startLoopback((req, res) => void answer(req, res));
  return { ...loopback, bucket, holds, requests };
}
