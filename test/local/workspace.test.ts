import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitions } from '../../lambdas/connectors/registry.ts';
import { catalogTables } from '../../scripts/local/catalog.ts';
import { localWorkspace, prepareWorkspace, workspaceStartDate } from '../../scripts/local/workspace.ts';

describe('catalogTables', () => {
  it('holds every registered report, the manifests, outcomes and expectations, whatever a config enables', () => {
    // Act
    const names = catalogTables().map((t) => t.name);
    // Assess
    const reports = definitions.flatMap((d) => d.reports.map((r) => `${d.vendor}_${r.name}`));
    expect(names.sort()).toEqual([...reports, 'expected_reports', 'report_manifests', 'report_outcomes'].sort());
  });

  it('partitions by no tenant, so a tenant that leaves the config keeps its history', () => {
    for (const table of catalogTables()) {
      expect(table.partitionKeys.map((k) => k.name)).not.toContain('tenant');
    }
    const manifests = catalogTables().find((t) => t.name === 'report_manifests');
    expect(manifests?.partitionKeys.find((k) => k.name === 'vendor')?.projection).toEqual({
      type: 'enum',
      values: definitions.map((d) => d.vendor),
    });
  });
});

describe('prepareWorkspace', () => {
  it('drops the spool files a killed run left in the scratch directory, and keeps the archive', () => {
    // Prepare: a workspace where a run was killed mid-download
    const workspace = localWorkspace(mkdtempSync(join(tmpdir(), 'workspace-')));
    prepareWorkspace(workspace);
    mkdirSync(join(workspace.tmpDir, 'archive-killed'));
    writeFileSync(join(workspace.tmpDir, 'archive-killed', 'source-0'), 'half a download');
    writeFileSync(join(workspace.s3Directory, 'kept'), 'archive');
    // Act: the next npm start
    prepareWorkspace(workspace);
    // Assess
    expect(readdirSync(workspace.tmpDir)).toEqual([]);
    expect(existsSync(join(workspace.s3Directory, 'kept'))).toBe(true);
    rmSync(workspace.root, { recursive: true, force: true });
  });
});

describe('workspaceStartDate', () => {
  it('is the day of the first run, kept for every later run', () => {
    const workspace = localWorkspace(mkdtempSync(join(tmpdir(), 'workspace-')));
    try {
      expect(workspaceStartDate(workspace, '2026-12-01')).toBe('2026-12-01');
      expect(workspaceStartDate(workspace, '2026-12-07')).toBe('2026-12-01');
    } finally {
      rmSync(workspace.root, { recursive: true, force: true });
    }
  });
});
