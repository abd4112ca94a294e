/**
 * What `npm run query` prints (scripts/local/query.ts): the terminal table, `--wide` whole values,
 * `--csv`, and the warning for a query Athena's Trino grammar would refuse. A workspace with an
 * empty catalog is enough: the queries select literals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCommand } from '../../scripts/local/query.ts';
import { localWorkspace, prepareWorkspace, writeCatalog } from '../../scripts/local/workspace.ts';
import { runCommand } from '../support/cli.ts';

let root: string;
const query = (...args: string[]) => runCommand(queryCommand, ['--workspace', root, ...args]);
const LONG = 'x'.repeat(90);
const VALUES = `SELECT 'a,b' AS comma, 'say "hi"' AS quoted, '${LONG}' AS long_value, CAST(NULL AS VARCHAR) AS nothing`;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'query-output-'));
  const workspace = localWorkspace(root);
  prepareWorkspace(workspace);
  writeCatalog(workspace, []);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm run query: outputs', () => {
  it('cuts values at 60 characters in the table, and prints them whole with --wide', async () => {
    const table = await query(VALUES);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('x'.repeat(60));
    expect(table.stdout).not.toContain('x'.repeat(61));
    const wide = await query('--wide', VALUES);
    expect(wide.code, wide.stderr).toBe(0);
    expect(wide.stdout).toContain(LONG);
  });

  it('prints RFC 4180 CSV with --csv: quoted where needed, NULL as an empty field', async () => {
    const csv = await query('--csv', VALUES);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.trimEnd().split('\r\n')).toEqual([
      'comma,quoted,long_value,nothing',
      `"a,b","say ""hi""",${LONG},`,
    ]);
  });

  it('refuses two outputs at once', async () => {
    const both = await query('--csv', '--json', VALUES);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/choose one/);
  });
});

describe('npm run query: Trino SQL', () => {
  it('runs a DuckDB-only query but warns, on stderr, that Athena would refuse it', async () => {
    const result = await query('--csv', 'SELECT 42::INTEGER AS answer');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd()).toBe('answer\r\n42');
    expect(result.stderr).toMatch(/warning: Athena \(Trino SQL\) would refuse this query/);
    expect(result.stderr).toMatch(/line 1, column \d+/);
  });

  it('says nothing of a query that is valid Trino SQL', async () => {
    const result = await query('--csv', 'SELECT CAST(42 AS INTEGER) AS answer;');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
  });
});
