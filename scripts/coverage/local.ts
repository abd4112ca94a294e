/**
 * Runs the coverage query over the local archive: DuckDB over the workspace's files, with the
 * tables of the workspace's catalog (those of every `npm start` into it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  EXPECTATIONS_TABLE_NAME,
  expectationsTable,
  OUTCOMES_TABLE_NAME,
  outcomesTable,
  type TableDefinition,
} from '../../lambdas/core/tables.ts';
import { openArchiveCatalog } from '../local/catalog.ts';
import { UsageError } from '../local/command.ts';
import { localWorkspace, readCatalog } from '../local/workspace.ts';

export interface LocalRows {
  readonly source: string;
  readonly rows: Record<string, unknown>[];
}

/**
 * The workspace's tables, with the outcome and expectation tables added when its catalog predates
 * them: the view then reads what is there (the local engine enumerates files, not projections).
 */
function withCoverageSources(tables: readonly TableDefinition[]): TableDefinition[] {
  const names = new Set(tables.map((t) => t.name));
  return [
    ...tables,
    ...(names.has(OUTCOMES_TABLE_NAME) ? [] : [outcomesTable([])]),
    ...(names.has(EXPECTATIONS_TABLE_NAME) ? [] : [expectationsTable()]),
  ];
}

export async function queryLocal(sql: string, workspaceDir: string | undefined): Promise<LocalRows> {
  const workspace = localWorkspace(workspaceDir);
  if (!existsSync(join(workspace.s3Directory, workspace.bucket)) || !existsSync(workspace.catalogFile)) {
    throw new UsageError(
      `no local archive in ${workspace.root}: run \`npm start\` first, or name a deployed stack's config with --config <file>`,
    );
  }
  const tables = withCoverageSources(readCatalog(workspace));
  const catalog = await openArchiveCatalog({ s3Directory: workspace.s3Directory, bucket: workspace.bucket, tables });
  try {
    const { rows } = await catalog.query(sql);
    return { source: `local workspace ${workspace.root}`, rows };
  } finally {
    catalog.close();
  }
}
