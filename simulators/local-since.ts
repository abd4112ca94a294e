/**
 * The `since` of the tenants in the simulators' local config sections: the first day their
 * reports count as due. By default the oldest day a first run archives (`daysBack` before today,
 * UTC: 0 for a snapshot, OpenAthens' 30, CSP's catch-up week of 7), so a run over a fresh archive has nothing
 * missing or lost behind it and plans no `lost` records; `npm start` sets it from the workspace's
 * first day instead. LOCAL_SINCE is a fixed day for tests that need one.
 */
export const LOCAL_SINCE = '2026-11-01';

export function localSince(daysBack: number, now: Date = new Date()): string {
  return new Date(now.getTime() - daysBack * 86_400_000).toISOString().slice(0, 10);
}
