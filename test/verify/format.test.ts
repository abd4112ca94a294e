/** The terminal summary of `npm run verify` (scripts/verify/format.ts): the digest line. */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../scripts/verify/format.ts';

const report = (signedBy: string[]) => ({
  manifests: 1,
  verified: 2,
  bytes: 10,
  objectLock: false,
  problems: [],
  notes: [],
  digests: { digests: 2, signedBy, publications: 1, pending: 0 },
});

describe('formatReport: the digest line', () => {
  it('names the start of each key whose signature held', () => {
    expect(formatReport(report(['e956aa9936a7d8833f1cce468dc5ca07']))).toContain(
      '2 signed digests (key e956aa9936a7d883…) list 1 manifest versions',
    );
  });

  it('says none held when no signature matched the trusted key, rather than printing "key no key…"', () => {
    expect(formatReport(report([]))).toContain(
      '2 signed digests (none with a valid signature) list 1 manifest versions',
    );
  });
});
