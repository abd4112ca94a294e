/**
 * The `since` of every tenant in the simulators' local config sections: the first day their
 * reports count as due. A fixed day, so the local archive's coverage starts at the same place on
 * every machine; days from it that a simulator no longer serves (a snapshot's past days,
 * OpenAthens' days older than 30) show as lost until archived.
 */
export const LOCAL_SINCE = '2026-11-01';
