/**
 * The local query engine: DuckDB over the archive files s3rver keeps on disk, with one view per
 * table built from the same definitions as the Glue tables (lambdas/core/tables.ts).
 *
 * 1. Each table becomes a DuckDB view over its files (`read_json` with Hive partitioning, which
 *    reads partition values from the key as the Glue projection does); a report's table is registered as
 *    `<name>_objects`, with Athena's `"$path"` computed from DuckDB's `filename` (the s3rver
 *    directory and `._S3rver_object` cut off, `s3://<bucket>/` put in front).
 * 2. Then every view (`archiveViews`), with the same SELECT text the Glue views hold: each
 *    report's view of its published rows over its objects and `report_manifests` (therefore
 *    always opened), and the views over those.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { definitions } from '../../lambdas/connectors/registry.ts';
import {
  expectationsTable,
  isReportTable,
  MANIFEST_TABLE_NAME,
  manifestTable,
  OBJECT_PATH_COLUMN,
  objectsTableName,
  outcomesTable,
  reportTable,
  type TableDefinition,
} from '../../lambdas/core/tables.ts';
import type { ConnectorDefinition } from '../../lambdas/core/types.ts';
import { archiveViews } from '../../lambdas/core/views.ts';
import { S3RVER_SUFFIX } from './s3.ts';

/**
 * The tables the catalog holds: every report of every registered connector (whatever the
 * configuration enables, so a vendor, report or tenant that leaves it keeps its history in SQL),
 * the manifests, the outcomes and the expectations.
 */
export function catalogTables(connectors: readonly ConnectorDefinition[] = definitions): TableDefinition[] {
  const vendors = connectors.map((c) => c.vendor);
  const reports = [...new Set(connectors.flatMap((c) => c.reports.map((r) => r.name)))];
  return [
    ...connectors.flatMap((c) => c.reports.map((report) => reportTable(c.vendor, report))),
    manifestTable(vendors, reports),
    outcomesTable(vendors),
    expectationsTable(),
  ];
}

export interface QueryResult {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
}

export interface ArchiveCatalog {
  query(sql: string): Promise<QueryResult>;
  close(): void;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** True when some file below `dir` ends with `suffix`. */
function hasFiles(dir: string, suffix: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() ? hasFiles(join(dir, entry.name), suffix) : entry.name.endsWith(suffix)) return true;
  }
  return false;
}

/** The DuckDB view over one table's files, under `name` (a report's objects table's name). */
function viewSql(table: TableDefinition, name: string, bucket: string, bucketDir: string): string {
  const columns = table.columns.map((c) => `${quoteIdent(c.name)} ${c.duckdbType}`);
  const keys = table.partitionKeys.map((k) => `${quoteIdent(k.name)} VARCHAR`);
  const path = isReportTable(table) ? [`${quoteIdent(OBJECT_PATH_COLUMN)} VARCHAR`] : [];
  const root = join(bucketDir, table.prefix);
  const suffix = table.fileGlob.slice(table.fileGlob.lastIndexOf('*') + 1) + S3RVER_SUFFIX;
  if (!hasFiles(root, suffix)) {
    const nulls = [...columns, ...keys, ...path].map((c) => {
      const [ident, ...type] = c.split(' ');
      return `CAST(NULL AS ${type.join(' ')}) AS ${ident}`;
    });
    return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT ${nulls.join(', ')} WHERE false`;
  }
  // one directory level per partition key below the table prefix
  const glob = join(root, ...table.partitionKeys.map(() => '*'), table.fileGlob + S3RVER_SUFFIX);
  const spec = table.columns.map((c) => `${quoteString(c.name)}: ${quoteString(c.duckdbType)}`).join(', ');
  const compression = table.fileGlob.endsWith('.gz') ? 'gzip' : 'uncompressed';
  const select = [
    ...table.columns.map((c) => quoteIdent(c.name)),
    ...table.partitionKeys.map((k) => quoteIdent(k.name)),
    ...(isReportTable(table) ? [`${objectPath(bucket, bucketDir)} AS ${quoteIdent(OBJECT_PATH_COLUMN)}`] : []),
  ];
  // the file each row came from, under the one name no report column may take
  const file = isReportTable(table) ? `, filename = ${quoteString(OBJECT_PATH_COLUMN)}` : '';
  return `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT ${select.join(', ')} FROM read_json(${quoteString(glob)}, format = 'newline_delimited', compression = '${compression}', columns = {${spec}}, ${hiveOptions(table)}${file})`;
}

/**
 * DuckDB's Hive partitioning reads the partition values from the key, as Glue's projection does,
 * and prunes files by them. It also takes every other `k=v` folder: a manifest's `tenant=` folder
 * then gives its `tenant` column, where Athena reads the manifest's own field. The two are the same
 * for every manifest the archive step writes, and `npm run verify` fails one whose fields disagree
 * with its key.
 */
function hiveOptions(table: TableDefinition): string {
  if (table.partitionKeys.length === 0) return 'hive_partitioning = false';
  const types = table.partitionKeys.map((k) => `${quoteString(k.name)}: 'VARCHAR'`).join(', ');
  return `hive_partitioning = true, hive_types = {${types}}, hive_types_autocast = false`;
}

/** Athena's `"$path"` from the file s3rver keeps at `<bucketDir>/<key>._S3rver_object`. */
function objectPath(bucket: string, bucketDir: string): string {
  const file = quoteIdent(OBJECT_PATH_COLUMN);
  // lengths counted by DuckDB, as substr counts them, whatever characters the directory holds
  const dir = `length(${quoteString(`${bucketDir}/`)})`;
  const key = `substr(${file}, ${dir} + 1, length(${file}) - ${dir} - length(${quoteString(S3RVER_SUFFIX)}))`;
  return `concat(${quoteString(`s3://${bucket}/`)}, ${key})`;
}

/**
 * The statements that open a catalog: every table's view over its files (a report's under its
 * objects name, beside the manifests, which the report views read), then the report views.
 */
export function catalogStatements(tables: readonly TableDefinition[], bucket: string, bucketDir: string): string[] {
  const withManifests = tables.some((t) => t.name === MANIFEST_TABLE_NAME)
    ? tables
    : [...tables, manifestTable([], [])];
  return [
    ...withManifests.map((t) => viewSql(t, isReportTable(t) ? objectsTableName(t.name) : t.name, bucket, bucketDir)),
    ...archiveViews(withManifests).map((v) => `CREATE OR REPLACE VIEW ${quoteIdent(v.name)} AS ${v.sql}`),
  ];
}

/**
 * Opens DuckDB over `<s3Directory>/<bucket>`. Views are built from the files present now; open
 * the catalog again after a run to see new partitions.
 */
export async function openArchiveCatalog(options: {
  s3Directory: string;
  bucket: string;
  tables: readonly TableDefinition[];
}): Promise<ArchiveCatalog> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  });
  const connection = await instance.connect();
  const bucketDir = join(options.s3Directory, options.bucket);
  await connection.run("SET TimeZone = 'UTC'");
  for (const statement of catalogStatements(options.tables, options.bucket, bucketDir)) await connection.run(statement);
  return {
    async query(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
