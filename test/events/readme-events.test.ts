/**
 * README "Events": the sample events it shows are valid against the schemas, one of each type,
 * so the README cannot drift from events/schemas/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventValidator } from './validator.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const samples = [...readme.matchAll(/```jsonc\n([\s\S]*?)```/g)]
  .map((m) => m[1] as string)
  .filter((block) => block.includes('"detail-type": "Report '))
  .map((block) => JSON.parse(block) as { 'detail-type': string });

describe('README "Events"', () => {
  it('shows one sample of each type, each valid against its schema', () => {
    const validator = eventValidator();
    expect(samples.map((s) => s['detail-type']).sort()).toEqual(validator.files.map((f) => f.detailType).sort());
    for (const sample of samples)
      expect(validator.check(sample), sample['detail-type']).toEqual({ valid: true, errors: [] });
  });
});
