/**
 * Work over a list with a bounded number of calls in flight: enough to hide S3's latency, few
 * enough for a small function and for the store's request rate.
 */

/** `work` over every item, at most `limit` at a time; the results in the items' order. */
export async function mapAtOnce<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
