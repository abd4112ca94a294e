/**
 * The pipeline's events, published to the EventBridge schema registry.
 *
 * 1. The schemas are the files in `events/schemas/` (`<detail-type slug>.v<major>.json`, JSON
 *    Schema Draft 4 of the whole EventBridge envelope, as the registry's own schemas are): the
 *    same files the event tests validate every local event against, so what is published is
 *    what is tested.
 * 2. One `AWS::EventSchemas::Registry`, named after the stack so a downstream team can find it
 *    (`aws schemas list-schemas --registry-name <stack>-events`).
 * 3. One `AWS::EventSchemas::Schema` (`JSONSchemaDraft4`) per file, named `<source>@<Title>-v<major>`;
 *    its content is the file's, with `x-amazon-events-source` set to this stack's configured
 *    source (the file carries the default one). Changing a file publishes a new registry version.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { z } from 'zod';

export const EVENT_SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'events', 'schemas');

const FILE_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)\.v(\d+)\.json$/;

/** What a schema file must hold for the registry (the rest is JSON Schema, checked by the tests). */
const SchemaFileSchema = z.looseObject({
  $schema: z.literal('http://json-schema.org/draft-04/schema#'),
  title: z.string().regex(/^[A-Za-z0-9]+$/),
  description: z.string().min(1),
  'x-amazon-events-detail-type': z.string().min(1),
  'x-amazon-events-source': z.string().min(1),
});

export interface EventSchemaFile {
  /** the file's name in `events/schemas/` */
  readonly fileName: string;
  /** the detail-type's slug, e.g. `report-archived` */
  readonly slug: string;
  /** the major version in the file's name */
  readonly major: number;
  readonly detailType: string;
  /** the detail's definition name, e.g. `ReportArchived` */
  readonly title: string;
  readonly description: string;
  /** the whole schema as the file holds it */
  readonly content: Readonly<Record<string, unknown>>;
}

/** Every schema file, read and checked: its name matches its detail-type and its major version. */
export function eventSchemaFiles(dir = EVENT_SCHEMAS_DIR): EventSchemaFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((fileName) => {
      const match = FILE_NAME.exec(fileName);
      if (!match) {
        throw new Error(`${dir}/${fileName}: expected a name <detail-type slug>.v<major>.json`);
      }
      const [, slug = '', major = ''] = match;
      const parsed = SchemaFileSchema.safeParse(JSON.parse(readFileSync(path.join(dir, fileName), 'utf8')));
      if (!parsed.success) throw new Error(`${dir}/${fileName}: ${parsed.error.message}`);
      const content = parsed.data;
      const detailType = content['x-amazon-events-detail-type'];
      if (slugOf(detailType) !== slug) {
        throw new Error(
          `${dir}/${fileName}: expected the name to start with ${slugOf(detailType)}, from "${detailType}"`,
        );
      }
      return {
        fileName,
        slug,
        major: Number(major),
        detailType,
        title: content.title,
        description: content.description,
        content,
      };
    });
}

/** `Report Archived` → `report-archived` */
export function slugOf(detailType: string): string {
  return detailType.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** The schema as published for a stack whose events carry `source`. */
export function publishedContent(file: EventSchemaFile, source: string): Record<string, unknown> {
  return { ...file.content, 'x-amazon-events-source': source };
}

export interface EventSchemasProps {
  /** `source` of the events (the `events.source` config key) */
  readonly source: string;
  /**
   * The schema files to publish.
   * @default - every file in `events/schemas/`
   */
  readonly files?: readonly EventSchemaFile[];
}

export class EventSchemas extends Construct {
  public readonly registry: eventschemas.CfnRegistry;
  public readonly schemas: eventschemas.CfnSchema[];

  constructor(scope: Construct, id: string, props: EventSchemasProps) {
    super(scope, id);
    this.registry = new eventschemas.CfnRegistry(this, 'Registry', {
      registryName: `${Stack.of(this).stackName}-events`,
      description: `The events of ${Stack.of(this).stackName} (source ${props.source}), one schema per detail-type and major version`,
    });
    this.schemas = (props.files ?? eventSchemaFiles()).map(
      (file) =>
        new eventschemas.CfnSchema(this, `${file.title}V${file.major}`, {
          registryName: this.registry.attrRegistryName,
          schemaName: `${props.source}@${file.title}-v${file.major}`,
          type: 'JSONSchemaDraft4',
          description: file.description,
          content: JSON.stringify(publishedContent(file, props.source)),
        }),
    );
  }
}
