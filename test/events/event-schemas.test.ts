/**
 * lib/event-schemas.ts: the schema files are read and checked (name, Draft 4, registry keys), and
 * the construct publishes one JSONSchemaDraft4 schema per file to one registry, its content the
 * file's with the stack's source.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS_DIR, EventSchemas, eventSchemaFiles, slugOf } from '../../lib/event-schemas.ts';
import { removeOutdir, render, resourcesOf, testApp } from '../infra/support.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder holding one schema file, `name`, made from the Report Skipped file by `edit`. */
function folderWith(name: string, edit: (content: Record<string, unknown>) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
  dirs.push(dir);
  const content = JSON.parse(readFileSync(join(EVENT_SCHEMAS_DIR, 'report-skipped.v1.json'), 'utf8'));
  edit(content);
  writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}

describe('eventSchemaFiles', () => {
  it('reads one v1 file per event type the pipeline emits', () => {
    const files = eventSchemaFiles();
    expect(files.map((f) => [f.fileName, f.detailType, f.title, f.major])).toEqual([
      ['report-archived.v1.json', 'Report Archived', 'ReportArchived', 1],
      ['report-failed.v1.json', 'Report Failed', 'ReportFailed', 1],
      ['report-skipped.v1.json', 'Report Skipped', 'ReportSkipped', 1],
    ]);
    for (const file of files) {
      expect(file.content.definitions).toHaveProperty(file.title);
      expect(file.content.properties).toMatchObject({ detail: { $ref: `#/definitions/${file.title}` } });
    }
  });

  it.each([
    ['report-skipped.json', () => {}, /expected a name <detail-type slug>\.v<major>\.json/],
    ['report-archived.v1.json', () => {}, /expected the name to start with report-skipped/],
    [
      'report-skipped.v1.json',
      (c: Record<string, unknown>) => (c.$schema = 'http://json-schema.org/draft-07/schema#'),
      /draft-04/,
    ],
    [
      'report-skipped.v1.json',
      (c: Record<string, unknown>) => delete c['x-amazon-events-source'],
      /x-amazon-events-source/,
    ],
  ])('refuses %s when it is not what the registry needs', (name, edit, message) => {
    expect(() => eventSchemaFiles(folderWith(name, edit))).toThrow(message);
  });

  it('names a detail-type by its slug', () => {
    expect(slugOf('Report Archived')).toBe('report-archived');
  });
});

describe('EventSchemas', () => {
  it('publishes each file as a JSONSchemaDraft4 schema of one registry, with the stack`s source', () => {
    // Prepare
    const app = testApp();
    const stack = new Stack(app, 'Archive');
    // Act
    new EventSchemas(stack, 'EventSchemas', { source: 'acme.identity-reports' });
    // Assess
    const template = Template.fromStack(stack);
    removeOutdir(app);
    const registries = resourcesOf(template, 'AWS::EventSchemas::Registry');
    expect(registries.map(([, r]) => r.Properties.RegistryName)).toEqual(['Archive-events']);
    const schemas = resourcesOf(template, 'AWS::EventSchemas::Schema').map(([, r]) => r.Properties);
    const files = eventSchemaFiles();
    expect(schemas.map((s) => s.SchemaName)).toEqual([
      'acme.identity-reports@ReportArchived-v1',
      'acme.identity-reports@ReportFailed-v1',
      'acme.identity-reports@ReportSkipped-v1',
    ]);
    schemas.forEach((schema, i) => {
      const file = files[i];
      expect(schema.Type).toBe('JSONSchemaDraft4');
      expect(render(schema.RegistryName)).toBe(`<${registries[0]?.[0]}.RegistryName>`);
      expect(JSON.parse(schema.Content as string)).toEqual({
        ...file?.content,
        'x-amazon-events-source': 'acme.identity-reports',
      });
    });
  });
});
