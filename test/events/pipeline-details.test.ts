/**
 * The state machine's `events:putEvents` Tasks (state-machines/report-pipeline.ts) and the
 * schemas in events/schemas/ say the same thing: every detail-type put has a schema and every
 * schema is put; each Detail template holds only fields its schema names and every field it
 * requires; together they cover exactly the schema's properties. Report Archived's Detail is
 * the archive step's result (`$.step.archived`, `ArchivedSummary`), compared field by field
 * through a record the compiler holds to that type.
 */
import { describe, expect, it } from 'vitest';
import type { ArchivedSummary } from '../../lambdas/pipeline/steps.ts';
import { eventSchemaFiles } from '../../lib/event-schemas.ts';
import { REPORT_ARCHIVED, reportPipelineDefinition } from '../../state-machines/report-pipeline.ts';

interface ObjectSchema {
  readonly properties: Record<string, ObjectSchema>;
  readonly required?: string[];
}

interface PutEvent {
  readonly state: string;
  readonly detailType: string;
  /** the Detail template's fields, or undefined when Detail is a path */
  readonly fields?: string[];
  readonly path?: string;
}

type State = Record<string, unknown>;

const definition = reportPipelineDefinition({
  vendor: 'csp',
  section: { tenants: [] },
  eventSource: 'identity-report-archive',
  eventBusName: 'default',
  functionArns: {
    PlanRun: 'plan',
    StartJob: 'start',
    CheckJob: 'check',
    ArchiveReport: 'archive',
    RecordOutcome: 'record',
  },
});

/** Every putEvents Task of the definition, in nested processors too. */
function putEvents(states: Record<string, State>): PutEvent[] {
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    if (nested) return putEvents(nested.States);
    if (state.Resource !== 'arn:aws:states:::events:putEvents') return [];
    const entries = (state.Parameters as { Entries: State[] }).Entries;
    return entries.map((entry) => ({
      state: name,
      detailType: entry.DetailType as string,
      ...(entry['Detail.$'] !== undefined
        ? { path: entry['Detail.$'] as string }
        : { fields: Object.keys(entry.Detail as State).map((key) => key.replace(/\.\$$/, '')) }),
    }));
  });
}

const puts = putEvents(definition.States as Record<string, State>);
const files = eventSchemaFiles();

function detailSchema(detailType: string): ObjectSchema {
  const file = files.find((f) => f.detailType === detailType);
  if (!file) throw new Error(`no schema file for ${detailType}`);
  return (file.content.definitions as Record<string, ObjectSchema>)[file.title] as ObjectSchema;
}

// The compiler refuses a missing or an extra key: each record is exactly the type's keys.
const ARCHIVED_FIELDS: Record<keyof ArchivedSummary, true> = {
  vendor: true,
  tenant: true,
  report: true,
  date: true,
  keys: true,
  rowCount: true,
  bytes: true,
  sha256: true,
  runId: true,
};
const ARCHIVED_NESTED: Record<'keys' | 'bytes' | 'sha256', readonly string[]> = {
  keys: Object.keys({ data: true, manifest: true, originals: true } satisfies Record<
    keyof ArchivedSummary['keys'],
    true
  >),
  bytes: Object.keys({ original: true, extracted: true, data: true } satisfies Record<
    keyof ArchivedSummary['bytes'],
    true
  >),
  sha256: Object.keys({ data: true, originals: true } satisfies Record<keyof ArchivedSummary['sha256'], true>),
};

const sorted = (values: Iterable<string>) => [...values].sort();

describe('the state machine puts', () => {
  it('exactly the detail-types that have a schema', () => {
    expect(sorted(new Set(puts.map((p) => p.detailType)))).toEqual(sorted(files.map((f) => f.detailType)));
  });

  it.each(files.map((f) => [f.detailType] as const))('%s: details within the schema, covering it exactly', (type) => {
    const schema = detailSchema(type);
    const templates = puts.filter((p) => p.detailType === type && p.fields);
    for (const put of templates) {
      expect(
        put.fields?.filter((f) => !(f in schema.properties)),
        put.state,
      ).toEqual([]);
      expect(
        (schema.required ?? []).filter((f) => !put.fields?.includes(f)),
        put.state,
      ).toEqual([]);
    }
    const paths = puts.filter((p) => p.detailType === type && p.path);
    const covered = new Set(templates.flatMap((p) => p.fields ?? []));
    if (paths.length > 0) for (const field of Object.keys(ARCHIVED_FIELDS)) covered.add(field);
    expect(sorted(covered)).toEqual(sorted(Object.keys(schema.properties)));
  });

  it('Report Archived: the archive step result, whose fields are the schema`s, all required', () => {
    const archived = puts.filter((p) => p.detailType === REPORT_ARCHIVED);
    expect(archived.map((p) => p.path)).toEqual(['$.step.archived']);
    const schema = detailSchema(REPORT_ARCHIVED);
    expect(sorted(schema.required ?? [])).toEqual(sorted(Object.keys(ARCHIVED_FIELDS)));
    for (const [field, keys] of Object.entries(ARCHIVED_NESTED)) {
      const nested = schema.properties[field] as ObjectSchema;
      expect(sorted(Object.keys(nested.properties)), field).toEqual(sorted(keys));
      expect(sorted(nested.required ?? []), field).toEqual(sorted(keys));
    }
  });

  it('only Report Archived takes its detail from a path', () => {
    expect(puts.filter((p) => p.path).map((p) => p.detailType)).toEqual([REPORT_ARCHIVED]);
  });
});
