import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectors } from '../../lambdas/connectors/index.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two commands a newcomer needs', () => {
    expect(readme).toContain('npm ci\nnpm start');
    expect(readme).toContain('npm test');
  });

  it.each(connectors.flatMap((c) => c.queries.map((q) => [c.vendor, q.name, q.sql] as const)))(
    'lists the %s auditor query %s with its exact SQL',
    (_vendor, name, sql) => {
      expect(readme).toContain(`**${name}**`);
      expect(readme).toContain(sql.trim());
    },
  );
});
