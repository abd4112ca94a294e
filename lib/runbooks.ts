/**
 * Runbook links: every alarm's description and every notification ends with the page that says
 * what to do, `Runbook: <base><page>.md`.
 *
 * The pages live in docs/runbooks/ (one per alarm kind and per notification); the base defaults
 * to that folder of this repository and is configurable (`alerts.runbookBaseUrl`), so a
 * deployment can point at its own copy, e.g. the repository's web address. A test checks that
 * every page named here, and every page an alarm of the synthesized stack names, exists.
 */

/** The pages of docs/runbooks/, without `.md`. */
export const RUNBOOK_PAGES = [
  'execution-failed',
  'execution-timed-out',
  'execution-throttled',
  'execution-aborted',
  'function-errors',
  'function-throttles',
  'digest-errors',
  'dates-at-risk',
  'schedule-dead-letters',
  'notification-dead-letters',
  'key-changed',
  'freshness-minutes-since-archived',
  'freshness-stale-tenants',
  'freshness-check-errors',
  'report-failed',
  'credentials-rejected',
  'report-skipped',
] as const;
export type RunbookPage = (typeof RUNBOOK_PAGES)[number];

export const DEFAULT_RUNBOOK_BASE_URL = 'docs/runbooks/';

/** CloudWatch's limit on an alarm description (AlarmDescription, 0 to 1,024 characters). */
export const ALARM_DESCRIPTION_MAX_CHARS = 1024;

/** `<base><page>.md` */
export function runbookLink(base: string, page: RunbookPage): string {
  return `${base}${page}.md`;
}

/** The last line of every description and message: `Runbook: <link>`. */
export function runbookLine(base: string, page: RunbookPage): string {
  return `Runbook: ${runbookLink(base, page)}`;
}

/**
 * What an alarm means, then its runbook line. Refused when longer than CloudWatch accepts, which
 * only a very long base URL can cause: a clipped description would lose the link.
 */
export function alarmDescription(alarmId: string, meaning: string, base: string, page: RunbookPage): string {
  const description = `${meaning} ${runbookLine(base, page)}`;
  if (description.length > ALARM_DESCRIPTION_MAX_CHARS) {
    throw new Error(
      `alarm ${alarmId}: its description is ${description.length} characters, CloudWatch accepts at most ${ALARM_DESCRIPTION_MAX_CHARS}; expected a shorter alerts.runbookBaseUrl`,
    );
  }
  return description;
}
