/**
 * The one target rule (scripts/local/archive-args.ts `archiveTarget`): without `--config` the
 * local workspace, with it the stack deployed from that file; `--deployed` is refused by name,
 * and a command line that names both targets, or a region without a stack, is refused.
 */
import { describe, expect, it } from 'vitest';
import { archiveTarget, DEPLOYED_IS_GONE } from '../../scripts/local/archive-args.ts';

describe('archiveTarget', () => {
  it('is the local workspace, .local by default, without --config', () => {
    expect(archiveTarget({})).toEqual({ kind: 'local', workspace: '.local' });
    expect(archiveTarget({ workspace: '/tmp/ws' })).toEqual({ kind: 'local', workspace: '/tmp/ws' });
  });

  it('is the deployed stack of the file with --config, in --region when given', () => {
    expect(archiveTarget({ config: 'config/prod.json' })).toEqual({ kind: 'deployed', config: 'config/prod.json' });
    expect(archiveTarget({ config: 'config/prod.json', region: 'eu-west-1' })).toEqual({
      kind: 'deployed',
      config: 'config/prod.json',
      region: 'eu-west-1',
    });
  });

  it.each([
    [{ deployed: true }, DEPLOYED_IS_GONE],
    [{ deployed: true, config: 'config/prod.json' }, DEPLOYED_IS_GONE],
    [
      { config: 'config/prod.json', workspace: '.local' },
      '--workspace is the local archive and --config the deployed stack: choose one',
    ],
    [{ region: 'eu-west-1' }, "--region is the deployed stack's region: name its config with --config <file>"],
  ])('refuses %j', (values, message) => {
    expect(() => archiveTarget(values)).toThrow(message);
  });
});
