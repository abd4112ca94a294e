/**
 * Where things live in the archive bucket. Every archive attempt writes its data and originals
 * at keys of its own (named by its attempt id), once: two runs of the same report, even at the
 * same time, never overwrite each other's bytes. The manifest key is deterministic, one per
 * vendor, report, tenant and date: it is the only key runs contend for, written with a condition
 * (see `archive/publish.ts`), and it names the one attempt whose rows the tables read. A data
 * object no manifest names (a crash before the manifest, a run that lost the race) is not part
 * of the archive's answer.
 *
 *   data/vendor=<v>/report=<r>/dt=<YYYY-MM-DD>/tenant=<t>/<attempt>.jsonl.gz         rows, read by Athena
 *   originals/vendor=<v>/report=<r>/dt=<YYYY-MM-DD>/tenant=<t>/<attempt>/<file>      the vendor's bytes as delivered
 *   manifests/vendor=<v>/report=<r>/dt=<YYYY-MM-DD>/tenant=<t>/manifest.json         written last: the commit mark
 *   outcomes/vendor=<v>/dt=<YYYY-MM-DD>/<r>/<t>/<run>.json                          how one run's item ended
 *   outcomes/vendor=<v>/dt=<YYYY-MM-DD>/<r>/<t>/lost.json                           the date aged out unarchived
 *   expectations/<v>.jsonl                                                           which tenant reports are due
 *
 * Outcome records are keyed by run, so a re-run adds a record beside the earlier ones and never
 * overwrites them; the report and tenant below `dt` are plain folders (not `k=v`), since both are
 * columns inside the record and only `vendor` and `dt` are partitions.
 *
 * An attempt id is `<UTC yyyymmddThhmmssZ>-<8 lower-case hex>`: sortable by start time, and
 * random enough that two attempts started in the same second do not meet.
 */
import { isCalendarDate } from './dates.ts';
import type { ReportRequest } from './types.ts';

export const DATA_PREFIX = 'data';
export const ORIGINALS_PREFIX = 'originals';
export const MANIFESTS_PREFIX = 'manifests';
export const DATA_FILE_SUFFIX = '.jsonl.gz';
export const MANIFEST_FILE_NAME = 'manifest.json';
export const OUTCOMES_PREFIX = 'outcomes';
export const EXPECTATIONS_PREFIX = 'expectations';
export const LOST_OUTCOME_NAME = 'lost';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const ATTEMPT_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

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

/** A new attempt id from the start time and four random bytes. */
export function attemptId(startedAt: Date, random: Uint8Array): string {
  if (random.length !== 4) throw new Error(`an attempt id takes 4 random bytes; received ${random.length}`);
  const time = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return checkAttempt(`${time}-${Buffer.from(random).toString('hex')}`);
}

function checkAttempt(attempt: string): string {
  if (!ATTEMPT_ID.test(attempt)) {
    throw new Error(`an attempt id must match ${ATTEMPT_ID}; received ${JSON.stringify(attempt)}`);
  }
  return attempt;
}

export function dataKey(request: PartitionOf, attempt: string): string {
  return `${DATA_PREFIX}/${partition(request)}/${checkAttempt(attempt)}${DATA_FILE_SUFFIX}`;
}

export function originalKey(request: PartitionOf, attempt: string, fileName: string): string {
  const safe = fileName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (safe.length === 0) throw new Error('original file name is empty');
  return `${ORIGINALS_PREFIX}/${partition(request)}/${checkAttempt(attempt)}/${safe}`;
}

export function manifestKey(request: PartitionOf): string {
  return `${MANIFESTS_PREFIX}/${partition(request)}/${MANIFEST_FILE_NAME}`;
}

/** Prefix under which the manifests of one vendor, report and tenant live, for gap detection. */
export function manifestReportPrefix(vendor: string, report: string): string {
  return `${MANIFESTS_PREFIX}/vendor=${vendor}/report=${report}/`;
}

/**
 * The run's name in an outcome key: the last segment of a Step Functions execution ARN (unique
 * per state machine), or the local run id, with anything outside [A-Za-z0-9._-] replaced.
 */
export function runName(runId: string): string {
  const name = (runId.split(':').pop() ?? '').replace(/[^A-Za-z0-9._-]/g, '_');
  if (name.length === 0 || name === LOST_OUTCOME_NAME) {
    throw new Error(`cannot name an outcome record after run ${JSON.stringify(runId)}`);
  }
  return name;
}

function outcomeFolder(request: PartitionOf): string {
  partition(request); // validates every part
  return `${OUTCOMES_PREFIX}/vendor=${request.vendor}/dt=${request.date}/${request.report}/${request.tenant}`;
}

/** Where one run records how one of its items ended (archived, failed or skipped). */
export function outcomeKey(request: PartitionOf, runId: string): string {
  return `${outcomeFolder(request)}/${runName(runId)}.json`;
}

/** Where the plan step records, once, that a date aged out of the vendor's history unarchived. */
export function lostOutcomeKey(request: PartitionOf): string {
  return `${outcomeFolder(request)}/${LOST_OUTCOME_NAME}.json`;
}

/** The vendor's expected tenant reports (one JSON line per tenant and report), from its config. */
export function expectationsKey(vendor: string): string {
  if (!SLUG.test(vendor)) throw new Error(`vendor must match ${SLUG}; received ${JSON.stringify(vendor)}`);
  return `${EXPECTATIONS_PREFIX}/${vendor}.jsonl`;
}
