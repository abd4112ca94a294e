/**
 * What the deploy produces for the views over the report views (`_latest`, `mfa_posture`,
 * `mfa_posture_latest`, `authentication_failures`): a Glue `VIRTUAL_VIEW` each, whose Presto view
 * text decodes to the SQL the local catalog runs and the declared columns, deployed after the
 * views and tables it reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveViews, type ViewDefinition } from '../../lambdas/core/views.ts';
import { allTables } from '../local/auditor-fixture.ts';
import { type Resource, removeOutdir, resourcesOf, type Synthesized, synthExample } from './support.ts';

interface ViewInput {
  readonly Name: string;
  readonly TableType: string;
  readonly ViewOriginalText: string;
  readonly StorageDescriptor: { readonly Columns: { Name: string; Type: string }[] };
}

let synth: Synthesized;
let glueTables: [string, Resource & { DependsOn?: string[] }][];

beforeAll(() => {
  synth = synthExample();
  glueTables = resourcesOf(synth.template, 'AWS::Glue::Table');
});
afterAll(() => removeOutdir(synth.app));

const AUDITOR_VIEWS = [
  'pingone_mfa_devices_latest',
  'rsa_users_latest',
  'rsa_hardware_tokens_latest',
  'mfa_posture',
  'mfa_posture_latest',
  'authentication_failures',
];

function deployed(name: string): [string, ViewInput, string[]] {
  const found = glueTables.filter(([, t]) => (t.Properties.TableInput as ViewInput).Name === name);
  expect(found, name).toHaveLength(1);
  const [id, table] = found[0]!;
  return [id, table.Properties.TableInput as ViewInput, table.DependsOn ?? []];
}

/** The view's definition over every registered report (the example config enables them all). */
function definition(name: string): ViewDefinition {
  const view = archiveViews(allTables()).find((v) => v.name === name);
  if (!view) throw new Error(`no view ${name}`);
  return view;
}

describe('auditor views as deployed', () => {
  it.each(AUDITOR_VIEWS)('%s is a Glue VIRTUAL_VIEW holding its SQL and columns', (name) => {
    // Act
    const [, input] = deployed(name);
    const view = definition(name);
    const match = /^\/\* Presto View: ([A-Za-z0-9+/]+=*) \*\/$/.exec(input.ViewOriginalText);
    const presto = JSON.parse(Buffer.from(match?.[1] ?? '', 'base64').toString('utf8')) as {
      originalSql: string;
      columns: { name: string; type: string }[];
    };
    // Assess
    expect(input.TableType).toBe('VIRTUAL_VIEW');
    expect(presto.originalSql).toBe(view.sql);
    expect(presto.columns).toEqual(view.columns.map((c) => ({ name: c.name, type: c.prestoType })));
    expect(input.StorageDescriptor.Columns.map((c) => [c.Name, c.Type])).toEqual(
      view.columns.map((c) => [c.name, c.glueType]),
    );
  });

  it.each(AUDITOR_VIEWS)('%s deploys after every source it reads', (name) => {
    const [, , dependsOn] = deployed(name);
    for (const source of definition(name).sources) {
      const [sourceId] = deployed(source);
      expect(dependsOn, `${name} after ${source}`).toContain(sourceId);
    }
  });

  it('adds no _latest view for an event log', () => {
    const names = glueTables.map(([, t]) => (t.Properties.TableInput as ViewInput).Name);
    expect(names).toContain('csp_mfa_audit');
    expect(names.filter((n) => n.endsWith('_latest')).sort()).toEqual([
      'mfa_posture_latest',
      'pingone_mfa_devices_latest',
      'rsa_admin_users_latest',
      'rsa_hardware_tokens_latest',
      'rsa_mfa_clients_latest',
      'rsa_radius_clients_latest',
      'rsa_users_latest',
    ]);
  });
});
