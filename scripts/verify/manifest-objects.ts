/**
 * What a manifest says is in the archive, read loosely enough to check every manifest version
 * written so far (version 1 has no `version_id`), and the partition filter of `npm run verify`.
 */
import { z } from 'zod';
import { DATA_FILE_SUFFIX, DATA_PREFIX, ORIGINALS_PREFIX } from '../../lambdas/core/layout.ts';
import { formatIssues } from '../../lambdas/core/zod-issues.ts';

/** One object a manifest names, with what it must hash to. */
export interface NamedObject {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  /** the S3 version the manifest recorded; absent where the store has no versioning */
  readonly versionId?: string;
  readonly manifest: string;
}

const Described = z.object({
  key: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  version_id: z.string().min(1).nullish(),
});
const ManifestObjects = z.object({
  /** what it says it is: must be the partition its key names (the tables read these fields) */
  vendor: z.string().optional(),
  report: z.string().optional(),
  tenant: z.string().optional(),
  report_date: z.string().optional(),
  /** version 2: the attempt whose keys it names */
  attempt: z.string().min(1).optional(),
  data: Described,
  originals: z.array(Described).min(1),
});
type ManifestObjects = z.infer<typeof ManifestObjects>;

const MANIFEST_PARTITION = /^manifests\/(vendor=([^/]+)\/report=([^/]+)\/dt=([^/]+)\/tenant=([^/]+))\/manifest\.json$/;

/**
 * The objects `manifest` names: its data object and every original. Throws when it names none, or
 * names one outside its own partition (or, from version 2, its own attempt): the tables would
 * then show another report's rows, or rows of an attempt that never published, under its name.
 */
export function namedObjects(manifest: unknown, manifestKey: string): NamedObject[] {
  const parsed = ManifestObjects.safeParse(manifest);
  if (!parsed.success) throw new Error(`does not describe its objects: ${formatIssues(parsed.error)}`);
  checkOwnKeys(parsed.data, manifestKey);
  return [parsed.data.data, ...parsed.data.originals].map((object) => ({
    key: object.key,
    bytes: object.bytes,
    sha256: object.sha256,
    ...(object.version_id ? { versionId: object.version_id } : {}),
    manifest: manifestKey,
  }));
}

/**
 * A manifest's vendor, report, date and tenant are its key's: Athena reads the tenant from the
 * manifest and DuckDB from the key's folder, so a manifest that disagrees would be one report in
 * one engine and another in the other.
 */
function checkOwnFields(
  manifest: ManifestObjects,
  key: Record<'vendor' | 'report' | 'report_date' | 'tenant', string | undefined>,
): void {
  for (const field of ['vendor', 'report', 'report_date', 'tenant'] as const) {
    const value = manifest[field];
    if (value !== undefined && value !== key[field]) {
      throw new Error(`says ${field} ${JSON.stringify(value)}; its key says ${JSON.stringify(key[field])}`);
    }
  }
}

/** The layout's keys for the manifest's partition and attempt (version 1: data.jsonl.gz and originals by name). */
function checkOwnKeys(manifest: ManifestObjects, manifestKey: string): void {
  const match = MANIFEST_PARTITION.exec(manifestKey);
  const partition = match?.[1];
  if (!match || !partition) {
    throw new Error(`is not at a manifest key of the layout (manifests/<partition>/manifest.json)`);
  }
  checkOwnFields(manifest, { vendor: match[2], report: match[3], report_date: match[4], tenant: match[5] });
  const { attempt } = manifest;
  const data = attempt ? `${DATA_PREFIX}/${partition}/${attempt}${DATA_FILE_SUFFIX}` : undefined;
  const dataOk = data ? manifest.data.key === data : manifest.data.key.startsWith(`${DATA_PREFIX}/${partition}/`);
  if (!dataOk) {
    throw new Error(`names data ${manifest.data.key}; expected ${data ?? `a key under ${DATA_PREFIX}/${partition}/`}`);
  }
  const originals = `${ORIGINALS_PREFIX}/${partition}/${attempt ? `${attempt}/` : ''}`;
  for (const original of manifest.originals) {
    if (!original.key.startsWith(originals)) {
      throw new Error(`names original ${original.key}; expected a key under ${originals}`);
    }
  }
}

export interface PartitionFilter {
  readonly vendor?: string;
  readonly report?: string;
  readonly tenant?: string;
  /** first date, inclusive (YYYY-MM-DD) */
  readonly from?: string;
  /** last date, inclusive */
  readonly to?: string;
}

const PARTITION = /^[a-z]+\/vendor=([^/]+)\/report=([^/]+)\/dt=([^/]+)\/tenant=([^/]+)\//;

/** The partition of an archive key, or undefined for a key outside the layout. */
export function partitionOf(key: string): { matches(filter: PartitionFilter): boolean } | undefined {
  const m = PARTITION.exec(key);
  if (!m) return undefined;
  const [, vendor, report, dt, tenant] = m as unknown as [string, string, string, string, string];
  return {
    matches: (f) =>
      (!f.vendor || f.vendor === vendor) &&
      (!f.report || f.report === report) &&
      (!f.tenant || f.tenant === tenant) &&
      (!f.from || dt >= f.from) &&
      (!f.to || dt <= f.to),
  };
}

/** The narrowest listing prefix below `root` for a filter (the layout puts vendor, then report first). */
export function prefixesFor(root: string, filter: PartitionFilter): string[] {
  if (!filter.vendor) return [`${root}/`];
  if (!filter.report) return [`${root}/vendor=${filter.vendor}/`];
  return [`${root}/vendor=${filter.vendor}/report=${filter.report}/`];
}
