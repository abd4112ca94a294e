/**
 * The backfill command line (scripts/backfill/args.ts): an unknown option is named in one line;
 * the deployed stack is named by --config, and without it the local target is refused.
 */
import { describe, expect, it } from 'vitest';
import { parseBackfillArgs } from '../../scripts/backfill/args.ts';

describe('parseBackfillArgs', () => {
  it("names an unknown option without Node's hint to add a '--' (npm's own already is one)", () => {
    const argv = [
      '--vendor',
      'csp',
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
      '--config',
      'c.json',
      '--tenants',
      'a',
    ];
    expect(() => parseBackfillArgs(argv)).toThrow(
      expect.objectContaining({ name: 'UsageError', message: "Unknown option '--tenants'" }),
    );
  });

  it('takes the deployed stack from --config and its region from --region', () => {
    const argv = [
      '--config',
      'config/prod.json',
      '--region',
      'eu-west-1',
      '--vendor',
      'csp',
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-02',
    ];
    expect(parseBackfillArgs(argv)).toMatchObject({ config: 'config/prod.json', region: 'eu-west-1' });
  });

  it.each([[[]], [['--workspace', '.local']]])(
    'refuses the local target %j in one line, and says what to run instead',
    (extra) => {
      const argv = ['--vendor', 'csp', '--from', '2026-11-01', '--to', '2026-11-02', ...extra];
      expect(() => parseBackfillArgs(argv)).toThrow(
        expect.objectContaining({
          name: 'BackfillError',
          message: expect.stringContaining(
            'name its config with --config <file> (locally, archive a past date with npm start -- --date <YYYY-MM-DD>)',
          ),
        }),
      );
    },
  );

  it('refuses --deployed by name', () => {
    const argv = ['--vendor', 'csp', '--from', '2026-11-01', '--to', '2026-11-02', '--deployed'];
    expect(() => parseBackfillArgs(argv)).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: "--deployed is gone: name the deployed stack's config with --config <file>",
      }),
    );
  });
});
