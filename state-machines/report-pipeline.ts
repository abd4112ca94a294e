/**
 * The report pipeline: one state machine per vendor, built from one polling pattern.
 *
 * 1. `PlanRun` receives the run request and the vendor's (non-secret) section, lists the tenant ×
 *    report × date items the run covers, skipping dates already archived (unless `force`), and
 *    reports dates about to age out of the vendor's history. A schedule's delivery first claims
 *    its scheduled time: a duplicate delivery of a time another execution claimed ends at once,
 *    successfully, as `DuplicateDelivery`.
 * 2. `ForEachReport` (Map, `maxConcurrency` from config) runs every item through the loop
 *    `StartJob → IsJobReady? → ArchiveReport`, otherwise `WaitBeforeNextCheck → CheckJob →
 *    IsJobReady?`. The loop is bounded by `poll.maxAttempts` and `MAX_RESTARTS`, counted by the
 *    steps themselves (`attempts`, `restarts` in the step result) and compared in the Choice, by
 *    a deadline the handlers enforce, and by the state machine's timeout.
 * 3. Each archived report is announced with a `Report Archived` event; each skip (a vendor
 *    window not passed, a snapshot not available for that date) with a `Report Skipped` event
 *    and its reason; each failure (caught from any Task, or returned by the connector) with a
 *    `Report Failed` event. One item's failure never stops the others.
 * 4. Every path of an item then ends in the one `RecordOutcome` Task, which writes the item's
 *    outcome record to the archive (archived, skipped or failed, with the reason). A record that
 *    cannot be written after its retries fails the item as `OutcomeNotRecorded`.
 * 5. The run fails at the end if any item failed, so the execution alarms fire.
 *
 * JSONPath only: the local runner executes this exact definition (aws-local-stepfunctions does
 * not run JSONata). Handlers always return every field of a step result, so the selectors below
 * never point at a missing value.
 *
 * Transitions are billed one per state entered (and per retry), so no state counts or reshapes
 * what a neighbouring state can: the Choice after a step compares the counters the step returned,
 * the Map's `ItemSelector` builds each item's starting state, and PlanRun's Parameters its own
 * input. `npm run bench -- --transitions` counts them per vendor and report.
 */
import { RETRYABLE_ERROR_NAMES } from '../lambdas/core/errors.ts';

export type PipelineFunction = 'PlanRun' | 'StartJob' | 'CheckJob' | 'ArchiveReport' | 'RecordOutcome';

export interface ReportPipelineOptions {
  readonly vendor: string;
  /** the vendor's parsed config section; must hold no secrets (tenants carry secretName only) */
  readonly section: Record<string, unknown>;
  /** `source` of the events */
  readonly eventSource: string;
  readonly eventBusName: string;
  readonly functionArns: Readonly<Record<PipelineFunction, string>>;
}

export const REPORT_ARCHIVED = 'Report Archived';
export const REPORT_FAILED = 'Report Failed';
export const REPORT_SKIPPED = 'Report Skipped';

/** How many times a job may be started again (vendor lost it, links expired past the cache) */
export const MAX_RESTARTS = 2;

type State = Record<string, unknown>;

/** The Lambda service's transient errors, as Step Functions' best practices list them, and throttling */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

const LAMBDA_SERVICE_RETRY = {
  ErrorEquals: LAMBDA_SERVICE_ERRORS,
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

const RETRY = [
  LAMBDA_SERVICE_RETRY,
  {
    ErrorEquals: ['VendorThrottledError'],
    IntervalSeconds: 30,
    MaxAttempts: 5,
    BackoffRate: 2,
    MaxDelaySeconds: 600,
    JitterStrategy: 'FULL',
  },
  {
    ErrorEquals: ['VendorUnavailableError'],
    IntervalSeconds: 10,
    MaxAttempts: 4,
    BackoffRate: 3,
    MaxDelaySeconds: 300,
    JitterStrategy: 'FULL',
  },
];
/**
 * Start and check also retry a function that ran out of time: a vendor that hangs keeps the HTTP
 * client retrying (up to 5 × 30 s per request) past the 2-minute function, and Lambda reports that
 * as Sandbox.Timedout (Lambda.Unknown on older runtimes), never as our error name. The local
 * runner, which has no function timeout, sees VendorUnavailableError instead and retries it.
 * Archive does not: a report that ran for 15 minutes would only time out again.
 */
const POLL_STEP_RETRY = [
  ...RETRY,
  {
    ErrorEquals: ['Sandbox.Timedout', 'Lambda.Unknown'],
    IntervalSeconds: 30,
    MaxAttempts: 2,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];
// Keep the list above in step with the errors the handlers raise as transient.
for (const name of RETRYABLE_ERROR_NAMES) {
  if (!RETRY.some((r) => r.ErrorEquals.includes(name))) throw new Error(`no Retry for ${name}`);
}

/**
 * Recording retries whatever failed: the write is idempotent (a retry finds its own record and
 * leaves it), so nothing is lost by trying again, and a record not written fails the item.
 */
const RECORD_RETRY = [
  LAMBDA_SERVICE_RETRY,
  { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2, JitterStrategy: 'FULL' },
];

/** Payload every item step receives. */
const STEP_PAYLOAD = {
  'request.$': '$.request',
  'tenant.$': '$.tenant',
  'settings.$': '$.settings',
  'job.$': '$.step.job',
  'deadline.$': '$.step.deadline',
  'attempt.$': '$.step.attempts',
  'restarts.$': '$.step.restarts',
};

/** Which report an event is about. */
const ITEM_DETAIL = {
  'vendor.$': '$.request.vendor',
  'tenant.$': '$.request.tenant',
  'report.$': '$.request.report',
  'date.$': '$.request.date',
  'runId.$': '$.request.runId',
};

/** Which report an outcome is about. */
const OUTCOME_REQUEST = { 'tenant.$': '$.request.tenant', 'report.$': '$.request.report', 'date.$': '$.request.date' };

/** Every step returns these fields (null where they do not apply). */
const STEP_RESULT = {
  'status.$': '$.Payload.status',
  'job.$': '$.Payload.job',
  'waitSeconds.$': '$.Payload.waitSeconds',
  'reason.$': '$.Payload.reason',
  'deadline.$': '$.Payload.deadline',
  'archived.$': '$.Payload.archived',
  'attempts.$': '$.Payload.attempts',
  'restarts.$': '$.Payload.restarts',
};

/** An item's step before StartJob: nothing started, nothing counted. */
const FIRST_STEP = {
  status: 'NEW',
  job: {},
  waitSeconds: null,
  reason: null,
  deadline: null,
  archived: null,
  attempts: 0,
  restarts: 0,
};

function invoke(functionArn: string, payload: State, next: string, extra: State = {}): State {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: functionArn, Payload: payload },
    ResultSelector: STEP_RESULT,
    ResultPath: '$.step',
    Retry: RETRY,
    // $.error = { Error, Cause } from the failed Task
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AnnounceFailure' }],
    Next: next,
    ...extra,
  };
}

/** `detail` is a JSONPath to the detail object, or a Parameters template for it. */
function putEvent(detailType: string, detail: string | State, eventSource: string, eventBusName: string): State {
  const entry = typeof detail === 'string' ? { 'Detail.$': detail } : { Detail: detail };
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::events:putEvents',
    Parameters: { Entries: [{ Source: eventSource, DetailType: detailType, ...entry, EventBusName: eventBusName }] },
    ResultPath: null,
    Retry: [
      { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' },
    ],
  };
}

/**
 * Routes on a step's status and the loop's counters (see STEP_RESULT). ARCHIVED only comes from
 * ArchiveReport. A PENDING past `poll.maxAttempts` or a RESTART past MAX_RESTARTS ends the item.
 */
function route(readyNext: string): State {
  const on = (status: string, Next: string) => ({ Variable: '$.step.status', StringEquals: status, Next });
  const past = (status: string, bound: State, Next: string) => ({
    And: [{ Variable: '$.step.status', StringEquals: status }, bound],
    Next,
  });
  return {
    Type: 'Choice',
    Choices: [
      on('READY', readyNext),
      on('ARCHIVED', 'AnnounceReport'),
      past(
        'PENDING',
        { Variable: '$.step.attempts', NumericGreaterThanPath: '$.settings.poll.maxAttempts' },
        'RecordAttemptsExhausted',
      ),
      on('PENDING', 'WaitBeforeNextCheck'),
      past('RESTART', { Variable: '$.step.restarts', NumericGreaterThan: MAX_RESTARTS }, 'RecordRestartsExhausted'),
      on('RESTART', 'StartJob'),
      on('SKIPPED', 'AnnounceSkip'),
      on('FAILED', 'RecordJobFailure'),
    ],
    Default: 'RecordUnexpectedStatus',
  };
}

/** Starts the job, then polls it in a Wait/Choice loop bounded by attempts and restarts. */
function pollLoopStates(arns: ReportPipelineOptions['functionArns']): Record<string, State> {
  return {
    StartJob: invoke(arns.StartJob, STEP_PAYLOAD, 'IsJobReady?', { TimeoutSeconds: 300, Retry: POLL_STEP_RETRY }),
    'IsJobReady?': route('ArchiveReport'),
    WaitBeforeNextCheck: { Type: 'Wait', SecondsPath: '$.step.waitSeconds', Next: 'CheckJob' },
    CheckJob: invoke(arns.CheckJob, STEP_PAYLOAD, 'IsJobReady?', { TimeoutSeconds: 300, Retry: POLL_STEP_RETRY }),
    ArchiveReport: invoke(arns.ArchiveReport, STEP_PAYLOAD, 'IsReportArchived?', { TimeoutSeconds: 960 }),
    'IsReportArchived?': route('RecordUnexpectedStatus'),
  };
}

/**
 * How an item ended, in two parts (`$.ending`): `result`, the item's small entry in the Map's
 * output, and `record`, what RecordOutcome writes to the archive. The two differ only for a report
 * archived but not announced: the record says archived (it is), the result says failed.
 */
function ending(result: State, record: State): State {
  return { Type: 'Pass', Parameters: { result, record }, ResultPath: '$.ending', Next: 'RecordOutcome' };
}

/** An archived item's record: the manifest it published and its rows. */
const ARCHIVED_RECORD = {
  outcome: 'archived',
  'manifestKey.$': '$.step.archived.keys.manifest',
  'rowCount.$': '$.step.archived.rowCount',
  'bytes.$': '$.step.archived.bytes.original',
};

/** The item's end: archived and announced, skipped, or failed with a named error; then recorded. */
function outcomeStates(options: ReportPipelineOptions): Record<string, State> {
  const { eventSource, eventBusName } = options;
  return {
    AnnounceReport: {
      ...putEvent(REPORT_ARCHIVED, '$.step.archived', eventSource, eventBusName),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ReportArchivedUnannounced' }],
      Next: 'ReportArchived',
    },
    // Results are small (see PlanItem): keys, hashes and causes are in the events and the
    // outcome records, and every step's input and output in the execution history.
    ReportArchived: ending({ outcome: 'ARCHIVED', request: OUTCOME_REQUEST }, ARCHIVED_RECORD),
    // No event carries this one's cause, so the result does.
    ReportArchivedUnannounced: ending(
      { outcome: 'FAILED', request: OUTCOME_REQUEST, 'error.$': '$.error' },
      ARCHIVED_RECORD,
    ),
    // A skip is never silent: subscribers and the alerts see it with its reason.
    AnnounceSkip: {
      ...putEvent(REPORT_SKIPPED, { ...ITEM_DETAIL, 'reason.$': '$.step.reason' }, eventSource, eventBusName),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'ReportSkipped' }],
      Next: 'ReportSkipped',
    },
    ReportSkipped: ending(
      { outcome: 'SKIPPED', request: OUTCOME_REQUEST, 'reason.$': '$.step.reason' },
      { outcome: 'skipped', 'reason.$': '$.step.reason' },
    ),
    ...failureStates(eventSource, eventBusName),
    ...recordStates(options),
  };
}

/** Every way an item fails sets `$.error` to `{ Error, Cause }`, then announces it once. */
function failureStates(eventSource: string, eventBusName: string): Record<string, State> {
  const failureDetail = { ...ITEM_DETAIL, 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' };
  const recordError = (Parameters: State): State => ({
    Type: 'Pass',
    Parameters,
    ResultPath: '$.error',
    Next: 'AnnounceFailure',
  });
  return {
    RecordJobFailure: recordError({ Error: 'JobFailed', 'Cause.$': '$.step.reason' }),
    RecordUnexpectedStatus: recordError({
      Error: 'UnexpectedStatus',
      'Cause.$': "States.Format('step returned status {}', $.step.status)",
    }),
    RecordAttemptsExhausted: recordError({
      Error: 'DeadlineExceededError',
      'Cause.$': "States.Format('the job was not ready after {} checks', $.settings.poll.maxAttempts)",
    }),
    RecordRestartsExhausted: recordError({
      Error: 'RestartsExhaustedError',
      Cause: `the vendor lost the job more than ${MAX_RESTARTS} times`,
    }),
    AnnounceFailure: {
      ...putEvent(REPORT_FAILED, failureDetail, eventSource, eventBusName),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'ReportFailed' }],
      Next: 'ReportFailed',
    },
    ReportFailed: ending(
      { outcome: 'FAILED', request: OUTCOME_REQUEST, 'error.$': '$.error.Error' },
      { outcome: 'failed', 'error.$': '$.error' },
    ),
  };
}

/**
 * The one Task every item ends in: it writes `$.ending.record` and leaves `$.ending.result` as the
 * item's result. The run's id is the execution's own, the vendor a constant: neither comes from
 * the input.
 */
function recordStates(options: ReportPipelineOptions): Record<string, State> {
  return {
    RecordOutcome: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: options.functionArns.RecordOutcome,
        Payload: {
          vendor: options.vendor,
          'runId.$': '$$.Execution.Id',
          request: OUTCOME_REQUEST,
          'ending.$': '$.ending.record',
        },
      },
      ResultPath: null,
      OutputPath: '$.ending.result',
      TimeoutSeconds: 60,
      Retry: RECORD_RETRY,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'OutcomeNotRecorded' }],
      End: true,
    },
    // Never a silent success: the item fails, so the run does (its cause is in the history).
    OutcomeNotRecorded: {
      Type: 'Pass',
      Parameters: { outcome: 'FAILED', request: OUTCOME_REQUEST, error: 'OutcomeNotRecorded' },
      End: true,
    },
  };
}

function itemProcessor(options: ReportPipelineOptions): State {
  return {
    ProcessorConfig: { Mode: 'INLINE' },
    StartAt: 'StartJob',
    States: {
      ...pollLoopStates(options.functionArns),
      ...outcomeStates(options),
    },
  };
}

export function reportPipelineDefinition(options: ReportPipelineOptions): Record<string, unknown> {
  return {
    Comment: `Archives ${options.vendor} reports: plan, then for each tenant, report and date start the vendor job, poll it, archive it, announce it.`,
    StartAt: 'PlanRun',
    TimeoutSeconds: executionTimeoutSeconds(),
    States: { ...planStates(options), ForEachReport: forEachReport(options), ...summaryStates() },
  };
}

/**
 * The plan, from the run request (the execution's input) and the vendor's section (a constant:
 * it stays out of the run's state, whose size is limited); a run that cannot be planned fails
 * announced.
 */
function planStates(options: ReportPipelineOptions): Record<string, State> {
  const { vendor, section, functionArns: arns, eventSource, eventBusName } = options;
  return {
    PlanRun: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: arns.PlanRun,
        Payload: { vendor, section, 'request.$': '$', 'runId.$': '$$.Execution.Id' },
      },
      ResultSelector: {
        'items.$': '$.Payload.items',
        'alreadyArchived.$': '$.Payload.alreadyArchived',
        'deferred.$': '$.Payload.deferred',
        'duplicateOf.$': '$.Payload.duplicateOf',
      },
      ResultPath: '$.plan',
      TimeoutSeconds: 120,
      Retry: RETRY,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AnnouncePlanFailure' }],
      Next: 'HasWork?',
    },
    // Scheduler delivers at least once: the second delivery of a scheduled time does nothing.
    // a positive test: aws-local-stepfunctions treats every `IsNull: false` as not matching
    'HasWork?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.plan.duplicateOf.run_id', IsPresent: true, Next: 'DuplicateDelivery' },
        { Variable: '$.plan.items[0]', IsPresent: true, Next: 'ForEachReport' },
      ],
      Default: 'NothingToDo',
    },
    DuplicateDelivery: {
      Type: 'Pass',
      Parameters: {
        outcome: 'DUPLICATE_DELIVERY',
        'message.$':
          "States.Format('duplicate delivery of {}, claimed by {}', $.plan.duplicateOf.scheduled_time, $.plan.duplicateOf.run_id)",
        'claim.$': '$.plan.duplicateOf',
      },
      End: true,
    },
    AnnouncePlanFailure: {
      ...putEvent(
        REPORT_FAILED,
        { vendor, 'runId.$': '$$.Execution.Id', 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' },
        eventSource,
        eventBusName,
      ),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'PlanFailed' }],
      Next: 'PlanFailed',
    },
    PlanFailed: {
      Type: 'Fail',
      Error: 'PlanFailed',
      Cause: 'the run could not be planned; see the Report Failed event',
    },
    NothingToDo: { Type: 'Succeed' },
  };
}

/** Runs every planned item through the item processor, `maxConcurrency` at a time. */
function forEachReport(options: ReportPipelineOptions): State {
  const { vendor, section } = options;
  const { tenants: _tenants, ...settings } = section;
  const maxConcurrency = typeof section.maxConcurrency === 'number' ? section.maxConcurrency : 1;
  return {
    Type: 'Map',
    ItemsPath: '$.plan.items',
    // each item starts with the run's request, the tenant's entry, the vendor's settings (a
    // constant) and a step that has started nothing yet
    ItemSelector: {
      request: {
        vendor,
        'tenant.$': '$$.Map.Item.Value.tenant.id',
        'report.$': '$$.Map.Item.Value.report',
        'date.$': '$$.Map.Item.Value.date',
        'runId.$': '$$.Execution.Id',
      },
      'tenant.$': '$$.Map.Item.Value.tenant',
      settings,
      step: FIRST_STEP,
    },
    MaxConcurrency: maxConcurrency,
    ItemProcessor: itemProcessor(options),
    ResultPath: '$.results',
    Next: 'CollectOutcomes',
  };
}

/** The run fails at the end if any item failed, so the execution alarms fire. */
function summaryStates(): Record<string, State> {
  return {
    CollectOutcomes: {
      Type: 'Pass',
      Parameters: { 'outcomes.$': '$.results[*].outcome' },
      ResultPath: '$.summary',
      Next: 'CheckOutcomes',
    },
    CheckOutcomes: {
      Type: 'Pass',
      Parameters: {
        'anyFailed.$': "States.ArrayContains($.summary.outcomes, 'FAILED')",
        'outcomes.$': '$.summary.outcomes',
      },
      ResultPath: '$.summary',
      Next: 'AnyReportFailed?',
    },
    'AnyReportFailed?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.summary.anyFailed', BooleanEquals: true, Next: 'ReportsFailed' }],
      Default: 'AllReportsDone',
    },
    ReportsFailed: {
      Type: 'Fail',
      Error: 'ReportsFailed',
      Cause:
        'one or more reports failed; each has a Report Failed event, or an OutcomeNotRecorded result if its outcome record could not be written',
    },
    AllReportsDone: { Type: 'Succeed' },
  };
}

/**
 * The outer bound. Runs are daily: a run must end before the next one starts, whatever the
 * per-item attempts and deadlines allow.
 */
export function executionTimeoutSeconds(_section?: unknown): number {
  return 23 * 60 * 60;
}
