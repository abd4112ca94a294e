/**
 * The signed manifest digests in the synthesized stack (lib/manifest-digest.ts): an asymmetric
 * signing key that outlives the stack and that nobody but break-glass may disable or delete, a
 * writer that may write under `digests/` only and sign with that key, its daily schedule, and the
 * alarms on the writer and on changes to the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asArray,
  documentStatements,
  logicalId,
  removeOutdir,
  render,
  resourcesOf,
  roleStatements,
  type Synthesized,
  synthExample,
} from './support.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthExample();
});
afterAll(() => removeOutdir(synth?.app));

describe('manifest digests', () => {
  it('sign with an ECC P-256 key that is kept, and that only break-glass may disable or delete', () => {
    const keyId = logicalId(synth.stack, synth.stack.digest.signingKey);
    const [, key] = resourcesOf(synth.template, 'AWS::KMS::Key').find(([id]) => id === keyId) ?? [];
    expect(key?.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(key?.DeletionPolicy).toBe('Retain');
    const denies = documentStatements(key?.Properties.KeyPolicy).filter((s) => s.Effect === 'Deny');
    expect(denies.flatMap((s) => asArray(s.Action))).toEqual(
      expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy']),
    );
  });

  it('are written by a function that may write under digests/ only, and sign with that key only', () => {
    const roleId = logicalId(synth.stack, synth.stack.digest.writer.role);
    const statements = roleStatements(synth.template, roleId);
    const writes = statements.filter((s) => asArray(s.Action).some((a) => a === 's3:PutObject'));
    expect(writes.flatMap((s) => asArray(s.Resource).map(render))).toEqual([expect.stringMatching(/\/digests\/\*$/)]);
    const signs = statements.filter((s) => asArray(s.Action).includes('kms:Sign'));
    const signingKeyId = logicalId(synth.stack, synth.stack.digest.signingKey);
    expect(signs.flatMap((s) => asArray(s.Resource).map(render))).toEqual([`<${signingKeyId}.Arn>`]);
    expect(statements.flatMap((s) => asArray(s.Action))).not.toContain('s3:DeleteObject');
  });

  it('are written daily by a schedule, with alarms on the writer’s errors and on key changes', () => {
    const functionId = logicalId(synth.stack, synth.stack.digest.writer.function);
    const schedules = resourcesOf(synth.template, 'AWS::Scheduler::Schedule').filter(([, s]) =>
      render((s.Properties.Target as { Arn: unknown }).Arn).includes(functionId),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.[1].Properties.ScheduleExpression).toMatch(/^cron\(/);
    const alarms = resourcesOf(synth.template, 'AWS::CloudWatch::Alarm').map(([id]) => id);
    expect(alarms.some((id) => id.includes('ManifestDigestErrors'))).toBe(true);
    const rules = resourcesOf(synth.template, 'AWS::Events::Rule').map(([, r]) => JSON.stringify(r.Properties));
    const signingKeyId = logicalId(synth.stack, synth.stack.digest.signingKey);
    expect(rules.some((r) => r.includes(signingKeyId))).toBe(true);
  });
});
