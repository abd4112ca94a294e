/**
 * Whether one object version's Object Lock retention is what the configured policy gives it. S3
 * sets a default retain-until date from the version's creation time plus the bucket's default
 * period; a version whose mode differs, or whose date falls short, was written under another
 * policy or had its retention changed.
 */
import { DAY_MS } from '../../lambdas/core/dates.ts';

export interface RetentionPolicy {
  readonly mode: 'COMPLIANCE' | 'GOVERNANCE';
  readonly days: number;
}

export interface ObjectRetention {
  readonly mode?: string;
  readonly retainUntil?: Date;
  readonly lastModified?: Date;
}

/** A day of slack: S3 may round the default retain-until date. */
const SLACK_MS = DAY_MS;

/** What is wrong with the object's retention, or undefined when it meets the policy. */
export function retentionProblem(object: ObjectRetention, policy: RetentionPolicy): string | undefined {
  if (!object.mode || !object.retainUntil) {
    return `no Object Lock retention; the policy is ${policy.mode} for ${policy.days} days (needs s3:GetObjectRetention to be seen)`;
  }
  if (object.mode !== policy.mode) return `retention mode ${object.mode}; the policy is ${policy.mode}`;
  if (!object.lastModified) return undefined;
  const expected = object.lastModified.getTime() + policy.days * DAY_MS;
  if (object.retainUntil.getTime() < expected - SLACK_MS) {
    const until = object.retainUntil.toISOString().slice(0, 10);
    const wanted = new Date(expected).toISOString().slice(0, 10);
    return `retained until ${until}; the policy (${policy.days} days from ${object.lastModified.toISOString().slice(0, 10)}) gives ${wanted}`;
  }
  return undefined;
}
