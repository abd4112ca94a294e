/**
 * The events a local run emitted, kept in the workspace (`events.jsonl`) as EventBridge delivers
 * them to a rule's target: one envelope a line (`version`, `id`, `detail-type`, `source`,
 * `account`, `time`, `region`, `resources`, `detail`), appended run after run. A downstream
 * developer sees real events, and can test a consumer on them, without an AWS account.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalEvent, VendorRunResult } from './pipeline.ts';
import type { LocalWorkspace } from './workspace.ts';

/** The account and region a local run stands in for, as in its execution ARNs. */
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_REGION = 'us-east-1';

export function eventsFile(workspace: LocalWorkspace): string {
  return join(workspace.root, 'events.jsonl');
}

/** The envelope EventBridge wraps around an entry; its time to the second, as EventBridge gives it. */
export function eventEnvelope(event: LocalEvent, fallbackTime: Date): Record<string, unknown> {
  const time = new Date(event.time ?? fallbackTime.toISOString()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.detailType,
    source: event.source,
    account: LOCAL_ACCOUNT,
    time,
    region: LOCAL_REGION,
    resources: [],
    detail: event.detail,
  };
}

/** Appends every event of `results` to the workspace's log; returns how many. */
export function appendEvents(workspace: LocalWorkspace, results: readonly VendorRunResult[], now = new Date()): number {
  const events = results.flatMap((r) => r.events);
  if (events.length === 0) return 0;
  mkdirSync(workspace.root, { recursive: true });
  const lines = events.map((event) => `${JSON.stringify(eventEnvelope(event, now))}\n`).join('');
  appendFileSync(eventsFile(workspace), lines);
  return events.length;
}
