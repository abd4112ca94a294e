/**
 * Step Functions refuses a state larger than 256 KiB with States.DataLimitExceeded, which no Catch
 * can handle. The largest state is the Map's output: the run state (plan items included) plus
 * every item's outcome. An OpenAthens run after deployment (or an outage) plans every unarchived
 * day of the 30-day window for each organisation.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { definitionFor } from '../../lambdas/connectors/registry.ts';
import { dataKey, manifestKey, originalKey } from '../../lambdas/core/layout.ts';
import { type PlanInput, planRun } from '../../lambdas/pipeline/plan.ts';
import { enabledVendors, parseConfig } from '../../lib/config.ts';
import { PipelineSectionSchema } from '../../lib/vendor-pipeline.ts';
import { type PipelineFunction, reportPipelineDefinition } from '../../state-machines/report-pipeline.ts';

const STATE_LIMIT_BYTES = 256 * 1024;
/** an attempt id as long as any real one */
const ATTEMPT = '20261122T020000Z-3f9a0c1d';
const RUN_ID =
  'arn:aws:states:eu-west-1:123456789012:execution:OpenathensPipelineStateMachine1FA602F7-AbCdEfGhIjKl:0f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0';

async function backlogRunOutput(organisations: number): Promise<unknown> {
  const tenants = Array.from({ length: organisations }, (_, i) => ({
    id: `org-${i + 1}`,
    since: '2026-01-01',
    apiName: `org${i + 1}.example.ac.uk`,
    secretName: `identity-report-archive/openathens/org-${i + 1}`,
  }));
  const config = parseConfig(
    {
      alerts: { topicName: 'alerts' },
      archive: { objectLock: { mode: 'COMPLIANCE' } },
      vendors: { openathens: { tenants } },
    },
    'test',
    'deploy',
  );
  const [entry] = enabledVendors(config);
  const section = PipelineSectionSchema.parse(entry?.[1]);
  const definition = reportPipelineDefinition({
    vendor: 'openathens',
    section,
    eventSource: 'identity-report-archive',
    eventBusName: 'default',
    functionArns: Object.fromEntries(
      (['PlanRun', 'StartJob', 'CheckJob', 'ArchiveReport', 'RecordOutcome'] as const).map((fn) => [
        fn,
        `arn:aws:lambda:eu-west-1:123456789012:function:${fn}`,
      ]),
    ) as Record<PipelineFunction, string>,
  });
  const emptyArchive = { send: async () => ({ Contents: [], IsTruncated: false }) } as never;
  const step = (status: string, archived: unknown = null) => ({
    status,
    job: { taskId: 'a1b2c3d4', download: 'https://login.openathens.net/api/v1/org1.example.ac.uk/rawtask/a1b2c3d4' },
    waitSeconds: null,
    reason: null,
    deadline: '2999-01-01T00:00:00.000Z',
    archived,
    attempts: 0,
    restarts: 0,
  });
  const announced = async () => ({ Entries: [{ EventId: '1' }], FailedEntryCount: 0 });
  const machine = new StateMachine(definition as unknown as StateMachineDefinition);
  const execution = machine.run(
    { scheduledTime: '2026-11-22T01:30:00Z' },
    {
      overrides: {
        taskResourceLocalHandlers: {
          PlanRun: async (p: { Payload: PlanInput }) => ({
            Payload: await planRun(p.Payload, {
              definition: definitionFor('openathens'),
              s3: emptyArchive,
              bucket: 'archive',
            }),
          }),
          StartJob: async () => ({ Payload: step('READY') }),
          CheckJob: async () => ({ Payload: step('READY') }),
          ArchiveReport: async (p: { Payload: { request: { tenant: string; date: string } } }) => {
            const r = { vendor: 'openathens', report: 'raw_statistics', ...p.Payload.request };
            return {
              Payload: step('ARCHIVED', {
                vendor: r.vendor,
                tenant: r.tenant,
                report: r.report,
                date: r.date,
                runId: RUN_ID,
                keys: {
                  data: dataKey(r, ATTEMPT),
                  manifest: manifestKey(r),
                  originals: [originalKey(r, ATTEMPT, `${r.date}-raw-statistics.csv.gz`)],
                },
                rowCount: 123_456,
                bytes: { original: 1_234_567, extracted: 12_345_678, data: 2_345_678 },
                sha256: { data: 'a'.repeat(64), originals: ['b'.repeat(64)] },
              }),
            };
          },
          RecordOutcome: async () => ({ Payload: { recorded: 'RECORDED', key: 'outcomes/o.json' } }),
          AnnounceReport: announced,
          AnnounceFailure: announced,
          AnnouncePlanFailure: announced,
        } as never,
      },
      context: { Execution: { Id: RUN_ID } } as never,
    },
  );
  return execution.result;
}

type RunOutput = { plan: { items: { date: string }[]; deferred: number }; results: { outcome: string }[] };

describe('the run state', () => {
  it('stays within the 256 KiB limit for a first run of 6 OpenAthens organisations (180 items)', async () => {
    // Act: the final state is the Map's output plus a short summary
    const output = (await backlogRunOutput(6)) as RunOutput;
    // Assess
    expect(output.plan.items).toHaveLength(180);
    expect(output.plan.deferred).toBe(0);
    expect(Buffer.byteLength(JSON.stringify(output))).toBeLessThan(STATE_LIMIT_BYTES);
  });

  it('defers the newest dates of a backlog too large for one run, and stays within the limit', async () => {
    // Act: 40 organisations × 30 days
    const output = (await backlogRunOutput(40)) as RunOutput;
    // Assess
    const planned = output.plan.items.length;
    expect(planned).toBeGreaterThan(300);
    expect(planned + output.plan.deferred).toBe(1200);
    expect(output.results.every((r) => r.outcome === 'ARCHIVED')).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(output))).toBeLessThan(STATE_LIMIT_BYTES);
    // the oldest days first (the first to age out of OpenAthens' 30): whole days from the oldest
    // of the window on, only the newest of them partly planned
    const perDay = new Map<string, number>();
    for (const { date } of output.plan.items) perDay.set(date, (perDay.get(date) ?? 0) + 1);
    const days = [...perDay.keys()].sort();
    const window = Array.from({ length: 30 }, (_, k) => new Date(Date.UTC(2026, 9, 23 + k)).toISOString().slice(0, 10));
    expect(days).toEqual(window.slice(0, days.length));
    expect(days.slice(0, -1).every((day) => perDay.get(day) === 40)).toBe(true);
  });
});
