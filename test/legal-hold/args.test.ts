/** The legal-hold command line: what it accepts, and what it refuses by name. */
import { describe, expect, it } from 'vitest';
import { parseLegalHoldArgs } from '../../scripts/legal-hold/args.ts';

const base = ['--config', 'config/example.json', '--vendor', 'csp', '--from', '2026-11-01', '--to', '2026-11-30'];

describe('parseLegalHoldArgs', () => {
  it('reads a full command line', () => {
    expect(
      parseLegalHoldArgs([
        ...base,
        '--on',
        '--tenant',
        'alice',
        '--report',
        'mfa_audit',
        '--bucket',
        'archive',
        '--region',
        'eu-west-1',
        '--dry-run',
        '--json',
      ]),
    ).toEqual({
      vendor: 'csp',
      from: '2026-11-01',
      to: '2026-11-30',
      status: 'ON',
      tenant: 'alice',
      report: 'mfa_audit',
      bucket: 'archive',
      config: 'config/example.json',
      region: 'eu-west-1',
      dryRun: true,
      json: true,
    });
  });

  it('lifts with --off, every tenant and report by default', () => {
    expect(parseLegalHoldArgs([...base, '--off'])).toMatchObject({ status: 'OFF', dryRun: false, json: false });
    expect(parseLegalHoldArgs([...base, '--off'])).not.toHaveProperty('tenant');
  });

  it('answers --help with the usage', () => {
    expect(parseLegalHoldArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--vendor', 'csp', '--on'], /missing --from, --to/],
    [[...base, '--on', '--deployed'], /^--deployed is gone: name the deployed stack's config with --config <file>$/],
    [[...base, '--on', '--workspace', '.local'], /--workspace is the local archive and --config the deployed stack/],
    [base, /exactly one of --on or --off; received neither/],
    [[...base, '--on', '--off'], /exactly one of --on or --off; received both/],
    [
      ['--vendor', 'csp', '--from', '2026-11-31', '--to', '2026-12-01', '--on'],
      /--from: expected a date as YYYY-MM-DD; received 2026-11-31/,
    ],
    [
      ['--vendor', 'csp', '--from', '2026-12-02', '--to', '2026-12-01', '--on'],
      /--from 2026-12-02 is after --to 2026-12-01/,
    ],
    [[...base, '--on', 'extra'], /unexpected argument "extra"/],
    [[...base, '--on', '--tenants', 'a'], /^Unknown option '--tenants'$/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseLegalHoldArgs(argv)).toThrow(
      expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(message) }),
    );
  });

  it('refuses the local target (no --config) by name: holds exist only on the deployed bucket', () => {
    expect(() => parseLegalHoldArgs(['--vendor', 'csp', '--from', '2026-11-01', '--to', '2026-11-30', '--on'])).toThrow(
      expect.objectContaining({ name: 'NoObjectLockError', message: expect.stringContaining('--config <file>') }),
    );
  });
});
