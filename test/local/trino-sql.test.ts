/**
 * Every SQL text the project ships for auditors parses as Trino SQL (Athena's engine): the
 * archive's and each connector's saved queries (Athena named queries, run locally by `npm start`), and every SQL
 * block and `npm run query` example in the README, and the body of every view both catalogs
 * create. The checker itself must refuse DuckDB-only syntax, or the test would pass on anything.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { definitions } from '../../lambdas/connectors/registry.ts';
import { archiveQueries } from '../../lambdas/core/archive-queries.ts';
import { archiveViews } from '../../lambdas/core/views.ts';
import { trinoSyntaxProblems } from '../../scripts/local/trino-syntax.ts';
import { allTables } from './auditor-fixture.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function readmeSql(): { where: string; sql: string }[] {
  const blocks = [...README.matchAll(/```sql\n([\s\S]*?)```/g)].map((m, i) => ({
    where: `README sql block ${i + 1}`,
    sql: m[1] ?? '',
  }));
  const examples = [...README.matchAll(/npm run query -- (?:--\w+ )*"([^"<]+)"/g)].map((m) => ({
    where: `README example ${m[0].slice(0, 60)}`,
    sql: m[1] ?? '',
  }));
  return [...blocks, ...examples];
}

describe('SQL the project ships is Trino SQL', () => {
  it('refuses DuckDB-only syntax (the check can fail)', async () => {
    for (const sql of [
      'SELECT 1::INTEGER',
      'SELECT * FROM t QUALIFY row_number() OVER () = 1',
      "SELECT * FROM t WHERE a ILIKE 'x'",
    ]) {
      expect(await trinoSyntaxProblems(sql), sql).not.toEqual([]);
    }
  });

  it('parses every saved query of every connector', async () => {
    const queries = [
      ...archiveQueries.map((q) => ({ where: q.name, sql: q.sql })),
      ...definitions.flatMap((d) => d.queries.map((q) => ({ where: `${d.vendor}/${q.name}`, sql: q.sql }))),
    ];
    expect(queries.length).toBeGreaterThan(10);
    for (const { where, sql } of queries) expect(await trinoSyntaxProblems(sql), where).toEqual([]);
  });

  it('parses the body of every view (report views, _latest, mfa_posture, authentication_failures)', async () => {
    const views = archiveViews(allTables());
    expect(views.length).toBeGreaterThan(10);
    for (const view of views) expect(await trinoSyntaxProblems(view.sql), view.name).toEqual([]);
  });

  it('parses every SQL block and query example in the README', async () => {
    const texts = readmeSql();
    expect(texts.length).toBeGreaterThan(10);
    for (const { where, sql } of texts) {
      // SHOW TABLES / DESCRIBE are statements too; the grammar accepts them
      expect(await trinoSyntaxProblems(sql), where).toEqual([]);
    }
  });
});
