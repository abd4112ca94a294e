/**
 * What the deploy makes of the coverage view: a Glue `VIRTUAL_VIEW` named `coverage`, stored as
 * Athena stores a CREATE VIEW, whose SQL is the text the local catalog runs and whose columns are
 * the view's in Presto and Hive types.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COVERAGE_SQL, coverageView } from '../../lambdas/core/views/coverage.ts';
import { removeOutdir, resourcesOf, type Synthesized, synthExample } from '../infra/support.ts';

let synth: Synthesized;

beforeAll(() => {
  synth = synthExample();
});
afterAll(() => removeOutdir(synth.app));

interface ViewInput {
  readonly Name: string;
  readonly TableType: string;
  readonly ViewOriginalText: string;
  readonly StorageDescriptor: { readonly Columns: { Name: string; Type: string }[] };
}

it('deploys the coverage view with the SQL and columns the local catalog uses', () => {
  // Act
  const views = resourcesOf(synth.template, 'AWS::Glue::Table')
    .map(([, t]) => t.Properties.TableInput as ViewInput)
    .filter((input) => input.Name === 'coverage');
  // Assess
  expect(views).toHaveLength(1);
  const view = views[0] as ViewInput;
  expect(view.TableType).toBe('VIRTUAL_VIEW');
  const encoded = /^\/\* Presto View: ([A-Za-z0-9+/]+=*) \*\/$/.exec(view.ViewOriginalText)?.[1] ?? '';
  const presto = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as {
    originalSql: string;
    columns: { name: string; type: string }[];
  };
  expect(presto.originalSql).toBe(COVERAGE_SQL);
  const columns = coverageView().columns;
  expect(presto.columns).toEqual(columns.map((c) => ({ name: c.name, type: c.prestoType })));
  expect(view.StorageDescriptor.Columns.map((c) => [c.Name, c.Type])).toEqual(columns.map((c) => [c.name, c.glueType]));
  expect(presto.columns.filter((c) => c.type !== 'varchar')).toEqual([
    { name: 'expected', type: 'boolean' },
    { name: 'history_days', type: 'bigint' },
  ]);
});
