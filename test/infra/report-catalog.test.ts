/**
 * The report views the deploy produces: per enabled report, a Glue `VIRTUAL_VIEW` stored as
 * Athena's CREATE VIEW stores one, whose decoded SQL is the text the local catalog runs and whose
 * columns carry the report definition's types in both spellings. And the workgroup's scan cutoff,
 * from the config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitions } from '../../lambdas/connectors/registry.ts';
import {
  MANIFEST_TABLE_NAME,
  objectsTableName,
  type ReportTableDefinition,
  reportTable,
  reportViewColumns,
  reportViewSql,
} from '../../lambdas/core/tables.ts';
import { pascalCase } from '../../lib/naming.ts';
import { catalogStatements } from '../../scripts/local/catalog.ts';
import {
  logicalId,
  type Resource,
  removeOutdir,
  render,
  resourcesOf,
  type Synthesized,
  synthExample,
  synthWithCatalog,
} from './support.ts';

interface ViewInput {
  readonly Name: string;
  readonly TableType: string;
  readonly Parameters: Record<string, string>;
  readonly ViewOriginalText: string;
  readonly ViewExpandedText: string;
  readonly PartitionKeys?: unknown[];
  readonly StorageDescriptor: { readonly Columns: { Name: string; Type: string; Comment?: string }[] };
}

interface PrestoView {
  readonly originalSql: string;
  readonly catalog: string;
  readonly schema: string;
  readonly columns: { name: string; type: string }[];
}

let synth: Synthesized;
let glueTables: [string, Resource][];

beforeAll(() => {
  synth = synthExample();
  glueTables = resourcesOf(synth.template, 'AWS::Glue::Table');
});

afterAll(() => removeOutdir(synth.app));

function enabledReports(): ReportTableDefinition[] {
  return definitions.flatMap((d) => d.reports.map((report) => reportTable(d.vendor, report)));
}

function named(name: string): [string, Resource & { DependsOn?: string[] }] {
  const found = glueTables.filter(([, t]) => (t.Properties.TableInput as ViewInput).Name === name);
  expect(found, `Glue table ${name}`).toHaveLength(1);
  return found[0]!;
}

function decode(text: string): PrestoView {
  const match = /^\/\* Presto View: ([A-Za-z0-9+/]+=*) \*\/$/.exec(text);
  expect(match, text).not.toBeNull();
  return JSON.parse(Buffer.from(match![1]!, 'base64').toString('utf8')) as PrestoView;
}

describe('report views', () => {
  it('has a view under each enabled report name, stored as Athena stores a CREATE VIEW', () => {
    const reports = enabledReports();
    expect(reports.length).toBeGreaterThan(0);
    for (const definition of reports) {
      // Act
      const [, view] = named(definition.name);
      const input = view.Properties.TableInput as ViewInput;
      // Assess
      expect(input.TableType).toBe('VIRTUAL_VIEW');
      expect(input.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
      expect(input.ViewExpandedText).toBe('/* Presto View */');
      expect(input.PartitionKeys ?? []).toEqual([]);
      expect(render(view.Properties.DatabaseName)).toBe(`<${logicalId(synth.stack, synth.stack.catalog.database)}>`);
      expect(decode(input.ViewOriginalText)).toMatchObject({
        catalog: 'awsdatacatalog',
        schema: synth.config.catalog.databaseName,
      });
    }
  });

  it('holds the SELECT text the local catalog runs, over the objects table and the manifests', () => {
    for (const definition of enabledReports()) {
      // Act
      const [, view] = named(definition.name);
      const { originalSql } = decode((view.Properties.TableInput as ViewInput).ViewOriginalText);
      // Assess
      expect(originalSql).toBe(reportViewSql(definition));
      expect(catalogStatements([definition], 'local-bucket', '/nowhere')).toContain(
        `CREATE OR REPLACE VIEW "${definition.name}" AS ${originalSql}`,
      );
      expect(originalSql).toContain(`FROM "${objectsTableName(definition.name)}" AS o`);
    }
  });

  it("declares the report definition's columns, then dt and tenant, in Presto and in Hive types", () => {
    const seen = new Set<string>();
    for (const definition of enabledReports()) {
      // Act
      const [, view] = named(definition.name);
      const input = view.Properties.TableInput as ViewInput;
      const presto = decode(input.ViewOriginalText).columns;
      // Assess
      const expected = [...definition.columns.map((c) => c.name), 'dt', 'tenant'];
      expect(presto.map((c) => c.name)).toEqual(expected);
      expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(expected);
      expect(presto.map((c) => c.type)).toEqual(reportViewColumns(definition).map((c) => c.prestoType));
      for (const [i, column] of definition.columns.entries()) {
        expect(input.StorageDescriptor.Columns[i]?.Type, column.name).toBe(column.glueType);
        seen.add(`${column.glueType} -> ${presto[i]?.type}`);
      }
      expect(presto.slice(-2)).toEqual([
        { name: 'dt', type: 'varchar' },
        { name: 'tenant', type: 'varchar' },
      ]);
    }
    // the example config covers the column types the connectors use
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        'map<string,string> -> map(varchar,varchar)',
        'string -> varchar',
        'timestamp -> timestamp',
      ]),
    );
  });

  it('keeps the construct id its name had as a table, and deploys after the tables it reads', () => {
    for (const definition of enabledReports()) {
      // Act
      const [viewId, view] = named(definition.name);
      const [objectsId] = named(objectsTableName(definition.name));
      const [manifestsId] = named(MANIFEST_TABLE_NAME);
      const construct = synth.stack.catalog.views.find((v) => logicalId(synth.stack, v) === viewId);
      // Assess
      expect(construct?.node.id).toBe(`${pascalCase(definition.name)}Table`);
      expect(view.DependsOn).toEqual(expect.arrayContaining([objectsId, manifestsId]));
    }
  });
});

describe('scan cutoff', () => {
  const cutoffOf = (template: Synthesized['template']) => {
    const [, workgroup] = resourcesOf(template, 'AWS::Athena::WorkGroup')[0]!;
    return (workgroup.Properties.WorkGroupConfiguration as { BytesScannedCutoffPerQuery: number })
      .BytesScannedCutoffPerQuery;
  };

  it('is 10 GiB per query when the config does not say', () => {
    expect(synth.config.catalog.bytesScannedCutoffGb).toBe(10);
    expect(cutoffOf(synth.template)).toBe(10 * 1024 ** 3);
  });

  it('is catalog.bytesScannedCutoffGb GiB when the config says', () => {
    // Act
    const configured = synthWithCatalog({ bytesScannedCutoffGb: 250 });
    // Assess
    try {
      expect(cutoffOf(configured.template)).toBe(250 * 1024 ** 3);
    } finally {
      removeOutdir(configured.app);
    }
  });

  it('refuses a cutoff under 1 GiB, naming the field', () => {
    expect(() => synthWithCatalog({ bytesScannedCutoffGb: 0 })).toThrow(/catalog\.bytesScannedCutoffGb: /);
  });
});
