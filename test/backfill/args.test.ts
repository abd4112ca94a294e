/** The backfill command line (scripts/backfill/args.ts): an unknown option is named in one line. */
import { describe, expect, it } from 'vitest';
import { parseBackfillArgs } from '../../scripts/backfill/args.ts';

describe('parseBackfillArgs', () => {
  it("names an unknown option without Node's hint to add a '--' (npm's own already is one)", () => {
    const argv = ['--vendor', 'csp', '--from', '2026-11-01', '--to', '2026-11-02', '--tenants', 'a'];
    expect(() => parseBackfillArgs(argv)).toThrow(
      expect.objectContaining({ name: 'UsageError', message: "Unknown option '--tenants'" }),
    );
  });
});
