/**
 * Table definitions, written once and rendered for both engines: Glue/Athena (deployed) and
 * DuckDB (local). A report table reads the gzip JSON Lines under its location by column name;
 * the manifest table reads the one-line manifests.
 */
import { MANIFESTS_PREFIX, tablePrefix } from './layout.ts';
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
  /** `<vendor>_<report>` or `report_manifests` */
  readonly name: string;
  readonly description: string;
  /** key prefix of the table location (ends with `/`) */
  readonly prefix: string;
  readonly columns: readonly TableColumn[];
  /** in S3 key order */
  readonly partitionKeys: readonly PartitionKey[];
  /** the location template for partition projection, relative to the bucket, with `${key}` slots */
  readonly locationTemplate: string;
  /** name pattern of the files DuckDB reads below a partition */
  readonly fileGlob: string;
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

/** Partition keys of every report table: date first, then tenant, as in the S3 keys. */
function reportPartitionKeys(tenants: readonly string[]): PartitionKey[] {
  return [
    { name: 'dt', comment: 'date the report covers (YYYY-MM-DD, UTC)', projection: { type: 'date' } },
    { name: 'tenant', comment: 'tenant id from the configuration', projection: { type: 'enum', values: tenants } },
  ];
}

export function reportTableName(vendor: string, report: string): string {
  return `${vendor}_${report}`;
}

export function reportTable(vendor: string, report: ReportDefinition, tenants: readonly string[]): TableDefinition {
  const prefix = tablePrefix(vendor, report.name);
  const names = new Set<string>();
  for (const c of report.columns) {
    if (names.has(c.name)) throw new Error(`report ${vendor}/${report.name} defines column "${c.name}" twice`);
    if (c.name === 'dt' || c.name === 'tenant') {
      throw new Error(`report ${vendor}/${report.name} column "${c.name}" clashes with a partition key`);
    }
    names.add(c.name);
  }
  return {
    name: reportTableName(vendor, report.name),
    description: report.description,
    prefix,
    columns: report.columns.map(column),
    partitionKeys: reportPartitionKeys(tenants),
    locationTemplate: `${prefix}dt=\${dt}/tenant=\${tenant}/`,
    fileGlob: '*.jsonl.gz',
  };
}

const FILE_STRUCT_GLUE =
  'array<struct<file_name:string,key:string,role:string,bytes:bigint,sha256:string,format:string,content_type:string,entries:array<struct<name:string,bytes:bigint,sha256:string,encryption:string>>,version_id:string>>';
const FILE_STRUCT_DUCKDB =
  'STRUCT(file_name VARCHAR, key VARCHAR, role VARCHAR, bytes BIGINT, sha256 VARCHAR, format VARCHAR, content_type VARCHAR, entries STRUCT(name VARCHAR, bytes BIGINT, sha256 VARCHAR, encryption VARCHAR)[], version_id VARCHAR)[]';

/** What was collected when: one row per archived report, from its manifest. */
export function manifestTable(
  vendors: readonly string[],
  reports: readonly string[],
  tenants: readonly string[],
): TableDefinition {
  const simple = (name: string, type: ColumnType, comment: string): TableColumn => column({ name, type, comment });
  return {
    name: 'report_manifests',
    description:
      'One row per archived report: what was collected, when, from which request, with SHA-256 of every file.',
    prefix: `${MANIFESTS_PREFIX}/`,
    columns: [
      simple(
        'schema_version',
        'bigint',
        'manifest format version (1: before attempt keys; null in the fields it lacks)',
      ),
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
    ],
    partitionKeys: [
      { name: 'vendor', comment: 'vendor id', projection: { type: 'enum', values: vendors } },
      { name: 'report', comment: 'report name', projection: { type: 'enum', values: reports } },
      { name: 'dt', comment: 'date the report covers (YYYY-MM-DD, UTC)', projection: { type: 'date' } },
      { name: 'tenant', comment: 'tenant id', projection: { type: 'enum', values: tenants } },
    ],
    locationTemplate: `${MANIFESTS_PREFIX}/vendor=\${vendor}/report=\${report}/dt=\${dt}/tenant=\${tenant}/`,
    fileGlob: '*.json',
  };
}

/** The first date partition projection enumerates. */
export const PROJECTION_START_DATE = '2020-01-01';
