/** Object Lock retention against the configured policy (scripts/verify/retention.ts). */
import { describe, expect, it } from 'vitest';
import { retentionProblem } from '../../scripts/verify/retention.ts';

const POLICY = { mode: 'COMPLIANCE', days: 2557 } as const;
const written = new Date('2026-01-10T12:00:00Z');
const plusDays = (days: number) => new Date(written.getTime() + days * 86_400_000);

describe('retentionProblem', () => {
  it('accepts the policy’s mode and a retain-until date at least its days after the write', () => {
    expect(
      retentionProblem({ mode: 'COMPLIANCE', retainUntil: plusDays(2557), lastModified: written }, POLICY),
    ).toBeUndefined();
    expect(
      retentionProblem({ mode: 'COMPLIANCE', retainUntil: plusDays(2556.5), lastModified: written }, POLICY),
    ).toBeUndefined();
  });

  it('names a shorter retention, another mode, or none at all', () => {
    expect(retentionProblem({ mode: 'COMPLIANCE', retainUntil: plusDays(365), lastModified: written }, POLICY)).toMatch(
      /retained until 2027-01-10; the policy \(2557 days from 2026-01-10\) gives 2033-01-10/,
    );
    expect(
      retentionProblem({ mode: 'GOVERNANCE', retainUntil: plusDays(2557), lastModified: written }, POLICY),
    ).toMatch(/retention mode GOVERNANCE; the policy is COMPLIANCE/);
    expect(retentionProblem({ lastModified: written }, POLICY)).toMatch(/no Object Lock retention/);
  });
});
