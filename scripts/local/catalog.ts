/**
 * The local query engine: DuckDB over the archive files s3rver keeps on disk, with one view per
 * table built from the same definitions as the Glue tables (lambdas/core/tables.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { manifestTable, reportTable, type TableDefinition } from '../../lambdas/core/tables.ts';
import type { ConnectorDefinition } from '../../lambdas/core/types.ts';
import { type AppConfig, enabledVendors } from '../../lib/config.ts';
import { S3RVER_SUFFIX } from './s3.ts';

/** The tables the catalog holds for a configuration: every enabled report, and the manifests. */
export function catalogTables(
  config: AppConfig,
  lookup: (vendor: string) => ConnectorDefinition = definitionFor,
): TableDefinition[] {
  const tables: TableDefinition[] = [];
  const vendors: string[] = [];
  const reports = new Set<string>();
  const tenants = new Set<string>();
  for (const [vendor, section] of enabledVendors(config)) {
    const connector = lookup(vendor);
    const tenantIds = section.tenants.map((t) => t.id);
    vendors.push(vendor);
    for (const id of tenantIds) tenants.add(id);
    for (const name of section.reports as string[]) {
      const report = connector.reports.find((r) => r.name === name);
      if (!report) throw new Error(`${vendor} has no report "${name}"`);
      reports.add(name);
      tables.push(reportTable(vendor, report, tenantIds));
    }
  }
  tables.push(manifestTable(vendors, [...reports], [...tenants]));
  return tables;
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

function viewSql(table: TableDefinition, bucketDir: string): string {
  const columns = table.columns.map((c) => `${quoteIdent(c.name)} ${c.duckdbType}`);
  const keys = table.partitionKeys.map((k) => `${quoteIdent(k.name)} VARCHAR`);
  const root = join(bucketDir, table.prefix);
  const suffix = table.fileGlob.replace('*', '') + S3RVER_SUFFIX;
  if (!hasFiles(root, suffix)) {
    const nulls = [...columns, ...keys].map((c) => {
      const [name, ...type] = c.split(' ');
      return `CAST(NULL AS ${type.join(' ')}) AS ${name}`;
    });
    return `CREATE OR REPLACE VIEW ${quoteIdent(table.name)} AS SELECT ${nulls.join(', ')} WHERE false`;
  }
  // one directory level per partition key below the table prefix
  const glob = join(root, ...table.partitionKeys.map(() => '*'), table.fileGlob + S3RVER_SUFFIX);
  const spec = table.columns.map((c) => `${quoteString(c.name)}: ${quoteString(c.duckdbType)}`).join(', ');
  const hiveTypes = table.partitionKeys.map((k) => `${quoteString(k.name)}: 'VARCHAR'`).join(', ');
  const compression = table.fileGlob.endsWith('.gz') ? 'gzip' : 'uncompressed';
  const select = [
    ...table.columns.map((c) => quoteIdent(c.name)),
    ...table.partitionKeys.map((k) => quoteIdent(k.name)),
  ];
  return `CREATE OR REPLACE VIEW ${quoteIdent(table.name)} AS SELECT ${select.join(', ')} FROM read_json(${quoteString(glob)}, format = 'newline_delimited', compression = '${compression}', columns = {${spec}}, hive_partitioning = true, hive_types = {${hiveTypes}}, hive_types_autocast = false)`;
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
  for (const table of options.tables) await connection.run(viewSql(table, bucketDir));
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
