/**
 * Every vendor's definition is pure: bundled on its own (in memory, with esbuild), it pulls in no
 * network, SDK, JWT or HTTP client code. Synth, the catalog and the plan step import definitions,
 * so a runtime import slipping into one would ship and run where it must not.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { definitions } from '../../lambdas/connectors/registry.ts';

const CONNECTORS = join(import.meta.dirname, '../../lambdas/connectors');
const FORBIDDEN_PACKAGES = [/^(node:)?https?$/, /^@aws-sdk\//, /^jose$/];
const FORBIDDEN_FILES = /lambdas\/core\/http/;

const vendorFolders = readdirSync(CONNECTORS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** What one file's bundle reads: the project files it includes and the packages it leaves external. */
async function bundleOf(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const outputs = Object.values(result.metafile.outputs);
  return {
    files: Object.keys(result.metafile.inputs),
    packages: outputs.flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path)),
  };
}

describe('connector definitions', () => {
  it('has a definition.ts in every vendor folder, each registered', () => {
    // Assess
    expect(vendorFolders.sort()).toEqual(definitions.map((d) => d.vendor).sort());
  });

  it.each(vendorFolders)('bundles %s/definition.ts without network, SDK, JWT or HTTP client code', async (vendor) => {
    // Act
    const { files, packages } = await bundleOf(join(CONNECTORS, vendor, 'definition.ts'));

    // Assess
    expect(packages.filter((p) => FORBIDDEN_PACKAGES.some((pattern) => pattern.test(p)))).toEqual([]);
    expect(files.filter((file) => FORBIDDEN_FILES.test(file))).toEqual([]);
    expect(files.some((file) => file.endsWith(`${vendor}/definition.ts`))).toBe(true);
  });
});

describe('saved queries', () => {
  it('are named <vendor>-<what>, unique across vendors: Athena and the README use the name as it is', () => {
    const names = definitions.flatMap((d) => d.queries.map((q) => ({ vendor: d.vendor, name: q.name })));
    for (const { vendor, name } of names) expect(name, name).toMatch(new RegExp(`^${vendor}-[a-z0-9-]+$`));
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
  });
});
