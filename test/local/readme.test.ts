import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitions } from '../../lambdas/connectors/registry.ts';
import { archiveQueries } from '../../lambdas/core/archive-queries.ts';
import { parseConfig } from '../../lib/config.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two commands a newcomer needs', () => {
    expect(readme).toContain('npm ci\nnpm start');
    expect(readme).toContain('npm test');
  });

  it('shows a local config (--config) that the runner accepts', () => {
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(() => parseConfig(JSON.parse(block), 'README.md', 'local')).not.toThrow();
    expect(readme).toContain('credentialsEnv');
  });

  it.each([
    ...archiveQueries.map((q) => ['archive', q.name, q.sql] as const),
    ...definitions.flatMap((d) => d.queries.map((q) => [d.vendor, q.name, q.sql] as const)),
  ])('lists the %s auditor query %s with its exact SQL', (_vendor, name, sql) => {
    expect(readme).toContain(`**${name}**`);
    expect(readme).toContain(sql.trim());
  });
});
