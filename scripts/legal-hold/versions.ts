/**
 * Every object version of a vendor's reports in a date range, by the layout's prefixes.
 *
 * 1. The kinds are the archive's three prefixes (data, originals, manifests). The reports are the
 *    one asked for, or every `report=<r>/` folder found under the vendor's prefix of each kind.
 * 2. Per kind and report, versions are listed from just before `dt=<from>/` (keys sort by date)
 *    until a key past `dt=<to>/`, paging with the key and version-id markers.
 * 3. Only the partition folders are read from a key (`dt=<d>/tenant=<t>/`): what lies below the
 *    tenant's folder (file names, an attempt's folder) is whatever the archiver wrote there.
 *    Delete markers are not versions a hold applies to, and are left out.
 */
import { ListObjectVersionsCommand, type ListObjectVersionsCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { DATA_PREFIX, MANIFESTS_PREFIX, ORIGINALS_PREFIX } from '../../lambdas/core/layout.ts';

export const KINDS = [DATA_PREFIX, ORIGINALS_PREFIX, MANIFESTS_PREFIX] as const;
export type Kind = (typeof KINDS)[number];

export interface RangeScope {
  readonly bucket: string;
  readonly vendor: string;
  readonly from: string;
  readonly to: string;
  readonly tenant?: string;
  readonly report?: string;
}

export interface ObjectVersion {
  readonly kind: Kind;
  readonly key: string;
  readonly versionId: string;
}

const PARTITION = /\/dt=(\d{4}-\d{2}-\d{2})\/tenant=([^/]+)\//;

/** The `report=<r>/` folders under one kind's vendor prefix. */
async function reportsOf(s3: S3Client, bucket: string, vendorPrefix: string): Promise<string[]> {
  const reports: string[] = [];
  let keyMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: vendorPrefix, Delimiter: '/', KeyMarker: keyMarker }),
    );
    for (const { Prefix } of page.CommonPrefixes ?? []) {
      const match = Prefix?.slice(vendorPrefix.length).match(/^report=([^/]+)\/$/);
      if (match?.[1]) reports.push(match[1]);
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
  } while (keyMarker);
  return reports;
}

/** Versions of one kind and report in the range, page by page. */
async function* versionsOfReport(
  s3: S3Client,
  scope: RangeScope,
  kind: Kind,
  report: string,
): AsyncGenerator<ObjectVersion> {
  const prefix = `${kind}/vendor=${scope.vendor}/report=${report}/`;
  // `dt=<from>` sorts before every key of that date and after every earlier date's
  let keyMarker: string | undefined = `${prefix}dt=${scope.from}`;
  let versionIdMarker: string | undefined;
  while (keyMarker !== undefined) {
    const page: ListObjectVersionsCommandOutput = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: scope.bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const version of page.Versions ?? []) {
      const [, date, tenant] = version.Key?.match(PARTITION) ?? [];
      if (!date || !tenant || !version.Key || !version.VersionId) continue;
      if (date > scope.to) return;
      if (date < scope.from || (scope.tenant !== undefined && tenant !== scope.tenant)) continue;
      yield { kind, key: version.Key, versionId: version.VersionId } satisfies ObjectVersion;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  }
}

/** Every version in scope, kind by kind, report by report. */
export async function* versionsInRange(s3: S3Client, scope: RangeScope): AsyncGenerator<ObjectVersion> {
  for (const kind of KINDS) {
    const reports = scope.report
      ? [scope.report]
      : await reportsOf(s3, scope.bucket, `${kind}/vendor=${scope.vendor}/`);
    for (const report of reports) yield* versionsOfReport(s3, scope, kind, report);
  }
}
