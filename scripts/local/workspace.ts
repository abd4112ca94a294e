/**
 * The local workspace (default `.local/`, git-ignored): s3rver's directory (the archive, as
 * files), scratch space for the archiver, and the table list of the last run for `npm run query`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isCalendarDate } from '../../lambdas/core/dates.ts';
import type { TableDefinition } from '../../lambdas/core/tables.ts';
import { LOCAL_BUCKET } from './s3.ts';

export interface LocalWorkspace {
  readonly root: string;
  /** s3rver's directory: objects are `<s3Directory>/<bucket>/<key>._S3rver_object` */
  readonly s3Directory: string;
  readonly bucket: string;
  readonly tmpDir: string;
  readonly catalogFile: string;
}

export function localWorkspace(root = '.local'): LocalWorkspace {
  const absolute = resolve(root);
  return {
    root: absolute,
    s3Directory: join(absolute, 's3'),
    bucket: LOCAL_BUCKET,
    tmpDir: join(absolute, 'tmp'),
    catalogFile: join(absolute, 'catalog.json'),
  };
}

/**
 * Creates the workspace's directories for `npm start`. The scratch directory starts empty: a run
 * stopped mid-download (even by `kill -9`) leaves its spool files there, and only one `npm start`
 * uses a workspace at a time, so none of them belongs to a live run.
 */
export function prepareWorkspace(workspace: LocalWorkspace): void {
  rmSync(workspace.tmpDir, { recursive: true, force: true });
  for (const dir of [workspace.s3Directory, workspace.tmpDir]) mkdirSync(dir, { recursive: true });
}

export function writeCatalog(workspace: LocalWorkspace, tables: readonly TableDefinition[]): void {
  writeFileSync(workspace.catalogFile, `${JSON.stringify(tables, null, 2)}\n`);
}

export function readCatalog(workspace: LocalWorkspace): TableDefinition[] {
  if (!existsSync(workspace.catalogFile)) {
    throw new Error(`no local archive in ${workspace.root}: run \`npm start\` first`);
  }
  return JSON.parse(readFileSync(workspace.catalogFile, 'utf8')) as TableDefinition[];
}

/**
 * The UTC day this workspace was first run, recorded on that run (`started.json`). The simulated
 * tenants count their reports as due from it, so a fresh workspace starts with nothing missing or
 * lost, and the days a later run skips still show.
 */
export function workspaceStartDate(workspace: LocalWorkspace, today: string): string {
  const file = join(workspace.root, 'started.json');
  if (existsSync(file)) {
    const recorded = (JSON.parse(readFileSync(file, 'utf8')) as { date?: unknown }).date;
    if (typeof recorded === 'string' && isCalendarDate(recorded)) return recorded;
  }
  mkdirSync(workspace.root, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ date: today })}\n`);
  return today;
}
