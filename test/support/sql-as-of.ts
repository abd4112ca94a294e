/**
 * A saved query as it would run on `day`: its `current_date` read as that date. Saved queries over
 * event logs are bounded by `dt >= current_date - N days`, and fixtures written for a fixed date
 * would age out of that window as the calendar moves on; the query is otherwise unchanged.
 */
export function sqlAsOf(sql: string, day: string | Date): string {
  const date = typeof day === 'string' ? day : day.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`day must be YYYY-MM-DD; received ${JSON.stringify(date)}`);
  return sql.replace(/\bcurrent_date\b/gi, `DATE '${date}'`);
}
