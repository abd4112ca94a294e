import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { parseConfig } from '../../lib/config.ts';
import { catalogTables } from '../../scripts/local/catalog.ts';
import { localWorkspace, mergeCatalog, prepareWorkspace } from '../../scripts/local/workspace.ts';

const tenant = (id: string) => ({ id, since: '2026-01-01', apiName: `${id}.example`, credentials: { apiKey: 'k' } });
const config = (vendors: Record<string, unknown>) =>
  parseConfig({ alerts: { topicName: 'local' }, vendors }, 'test', 'local');
const csp = {
  baseUrl: 'http://127.0.0.1:1',
  tenants: [{ id: 'alice', since: '2026-01-01', label: 'a', credentials: { apiToken: 't' } }],
};

describe('mergeCatalog', () => {
  it('keeps the tables of an earlier run whose vendor this run does not configure', () => {
    // Prepare: the simulators' run archived csp and openathens; a --config run has openathens only
    const earlier = catalogTables(config({ csp, openathens: { tenants: [tenant('org-a')] } }), definitionFor);
    const now = catalogTables(config({ openathens: { tenants: [tenant('org-b')] } }), definitionFor);
    // Act
    const merged = mergeCatalog(earlier, now);
    // Assess
    expect(merged.map((t) => t.name).sort()).toEqual([
      'csp_mfa_audit',
      'expected_reports',
      'openathens_raw_statistics',
      'report_manifests',
      'report_outcomes',
    ]);
    const oa = merged.find((t) => t.name === 'openathens_raw_statistics');
    expect(oa?.partitionKeys.find((k) => k.name === 'tenant')?.projection).toEqual({
      type: 'enum',
      values: ['org-a', 'org-b'],
    });
    const manifests = merged.find((t) => t.name === 'report_manifests');
    expect(manifests?.partitionKeys.find((k) => k.name === 'vendor')?.projection).toEqual({
      type: 'enum',
      values: ['csp', 'openathens'],
    });
  });

  it("is this run's catalog when there was none", () => {
    const now = catalogTables(config({ csp }), definitionFor);
    expect(mergeCatalog([], now)).toEqual(now);
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
