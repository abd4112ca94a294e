/**
 * The conversion reference: DuckDB reads the plain CSV from disk (page cache) and writes gzip
 * JSON Lines, with type detection on, using `threads` threads (all the cores by default).
 */
import { stat } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Task } from '../common.ts';
import type { Prepared } from '../worker.ts';

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export async function prepareDuckDb(task: Extract<Task, { kind: 'duckdb' }>): Promise<Prepared> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(task.threads),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  const csvBytes = (await stat(task.csv)).size;
  return async () => {
    const result = await connection.run(
      `COPY (SELECT * FROM read_csv(${quote(task.csv)}, header = true, all_varchar = false)) TO ${quote(task.out)} (FORMAT json, COMPRESSION gzip)`,
    );
    const rows = Number(result.rowsChanged);
    connection.closeSync();
    instance.closeSync();
    return { bytes: csvBytes, rows, outputBytes: (await stat(task.out)).size, detail: { threads: task.threads } };
  };
}
