/**
 * Shared by the event tests: one real JSON Schema Draft 4 validator (Ajv's draft-04 class, with
 * the formats Draft 4 names) holding every schema file in events/schemas/, by detail-type.
 */
import AjvDraft04 from 'ajv-draft-04';
import formats from 'ajv-formats';
import { type EventSchemaFile, eventSchemaFiles } from '../../lib/event-schemas.ts';

export interface EventCheck {
  readonly valid: boolean;
  /** Ajv's errors, one line each: where, and what was expected */
  readonly errors: string[];
}

export interface EventValidator {
  readonly files: readonly EventSchemaFile[];
  /** Validates an envelope against the schema of its own `detail-type` (unknown type: invalid). */
  check(event: unknown): EventCheck;
}

export function eventValidator(files: readonly EventSchemaFile[] = eventSchemaFiles()): EventValidator {
  // strict: an unknown keyword or format in a schema file is an error, not silently ignored
  // both packages are CommonJS: under NodeNext their default import is `module.exports`
  const ajv = new AjvDraft04.default({ allErrors: true, strict: true });
  formats.default(ajv);
  // the registry's own annotations
  ajv.addVocabulary(['x-amazon-events-detail-type', 'x-amazon-events-source']);
  const byType = new Map(files.map((file) => [file.detailType, ajv.compile(file.content)] as const));
  return {
    files,
    check(event) {
      const detailType = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
      const validate = typeof detailType === 'string' ? byType.get(detailType) : undefined;
      if (!validate) return { valid: false, errors: [`no schema for detail-type ${JSON.stringify(detailType)}`] };
      const valid = validate(event);
      const errors = (validate.errors ?? []).map(
        (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
      );
      return { valid: valid === true, errors };
    },
  };
}
