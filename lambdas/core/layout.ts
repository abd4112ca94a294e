/**
 * Where things live in the archive bucket. Keys are deterministic: the same vendor, report,
 * tenant and date always map to the same keys, so a re-run overwrites (a new S3 version under
 * Object Lock) rather than adding a second copy the tables would read twice.
 *
 *   data/vendor=<v>/report=<r>/dt=<YYYY-MM-DD>/tenant=<t>/data.jsonl.gz    rows, read by Athena
 *   originals/vendor=<v>/report=<r>/dt=<YYYY-MM-DD>/tenant=<t>/<file>     the vendor's bytes as delivered
 *   manifests/vendor=<v>/report=<r>/dt=<YYYY-MM-DD>/tenant=<t>/manifest.json   written last: the commit mark
 */
import { isCalendarDate } from './dates.ts';
import type { ReportRequest } from './types.ts';

export const DATA_PREFIX = 'data';
export const ORIGINALS_PREFIX = 'originals';
export const MANIFESTS_PREFIX = 'manifests';
export const DATA_FILE_NAME = 'data.jsonl.gz';
export const MANIFEST_FILE_NAME = 'manifest.json';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;

type PartitionOf = Pick<ReportRequest, 'vendor' | 'report' | 'tenant' | 'date'>;

function partition(request: PartitionOf): string {
  for (const [field, value] of [
    ['vendor', request.vendor],
    ['report', request.report],
    ['tenant', request.tenant],
  ] as const) {
    if (!SLUG.test(value)) {
      throw new Error(`${field} must match ${SLUG} to be used in an S3 key; received ${JSON.stringify(value)}`);
    }
  }
  if (!isCalendarDate(request.date)) {
    throw new Error(`date must be a calendar date as YYYY-MM-DD; received ${JSON.stringify(request.date)}`);
  }
  return `vendor=${request.vendor}/report=${request.report}/dt=${request.date}/tenant=${request.tenant}`;
}

/** Table location of one report (everything below it is one format: gzip JSON Lines). */
export function tablePrefix(vendor: string, report: string): string {
  return `${DATA_PREFIX}/vendor=${vendor}/report=${report}/`;
}

export function dataKey(request: PartitionOf): string {
  return `${DATA_PREFIX}/${partition(request)}/${DATA_FILE_NAME}`;
}

export function originalKey(request: PartitionOf, fileName: string): string {
  const safe = fileName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (safe.length === 0) throw new Error('original file name is empty');
  return `${ORIGINALS_PREFIX}/${partition(request)}/${safe}`;
}

export function manifestKey(request: PartitionOf): string {
  return `${MANIFESTS_PREFIX}/${partition(request)}/${MANIFEST_FILE_NAME}`;
}

/** Prefix under which the manifests of one vendor, report and tenant live, for gap detection. */
export function manifestReportPrefix(vendor: string, report: string): string {
  return `${MANIFESTS_PREFIX}/vendor=${vendor}/report=${report}/`;
}
