/**
 * Table definitions, written once and rendered for both engines: Glue/Athena (deployed) and
 * DuckDB (local). A report's objects table reads every gzip JSON Lines object under its location
 * by column name; the manifest table reads the one-line manifests; the report's view, under the
 * name auditors query, keeps only the rows of the data objects a manifest names (reportViewSql).
 */
import { EXPECTATIONS_PREFIX, MANIFESTS_PREFIX, OUTCOMES_PREFIX, tablePrefix } from './layout.ts';
import type { ColumnDefinition, ColumnType, ReportDefinition } from './types.ts';

export interface TableColumn {
  readonly name: string;
  /** Glue / Athena (Hive DDL) type */
  readonly glueType: string;
  /** DuckDB type */
  readonly duckdbType: string;
  readonly comment?: string;
}

export interface PartitionKey {
  readonly name: string;
  readonly comment: string;
  /** how partition projection enumerates the key */
  readonly projection: { readonly type: 'date' } | { readonly type: 'enum'; readonly values: readonly string[] };
}

export interface TableDefinition {
  /**
   * The name auditors query: `report_manifests`, or a report's `<vendor>_<report>`, which is then
   * the view of its published rows over the table `objectsTableName(name)`.
   */
  readonly name: string;
  readonly description: string;
  /** key prefix of the table location (ends with `/`) */
  readonly prefix: string;
  readonly columns: readonly TableColumn[];
  /** in S3 key order */
  readonly partitionKeys: readonly PartitionKey[];
  /** the location template for partition projection, relative to the bucket, with `${key}` slots */
  readonly locationTemplate: string;
  /** the files DuckDB reads below a partition (or the prefix): a name pattern, after any folders */
  readonly fileGlob: string;
  /** set on a report table: the vendor and report its manifests are filed under */
  readonly report?: { readonly vendor: string; readonly name: string };
}

/** A report table: `name` is its view, `objectsTableName(name)` the table over every object. */
export type ReportTableDefinition = TableDefinition & { readonly report: NonNullable<TableDefinition['report']> };

export function isReportTable(table: TableDefinition): table is ReportTableDefinition {
  return table.report !== undefined;
}

const TYPES: Record<ColumnType, { glue: string; duckdb: string }> = {
  string: { glue: 'string', duckdb: 'VARCHAR' },
  bigint: { glue: 'bigint', duckdb: 'BIGINT' },
  double: { glue: 'double', duckdb: 'DOUBLE' },
  boolean: { glue: 'boolean', duckdb: 'BOOLEAN' },
  timestamp: { glue: 'timestamp', duckdb: 'TIMESTAMP' },
  date: { glue: 'date', duckdb: 'DATE' },
  'map<string,string>': { glue: 'map<string,string>', duckdb: 'MAP(VARCHAR, VARCHAR)' },
};

function column(definition: ColumnDefinition): TableColumn {
  const types = TYPES[definition.type];
  return { name: definition.name, glueType: types.glue, duckdbType: types.duckdb, comment: definition.comment };
}

/**
 * The one partition key of every report table: the report date. The tenant is not a partition
 * key: an enum projection would follow the configured tenants, so a retired tenant's history
 * would vanish from Athena, and 1,000 tenants × every day would pass the projection limit. It is a
 * column of each report's view, taken from the manifest that publishes the row.
 */
function reportPartitionKeys(): PartitionKey[] {
  return [{ name: 'dt', comment: 'date the report covers (YYYY-MM-DD, UTC)', projection: { type: 'date' } }];
}

export function reportTableName(vendor: string, report: string): string {
  return `${vendor}_${report}`;
}

/** The table over every data object of a report, published or not (Athena's `"$path"` names each). */
export function objectsTableName(reportTableName: string): string {
  return `${reportTableName}_objects`;
}

export function reportTable(vendor: string, report: ReportDefinition): ReportTableDefinition {
  const prefix = tablePrefix(vendor, report.name);
  const names = new Set<string>();
  for (const c of report.columns) {
    if (names.has(c.name)) throw new Error(`report ${vendor}/${report.name} defines column "${c.name}" twice`);
    if (c.name === 'dt' || c.name === 'tenant' || c.name === OBJECT_PATH_COLUMN) {
      throw new Error(`report ${vendor}/${report.name} column "${c.name}" clashes with a partition key or "$path"`);
    }
    names.add(c.name);
  }
  return {
    name: reportTableName(vendor, report.name),
    description: report.description,
    prefix,
    columns: report.columns.map(column),
    partitionKeys: reportPartitionKeys(),
    // each tenant's objects are in a `tenant=<t>/` folder below the date: Athena reads them all
    locationTemplate: `${prefix}dt=\${dt}/`,
    fileGlob: '*/*.jsonl.gz',
    report: { vendor, name: report.name },
  };
}

const FILE_STRUCT_GLUE =
  'array<struct<file_name:string,key:string,role:string,bytes:bigint,sha256:string,format:string,content_type:string,entries:array<struct<name:string,bytes:bigint,sha256:string,encryption:string>>,version_id:string>>';
const FILE_STRUCT_DUCKDB =
  'STRUCT(file_name VARCHAR, key VARCHAR, role VARCHAR, bytes BIGINT, sha256 VARCHAR, format VARCHAR, content_type VARCHAR, entries STRUCT(name VARCHAR, bytes BIGINT, sha256 VARCHAR, encryption VARCHAR)[], version_id VARCHAR)[]';

/**
 * What was collected when: one row per archived report, from its manifest. Partitioned by vendor,
 * report (enums of every registered connector, not of the configuration) and date; the tenant is
 * a column of the manifest, for the reason given at `reportPartitionKeys`.
 */
export function manifestTable(vendors: readonly string[], reports: readonly string[]): TableDefinition {
  return {
    name: MANIFEST_TABLE_NAME,
    description:
      'One row per archived report: what was collected, when, from which request, with SHA-256 of every file.',
    prefix: `${MANIFESTS_PREFIX}/`,
    columns: [
      simple(
        'schema_version',
        'bigint',
        'manifest format version (1: before attempt keys; null in the fields it lacks)',
      ),
      simple('tenant', 'string', 'tenant id'),
      simple('attempt', 'string', 'attempt id in the data and original keys (version 2)'),
      simple('report_date', 'string', 'date the report covers'),
      simple('run_id', 'string', 'Step Functions execution (or local run) that archived it'),
      simple('started_at', 'string', 'ISO 8601 time the archive step started'),
      simple('completed_at', 'string', 'ISO 8601 time the manifest was written'),
      simple('software_version', 'string', 'version of identity-report-archive'),
      simple('row_count', 'bigint', 'rows in the data file'),
      { name: 'columns', glueType: 'array<string>', duckdbType: 'VARCHAR[]', comment: 'columns of the data file' },
      {
        name: 'data',
        glueType: 'struct<key:string,bytes:bigint,sha256:string,format:string,version_id:string>',
        duckdbType: 'STRUCT(key VARCHAR, bytes BIGINT, sha256 VARCHAR, format VARCHAR, version_id VARCHAR)',
        comment: 'the queryable data file (version_id: its S3 version, null where the bucket keeps none)',
      },
      {
        name: 'originals',
        glueType: FILE_STRUCT_GLUE,
        duckdbType: FILE_STRUCT_DUCKDB,
        comment: 'files as the vendor delivered them',
      },
      {
        name: 'request_parameters',
        glueType: 'string',
        duckdbType: 'JSON',
        comment: 'request parameters (JSON, no secrets)',
      },
      { name: 'job', glueType: 'string', duckdbType: 'JSON', comment: 'vendor job ids and timestamps (JSON)' },
      {
        name: 'replaces',
        glueType: 'struct<etag:string,run_id:string>',
        duckdbType: 'STRUCT(etag VARCHAR, run_id VARCHAR)',
        comment: 'the manifest a forced or recovering re-run replaced (its ETag and run), or null',
      },
      {
        name: 'dropped',
        glueType: 'string',
        duckdbType: 'JSON',
        comment: 'records left out of the table, by reason (JSON), e.g. duplicate_event_id',
      },
    ],
    partitionKeys: [
      { name: 'vendor', comment: 'vendor id', projection: { type: 'enum', values: vendors } },
      { name: 'report', comment: 'report name', projection: { type: 'enum', values: reports } },
      { name: 'dt', comment: 'date the report covers (YYYY-MM-DD, UTC)', projection: { type: 'date' } },
    ],
    locationTemplate: `${MANIFESTS_PREFIX}/vendor=\${vendor}/report=\${report}/dt=\${dt}/`,
    fileGlob: '*/*.json',
  };
}

const simple = (name: string, type: ColumnType, comment: string): TableColumn => column({ name, type, comment });

export const OUTCOMES_TABLE_NAME = 'report_outcomes';

/**
 * How every planned item ended, one record per run and item (`archived`, `failed`, `skipped`),
 * and one per date that aged out of the vendor's history unarchived (`lost`). The one source
 * coverage, status and freshness read. Partitioned by vendor and report date only, so a tenant or
 * report that leaves the configuration keeps its records in SQL.
 */
export function outcomesTable(vendors: readonly string[]): TableDefinition {
  return {
    name: OUTCOMES_TABLE_NAME,
    description:
      'How every planned report ended: archived, failed (error and reason), skipped (reason), or lost (aged out of the vendor unarchived). One record per run and item.',
    prefix: `${OUTCOMES_PREFIX}/`,
    columns: [
      simple('schema_version', 'bigint', 'outcome record format version'),
      simple('tenant', 'string', 'tenant id'),
      simple('report', 'string', 'report name'),
      simple('report_date', 'string', 'date the report covers (YYYY-MM-DD), as dt'),
      simple('outcome', 'string', 'archived, failed, skipped or lost'),
      simple('error', 'string', 'error name of a failure, else null'),
      simple('reason', 'string', 'why it failed, was skipped or was lost (no secrets), else null'),
      simple('run_id', 'string', 'Step Functions execution (or local run) that recorded it'),
      simple('recorded_at', 'string', 'ISO 8601 time the outcome was recorded'),
      simple('manifest_key', 'string', 'the manifest an archived item published, else null'),
      simple('row_count', 'bigint', 'rows archived, else null'),
    ],
    partitionKeys: [
      { name: 'vendor', comment: 'vendor id', projection: { type: 'enum', values: vendors } },
      { name: 'dt', comment: 'date the report covers (YYYY-MM-DD, UTC)', projection: { type: 'date' } },
    ],
    locationTemplate: `${OUTCOMES_PREFIX}/vendor=\${vendor}/dt=\${dt}/`,
    fileGlob: '*/*/*.json',
  };
}

export const EXPECTATIONS_TABLE_NAME = 'expected_reports';

/**
 * Which tenant reports are due, and from when: one row per vendor, tenant and report, written by
 * each vendor's plan step from its configuration. Coverage expands it into expected days.
 */
export function expectationsTable(): TableDefinition {
  return {
    name: EXPECTATIONS_TABLE_NAME,
    description:
      'Which tenant reports the configuration expects, from which date (since) to which (until, or null while active), with the vendor cadence.',
    prefix: `${EXPECTATIONS_PREFIX}/`,
    columns: [
      simple('vendor', 'string', 'vendor id'),
      simple('tenant', 'string', 'tenant id'),
      simple('report', 'string', 'report name'),
      simple('since', 'string', 'first date expected (YYYY-MM-DD), from the tenant config'),
      simple('until', 'string', 'last date expected (YYYY-MM-DD), or null while the tenant is active'),
      simple('cadence', 'string', 'event-log (a past day can be fetched while the vendor keeps it) or snapshot'),
      simple('history_days', 'bigint', 'days back the vendor serves data; null when undocumented'),
      simple('written_at', 'string', 'ISO 8601 time the plan step wrote this list'),
    ],
    partitionKeys: [],
    locationTemplate: `${EXPECTATIONS_PREFIX}/`,
    fileGlob: '*.jsonl',
  };
}

/** The first date partition projection enumerates. */
export const PROJECTION_START_DATE = '2020-01-01';

export const MANIFEST_TABLE_NAME = 'report_manifests';

/**
 * The object a row was read from, as `s3://<bucket>/<key>`: Athena's hidden column on a Hive table
 * (the local catalog gives its objects views a column of that name and value).
 */
export const OBJECT_PATH_COLUMN = '$path';

/** A column of a report's view, with the two spellings of its type a Glue view needs. */
export interface ViewColumn {
  readonly name: string;
  /** Hive type, as the Glue table lists it */
  readonly glueType: string;
  /** Presto / Trino type, as the view's own definition lists it */
  readonly prestoType: string;
  readonly comment?: string;
}

/** The view's columns: the report's, then `dt` and `tenant` (strings, as in the S3 keys). */
export function reportViewColumns(table: ReportTableDefinition): ViewColumn[] {
  return [
    ...table.columns.map((c) => ({
      name: c.name,
      glueType: c.glueType,
      prestoType: prestoType(c.glueType),
      comment: c.comment,
    })),
    ...REPORT_VIEW_KEYS.map(({ name, comment }) => ({ name, glueType: 'string', prestoType: 'varchar', comment })),
  ];
}

const REPORT_VIEW_KEYS = [
  { name: 'dt', comment: 'date the report covers (YYYY-MM-DD, UTC)' },
  { name: 'tenant', comment: 'tenant id from the configuration, as the manifest records it' },
] as const;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * The SELECT behind a report's view: only rows of a data object that a manifest names, so an
 * object no manifest describes (a crash between the data upload and the manifest, the loser of a
 * race, a superseded forced run) is never counted. One text for Athena and DuckDB, valid Trino SQL.
 *
 * - Rows are joined to `report_manifests` on the vendor and report literals and on `dt`, so a
 *   `dt` filter on the view reaches both sides (partition pruning by equality inference in both
 *   engines). The tenant is the manifest's (the object's key holds the same, below `tenant=`).
 * - The object is matched by key: the manifest's `data.key` against the key part of `"$path"`
 *   (`split_part(.., '/', 3)` is the bucket; `s3://` and the `/` after the bucket are 6
 *   characters, so the key starts at the bucket's length + 7). Athena documents `"$path"`
 *   as usable in views (its view limitations exclude `$bucket`, `$file_size`,
 *   `$file_modified_time` and `$partition`, not `$path`). The bucket is cut off rather than
 *   written into the text, so the view is a constant (no CloudFormation token inside the base64 of
 *   the Glue view) and still holds for a copy of the archive in another bucket.
 */
export function reportViewSql(table: ReportTableDefinition): string {
  const select = [...table.columns.map((c) => `o.${ident(c.name)}`), 'o."dt"', 'm."tenant"'];
  const path = `o.${ident(OBJECT_PATH_COLUMN)}`;
  return [
    `SELECT ${select.join(', ')}`,
    `FROM ${ident(objectsTableName(table.name))} AS o`,
    `JOIN ${ident(MANIFEST_TABLE_NAME)} AS m`,
    `ON m."vendor" = ${literal(table.report.vendor)} AND m."report" = ${literal(table.report.name)}`,
    'AND m."dt" = o."dt"',
    `AND m."data"."key" = substr(${path}, length(split_part(${path}, '/', 3)) + 7)`,
  ].join('\n');
}

/**
 * A Hive DDL type in Presto's spelling: `string` → `varchar`, `map<k,v>` → `map(k,v)`,
 * `array<t>` → `array(t)`, `struct<a:t>` → `row(a t)`; other names are the same in both.
 */
export function prestoType(hiveType: string): string {
  let at = 0;
  const name = () => {
    const match = /^[A-Za-z0-9_]+/.exec(hiveType.slice(at));
    if (!match) throw new Error(`cannot read Hive type "${hiveType}" at offset ${at}; expected a type name`);
    at += match[0].length;
    return match[0];
  };
  const type = (): string => {
    const base = name().toLowerCase();
    if (hiveType[at] !== '<') return base === 'string' ? 'varchar' : base;
    const members: string[] = [];
    do {
      at += 1;
      if (base !== 'struct') {
        members.push(type());
        continue;
      }
      const field = name();
      if (hiveType[at] !== ':') throw new Error(`cannot read Hive type "${hiveType}": expected ":" after ${field}`);
      at += 1;
      members.push(`${field} ${type()}`);
    } while (hiveType[at] === ',');
    if (hiveType[at] !== '>') throw new Error(`cannot read Hive type "${hiveType}": expected ">" at offset ${at}`);
    at += 1;
    return `${base === 'struct' ? 'row' : base}(${members.join(',')})`;
  };
  const result = type();
  if (at !== hiveType.length) throw new Error(`cannot read Hive type "${hiveType}": unexpected text at offset ${at}`);
  return result;
}
