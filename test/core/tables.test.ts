/**
 * The shared table definitions: every report's view text is valid Trino SQL (what Athena runs),
 * reads its objects table and the manifests, and declares its columns in both type spellings.
 */
import { describe, expect, it } from 'vitest';
import { definitions } from '../../lambdas/connectors/registry.ts';
import {
  MANIFEST_TABLE_NAME,
  objectsTableName,
  PROJECTION_START_DATE,
  prestoType,
  reportTable,
  reportViewColumns,
  reportViewSql,
} from '../../lambdas/core/tables.ts';
import { catalogTables } from '../../scripts/local/catalog.ts';
import { trinoSyntaxProblems } from '../../scripts/local/trino-syntax.ts';

const reports = definitions.flatMap((d) => d.reports.map((r) => [d.vendor, r] as const));

describe('reportViewSql', () => {
  it.each(reports.map(([vendor, report]) => [`${vendor}_${report.name}`, vendor, report] as const))(
    '%s: parses as Trino SQL and joins its objects to their manifests',
    async (_name, vendor, report) => {
      // Prepare
      const table = reportTable(vendor, report);
      // Act
      const sql = reportViewSql(table);
      // Assess
      expect(await trinoSyntaxProblems(sql)).toEqual([]);
      expect(sql).toContain(`FROM "${objectsTableName(table.name)}" AS o`);
      expect(sql).toContain(`JOIN "${MANIFEST_TABLE_NAME}" AS m`);
      expect(sql).toContain(`m."vendor" = '${vendor}' AND m."report" = '${report.name}'`);
      expect(sql).toContain('AND m."dt" = o."dt"');
      expect(sql).not.toContain('o."tenant"');
    },
  );

  it('selects the report columns, then dt and tenant, in the order the view declares them', () => {
    // Prepare
    const [vendor, report] = reports[0]!;
    const table = reportTable(vendor, report);
    // Act
    const selected = reportViewSql(table).split('\n')[0];
    // Assess
    const columns = reportViewColumns(table).map((c) => `"${c.name}"`);
    expect(selected).toBe(`SELECT ${[...columns.slice(0, -1).map((c) => `o.${c}`), `m.${columns.at(-1)}`].join(', ')}`);
    expect(reportViewColumns(table).slice(-2)).toEqual([
      expect.objectContaining({ name: 'dt', glueType: 'string', prestoType: 'varchar' }),
      expect.objectContaining({ name: 'tenant', glueType: 'string', prestoType: 'varchar' }),
    ]);
  });

  it('is not Trino SQL when broken (the check can fail)', async () => {
    expect(await trinoSyntaxProblems('SELECT o."a" FROM "t" AS o JOIN ON')).not.toEqual([]);
  });
});

describe('table layout', () => {
  // Athena refuses a query that projects more than about a million partitions.
  const PROJECTION_LIMIT = 1_000_000;
  const days = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;

  it('projects under the partition limit without a dt filter until 2040, for any number of tenants', () => {
    const span = days(PROJECTION_START_DATE, '2040-12-31');
    for (const table of catalogTables()) {
      // Act: the partitions a query with no filter enumerates
      const partitions = table.partitionKeys.reduce(
        (product, key) => product * (key.projection.type === 'date' ? span : key.projection.values.length),
        1,
      );
      // Assess: no key is per tenant, so the count does not grow with tenants
      expect(
        table.partitionKeys.map((k) => k.name),
        table.name,
      ).not.toContain('tenant');
      expect(partitions, table.name).toBeLessThan(PROJECTION_LIMIT);
    }
  });
});

describe('prestoType', () => {
  it.each([
    ['string', 'varchar'],
    ['bigint', 'bigint'],
    ['timestamp', 'timestamp'],
    ['map<string,string>', 'map(varchar,varchar)'],
    ['array<string>', 'array(varchar)'],
    ['struct<key:string,bytes:bigint>', 'row(key varchar,bytes bigint)'],
    [
      'array<struct<name:string,entries:array<struct<sha256:string>>>>',
      'array(row(name varchar,entries array(row(sha256 varchar))))',
    ],
  ])('%s is %s', (hive, presto) => {
    expect(prestoType(hive)).toBe(presto);
  });

  it.each(['map<string', 'struct<a>', 'string>', ''])('refuses "%s" with a message naming it', (hive) => {
    expect(() => prestoType(hive)).toThrow(/cannot read Hive type/);
  });
});
