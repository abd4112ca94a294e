/**
 * The README's "Local SQL vs Athena" table, checked against the DuckDB the local runner uses:
 * what each trap gives locally, and that the portable form gives the documented meaning (the
 * Trino side is its documented behaviour; test/local/trino-sql.test.ts checks the portable forms
 * parse as Trino SQL). A DuckDB upgrade that changes one of these fails here, and the README
 * table must change with it.
 */
import { readFileSync } from 'node:fs';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trinoSyntaxProblems } from '../../scripts/local/trino-syntax.ts';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
const DETAILS = "MAP(ARRAY['ipAddress'], ARRAY['1.2.3.4'])";

async function value(sql: string): Promise<unknown> {
  const reader = await connection.runAndReadAll(`SELECT ${sql} AS v`);
  return reader.getRowObjectsJson()[0]?.v;
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

describe('Local SQL vs Athena: what DuckDB does with each trap', () => {
  it('a date minus an interval is a timestamp, so its text has a time; the double cast gives the date', async () => {
    expect(await value("CAST(DATE '2026-12-07' - INTERVAL '7' DAY AS VARCHAR)")).toBe('2026-11-30 00:00:00');
    expect(await value("CAST(CAST(DATE '2026-12-07' - INTERVAL '7' DAY AS DATE) AS VARCHAR)")).toBe('2026-11-30');
  });

  it('element_at on a map is a list; the subscript is the value, and NULL for an absent key', async () => {
    expect(await value(`element_at(${DETAILS}, 'ipAddress')`)).toEqual(['1.2.3.4']);
    expect(await value(`${DETAILS}['ipAddress']`)).toBe('1.2.3.4');
    expect(await value(`${DETAILS}['nope']`)).toBeNull();
    const guarded = (key: string) => `CASE WHEN contains(map_keys(${DETAILS}), '${key}') THEN ${DETAILS}['${key}'] END`;
    expect(await value(guarded('ipAddress'))).toBe('1.2.3.4');
    expect(await value(guarded('nope'))).toBeNull();
  });

  it('UNNEST of an array of rows gives one column holding the row', async () => {
    const reader = await connection.runAndReadAll(
      "SELECT t.o FROM (SELECT [{'key': 'k', 'bytes': 3}] AS originals) s CROSS JOIN UNNEST(s.originals) AS t(o)",
    );
    expect(reader.columnNames()).toEqual(['o']);
    expect(reader.getRowObjectsJson()[0]?.o).toEqual({ key: 'k', bytes: 3 });
  });

  it('compares a string with a date or a boolean by casting it (Trino refuses both)', async () => {
    expect(await value("'2026-11-30' < DATE '2026-12-01'")).toBe(true);
    expect(await value("'true' = true")).toBe(true);
  });

  it('lacks array_join and an ordered listagg; array_sort(array_agg(DISTINCT x)) is the shared form', async () => {
    const letters = "(VALUES ('b'), ('a'), ('b')) AS t(x)";
    await expect(value(`(SELECT array_join(array_agg(x), ',') FROM ${letters})`)).rejects.toThrow(/array_join/);
    await expect(value(`(SELECT listagg(x, ',') WITHIN GROUP (ORDER BY x) FROM ${letters})`)).rejects.toThrow(
      /listagg/,
    );
    expect(await value(`(SELECT array_sort(array_agg(DISTINCT x)) FROM ${letters})`)).toEqual(['a', 'b']);
  });

  it('sums integers as HUGEINT (Trino: bigint); a cast gives both the same type', async () => {
    expect(await value('typeof(SUM(CAST(1 AS BIGINT)))')).toBe('HUGEINT');
    expect(await value('typeof(CAST(SUM(CAST(1 AS BIGINT)) AS BIGINT))')).toBe('BIGINT');
  });

  it('the README table is the one these tests check, and its "write instead" forms parse as Trino SQL', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('### Local SQL vs Athena')[1]?.split('\n### ')[0] ?? '';
    expect(section).toContain('test/local/sql-portability.test.ts');
    for (const portable of [
      "SELECT CAST(CAST(current_date - INTERVAL '7' DAY AS DATE) AS VARCHAR)",
      "SELECT CASE WHEN contains(map_keys(details), 'ipAddress') THEN details['ipAddress'] END FROM csp_mfa_audit",
      'SELECT array_sort(array_agg(DISTINCT x)) FROM t',
      'SELECT CAST(SUM(n) AS BIGINT) FROM t',
    ]) {
      expect(section.replace(/`/g, '')).toContain(portable.replace(/^SELECT /, '').split(' FROM ')[0]);
      expect(await trinoSyntaxProblems(portable), portable).toEqual([]);
    }
  });
});
