/**
 * Checks SQL against Trino's grammar, the engine behind Athena, so a query that runs locally in
 * DuckDB is known to be portable before it goes to Athena. It checks syntax only: a function
 * DuckDB has and Trino lacks (README, "Local SQL vs Athena") still parses.
 */

/** What Trino's parser refuses in `sql`, one line per problem; empty when it parses. */
export async function trinoSyntaxProblems(sql: string): Promise<string[]> {
  // loaded on demand, and only the Trino grammar: the package's index loads every dialect's (20 MB)
  const { TrinoSQL } = await import('dt-sql-parser/dist/parser/trino/index.js');
  const statement = sql.trim().replace(/;\s*$/, '');
  return new TrinoSQL()
    .validate(statement)
    .map((problem) => `line ${problem.startLine}, column ${problem.startColumn}: ${problem.message}`);
}
