/**
 * Errors the Lambda service itself raises (not our handlers): the deployed definition must retry
 * the transient ones, as the Step Functions best practice lists them, and a poll step that ran out
 * of time (a slow vendor: the HTTP client's own retries outlast a 2-minute function), which the
 * local runner never sees because its handlers have no timeout.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { type PipelineFunction, reportPipelineDefinition } from '../../state-machines/report-pipeline.ts';

const FUNCTIONS: PipelineFunction[] = ['PlanRun', 'StartJob', 'CheckJob', 'ArchiveReport', 'RecordOutcome'];
const REQUEST = { vendor: 'demo', tenant: 'a', report: 'things', date: '2026-11-21', runId: 'run' };
const SETTINGS = {
  baseUrl: 'https://vendor.example',
  poll: { intervalSeconds: 1, maxAttempts: 3, deadlineMinutes: 5 },
};

function definition(): StateMachineDefinition {
  return reportPipelineDefinition({
    vendor: 'demo',
    section: {
      ...SETTINGS,
      reports: ['things'],
      tenants: [{ id: 'a', since: '2026-01-01', secretName: 's' }],
      maxConcurrency: 1,
    },
    eventSource: 'test',
    eventBusName: 'default',
    functionArns: Object.fromEntries(
      FUNCTIONS.map((fn) => [fn, `arn:aws:lambda:eu-west-1:123456789012:function:${fn}`]),
    ) as Record<PipelineFunction, string>,
  }) as unknown as StateMachineDefinition;
}

const step = (status: string, extra: Record<string, unknown> = {}) => ({
  status,
  job: {},
  waitSeconds: status === 'PENDING' ? 1 : null,
  reason: null,
  deadline: '2999-01-01T00:00:00.000Z',
  archived: null,
  attempts: status === 'PENDING' ? 1 : 0,
  restarts: 0,
  ...extra,
});

/** The Lambda service's error for `state`'s first invocation, then normal answers. */
async function runWithServiceError(state: PipelineFunction, errorName: string) {
  const failed = new Set<string>();
  const events: { DetailType: string; Detail: Record<string, unknown> }[] = [];
  const answer = (name: PipelineFunction, payload: unknown) => async () => {
    if (name === state && !failed.has(name)) {
      failed.add(name);
      throw Object.assign(new Error(`${errorName} from the Lambda service`), { name: errorName });
    }
    return { Payload: payload };
  };
  const record = async (parameters: unknown) => {
    events.push(...(parameters as { Entries: (typeof events)[number][] }).Entries);
    return { Entries: [{ EventId: '1' }], FailedEntryCount: 0 };
  };
  const machine = new StateMachine(definition(), { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = machine.run(
    { scheduledTime: '2026-11-22T02:00:00Z' },
    {
      overrides: {
        taskResourceLocalHandlers: {
          PlanRun: answer('PlanRun', {
            items: [{ tenant: { id: 'a', secretName: 's' }, report: REQUEST.report, date: REQUEST.date }],
            alreadyArchived: 0,
            deferred: 0,
            atRisk: [],
            duplicateOf: null,
          }),
          StartJob: answer('StartJob', step('PENDING')),
          CheckJob: answer('CheckJob', step('READY')),
          ArchiveReport: answer(
            'ArchiveReport',
            step('ARCHIVED', {
              archived: { ...REQUEST, rowCount: 1, bytes: { original: 10 }, keys: { manifest: 'manifests/m.json' } },
            }),
          ),
          RecordOutcome: answer('RecordOutcome', { recorded: 'RECORDED', key: 'outcomes/o.json' }),
          AnnounceReport: record,
          AnnounceFailure: record,
          AnnouncePlanFailure: record,
        } as never,
        waitTimeOverrides: { WaitBeforeNextCheck: 1 },
        retryIntervalOverrides: Object.fromEntries(FUNCTIONS.map((fn) => [fn, 1])),
      },
      context: { Execution: { Id: 'arn:aws:states:eu-west-1:123456789012:execution:demo:run' } } as never,
    },
  );
  let status = 'SUCCEEDED';
  try {
    await execution.result;
  } catch {
    status = 'FAILED';
  }
  return { status, detailTypes: events.map((e) => e.DetailType) };
}

describe('transient Lambda service errors', () => {
  // https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
  const serviceErrors = [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
  ];
  for (const fn of FUNCTIONS) {
    it.each(serviceErrors)(`are retried on ${fn}: %s`, async (errorName) => {
      // Act
      const result = await runWithServiceError(fn, errorName);
      // Assess
      expect(result).toEqual({ status: 'SUCCEEDED', detailTypes: ['Report Archived'] });
    });
  }
});

describe('a poll step that ran out of time', () => {
  // Node.js runtimes report a function timeout as Sandbox.Timedout (older ones as Lambda.Unknown)
  for (const fn of ['StartJob', 'CheckJob'] as const) {
    it.each(['Sandbox.Timedout', 'Lambda.Unknown'])(`is retried on ${fn}: %s`, async (errorName) => {
      // Act
      const result = await runWithServiceError(fn, errorName);
      // Assess
      expect(result).toEqual({ status: 'SUCCEEDED', detailTypes: ['Report Archived'] });
    });
  }

  it('is not retried on the 15-minute archive step, whose next attempt would only time out again', async () => {
    // Act
    const result = await runWithServiceError('ArchiveReport', 'Sandbox.Timedout');
    // Assess
    expect(result).toEqual({ status: 'FAILED', detailTypes: ['Report Failed'] });
  });
});

describe('errors the handlers raise', () => {
  // Check and fetch turn a throttle into PENDING themselves; start and archive rely on Retry.
  for (const fn of ['StartJob', 'ArchiveReport'] as const) {
    it.each(['VendorThrottledError', 'VendorUnavailableError'])(
      `are retried on ${fn} when transient: %s`,
      async (errorName) => {
        // Act
        const result = await runWithServiceError(fn, errorName);
        // Assess
        expect(result).toEqual({ status: 'SUCCEEDED', detailTypes: ['Report Archived'] });
      },
    );
  }

  it.each(['VendorAuthError', 'VendorRequestError'])('are not retried when permanent: %s', async (errorName) => {
    // Act
    const result = await runWithServiceError('StartJob', errorName);
    // Assess
    expect(result).toEqual({ status: 'FAILED', detailTypes: ['Report Failed'] });
  });
});
