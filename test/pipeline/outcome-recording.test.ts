/**
 * The RecordOutcome Task in the deployed definition, run by aws-local-stepfunctions with the real
 * RecordOutcome handler writing to the local S3 and stub item steps: the archived path's states,
 * a retry after the record was written, a record that cannot be written, and a report archived
 * but not announced.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeKey } from '../../lambdas/core/layout.ts';
import { createRecordOutcomeHandler } from '../../lambdas/handlers/record-outcome.ts';
import type { RecordOutcomeInput } from '../../lambdas/pipeline/record-outcome.ts';
import { type LocalS3, startLocalS3 } from '../../scripts/local/s3.ts';
import { type PipelineFunction, reportPipelineDefinition } from '../../state-machines/report-pipeline.ts';

const FUNCTIONS: PipelineFunction[] = ['PlanRun', 'StartJob', 'CheckJob', 'ArchiveReport', 'RecordOutcome'];
const DATE = '2026-11-21';
const REQUEST = { vendor: 'demo', tenant: 'a', report: 'things', date: DATE };
const MANIFEST = 'manifests/vendor=demo/report=things/dt=2026-11-21/tenant=a/manifest.json';

let dir: string;
let s3: LocalS3;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outcome-recording-'));
  s3 = await startLocalS3(join(dir, 's3'));
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

function definition(): StateMachineDefinition {
  return reportPipelineDefinition({
    vendor: 'demo',
    section: {
      baseUrl: 'https://vendor.example',
      poll: { intervalSeconds: 1, maxAttempts: 3, deadlineMinutes: 5 },
      reports: ['things'],
      tenants: [{ id: 'a', secretName: 's' }],
      maxConcurrency: 1,
    },
    eventSource: 'test',
    eventBusName: 'default',
    functionArns: Object.fromEntries(
      FUNCTIONS.map((fn) => [fn, `arn:aws:lambda:eu-west-1:123456789012:function:${fn}`]),
    ) as Record<PipelineFunction, string>,
  }) as unknown as StateMachineDefinition;
}

const step = (status: string, archived: unknown = null) => ({
  status,
  job: {},
  waitSeconds: null,
  reason: null,
  deadline: '2999-01-01T00:00:00.000Z',
  archived,
  attempts: 0,
  restarts: 0,
});

/** What an execution logs (the package does not export the type). */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type Invoke = (input: RecordOutcomeInput) => Promise<unknown>;

interface Faults {
  /** wraps the real RecordOutcome handler */
  readonly record?: (real: Invoke) => Invoke;
  /** the Report Archived event cannot be put */
  readonly announceFails?: boolean;
}

/** One item, started READY and archived; RecordOutcome is the real handler unless a fault wraps it. */
async function runOneItem(faults: Faults = {}) {
  const runId = `arn:aws:states:eu-west-1:123456789012:execution:demo:run-${++runs}`;
  const real = createRecordOutcomeHandler({
    vendor: 'demo',
    s3: s3.client,
    bucket: s3.bucket,
    logger: new Logger({ logLevel: 'SILENT' }),
    now: () => new Date('2026-11-22T02:10:00.000Z'),
  });
  const record = faults.record ? faults.record(real) : real;
  const announce = async () => {
    if (faults.announceFails)
      throw Object.assign(new Error('the bus refused the entry'), { name: 'EventBridge.Denied' });
    return { Entries: [{ EventId: '1' }], FailedEntryCount: 0 };
  };
  const machine = new StateMachine(definition(), { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = machine.run(
    { scheduledTime: '2026-11-22T02:00:00Z' },
    {
      overrides: {
        taskResourceLocalHandlers: {
          PlanRun: async () => ({
            Payload: {
              items: [{ tenant: { id: 'a', secretName: 's' }, report: 'things', date: DATE }],
              alreadyArchived: 0,
              deferred: 0,
              atRisk: [],
              duplicateOf: null,
            },
          }),
          StartJob: async () => ({ Payload: step('READY') }),
          CheckJob: async () => ({ Payload: step('READY') }),
          ArchiveReport: async () => ({
            Payload: step('ARCHIVED', {
              ...REQUEST,
              runId,
              keys: { manifest: MANIFEST },
              rowCount: 42,
              bytes: { original: 420 },
            }),
          }),
          RecordOutcome: async (p: { Payload: RecordOutcomeInput }) => ({ Payload: await record(p.Payload) }),
          AnnounceReport: announce,
          AnnounceFailure: announce,
        } as never,
        retryIntervalOverrides: { RecordOutcome: 1, AnnounceReport: 1 },
      },
      context: { Execution: { Id: runId } } as never,
    },
  );
  const events: EventLog[] = [];
  for await (const event of execution.eventLogs) events.push(event);
  const status = await execution.result.then(
    () => 'SUCCEEDED',
    () => 'FAILED',
  );
  const itemStates = events.flatMap((e) => (e.type === 'StateEntered' && e.index === 0 ? [e.state.name] : []));
  const mapExit = events.find((e) => e.type === 'StateExited' && e.state.name === 'ForEachReport');
  const results = mapExit?.type === 'StateExited' ? (mapExit.state.output as { results: unknown[] }).results : [];
  return { runId, status, itemStates, results, key: outcomeKey(REQUEST, runId) };
}

const recordsOf = async (runId: string) => {
  const name = runId.split(':').pop();
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'outcomes/' }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.endsWith(`/${name}.json`));
};
const recordAt = async (key: string) => {
  const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return JSON.parse(await output.Body!.transformToString('utf8')) as Record<string, unknown>;
};

describe('an archived item', () => {
  it('ends in the one RecordOutcome Task, with the same small result as before', async () => {
    // Act
    const run = await runOneItem();
    // Assess: RecordOutcome after the announced archive (the Map's ItemSelector starts the item)
    expect(run.status).toBe('SUCCEEDED');
    expect(run.itemStates).toEqual([
      'StartJob',
      'IsJobReady?',
      'ArchiveReport',
      'IsReportArchived?',
      'AnnounceReport',
      'ReportArchived',
      'RecordOutcome',
    ]);
    expect(run.results).toEqual([{ outcome: 'ARCHIVED', request: { tenant: 'a', report: 'things', date: DATE } }]);
    expect(await recordsOf(run.runId)).toEqual([run.key]);
    expect(await recordAt(run.key)).toMatchObject({
      outcome: 'archived',
      run_id: run.runId,
      manifest_key: MANIFEST,
      row_count: 42,
    });
  });
});

describe('a RecordOutcome retried after its record was written', () => {
  it('leaves one record, and the item archived', async () => {
    // Prepare: the record lands, then the Lambda service fails the invocation
    let calls = 0;
    const lostReply = (real: Invoke): Invoke => {
      return async (input) => {
        const answer = await real(input);
        if (++calls === 1) throw Object.assign(new Error('reply lost'), { name: 'Lambda.ServiceException' });
        return answer;
      };
    };
    // Act
    const run = await runOneItem({ record: lostReply });
    // Assess
    expect(calls).toBe(2);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.itemStates.filter((s) => s === 'RecordOutcome')).toHaveLength(1);
    expect(await recordsOf(run.runId)).toEqual([run.key]);
  });
});

describe('a record that cannot be written', () => {
  it('fails the item as OutcomeNotRecorded after its retries, and so the run', async () => {
    // Prepare
    let calls = 0;
    const denied = (): Invoke => async () => {
      calls++;
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    };
    // Act
    const run = await runOneItem({ record: denied });
    // Assess
    expect(calls).toBe(5); // the first try and 4 retries
    expect(run.status).toBe('FAILED');
    expect(run.results).toEqual([
      { outcome: 'FAILED', request: { tenant: 'a', report: 'things', date: DATE }, error: 'OutcomeNotRecorded' },
    ]);
    expect(await recordsOf(run.runId)).toEqual([]);
  });
});

describe('a report archived but not announced', () => {
  it('is recorded archived, and its item still fails the run', async () => {
    // Act
    const run = await runOneItem({ announceFails: true });
    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.itemStates.slice(-2)).toEqual(['ReportArchivedUnannounced', 'RecordOutcome']);
    expect(run.results).toEqual([
      {
        outcome: 'FAILED',
        request: { tenant: 'a', report: 'things', date: DATE },
        error: { Error: 'EventBridge.Denied', Cause: 'the bus refused the entry' },
      },
    ]);
    expect(await recordAt(run.key)).toMatchObject({ outcome: 'archived', manifest_key: MANIFEST, error: null });
  });
});
