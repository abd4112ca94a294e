/**
 * Counts what one execution spends, from its event history (aws-local-stepfunctions' events):
 * state transitions, Lambda invocations and their local durations, EventBridge PutEvents.
 *
 * A transition is a state entered or a Task retried: Step Functions bills a Standard workflow
 * "each time a step of your workflow is executed, including retries". Events from inside the Map
 * carry the item's index, so each item's own transitions are counted apart from the run's.
 */
import type { ExecutionEvent } from '../scripts/local/pipeline.ts';
import type { PipelineFunction } from '../state-machines/report-pipeline.ts';

const LAMBDA_STATES: readonly string[] = [
  'PlanRun',
  'StartJob',
  'CheckJob',
  'ArchiveReport',
  'RecordOutcome',
] satisfies PipelineFunction[];
const EVENT_STATES: readonly string[] = ['AnnounceReport', 'AnnounceSkip', 'AnnounceFailure', 'AnnouncePlanFailure'];

export interface LambdaCount {
  invocations: number;
  /** summed wall time of the in-process handler, entered to exited (retries included) */
  ms: number;
}

export interface ExecutionCount {
  /** transitions outside the Map's items (plan, Map, summary) */
  runTransitions: number;
  /** each Map item's transitions, by index */
  readonly itemTransitions: number[];
  readonly byState: Map<string, number>;
  readonly lambda: Map<string, LambdaCount>;
  putEvents: number;
}

export function emptyCount(): ExecutionCount {
  return { runTransitions: 0, itemTransitions: [], byState: new Map(), lambda: new Map(), putEvents: 0 };
}

/** Where each state was entered (by name and item), to time the Lambda handlers. */
type Entered = Map<string, number>;

const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);

/** Adds one event to the count; `entered` remembers when each Lambda state began. */
export function countEvent(count: ExecutionCount, event: ExecutionEvent, entered: Entered): void {
  if (event.type !== 'StateEntered' && event.type !== 'StateRetried' && event.type !== 'StateExited') return;
  const name = event.state.name;
  const key = `${name}#${event.index ?? ''}`;
  if (event.type === 'StateExited') {
    const began = entered.get(key);
    const lambda = count.lambda.get(name);
    if (began !== undefined && lambda) lambda.ms += event.timestamp - began;
    return;
  }
  if (event.type === 'StateEntered') entered.set(key, event.timestamp);
  add(count.byState, name, 1);
  if (event.index === undefined) count.runTransitions++;
  else count.itemTransitions[event.index] = (count.itemTransitions[event.index] ?? 0) + 1;
  if (LAMBDA_STATES.includes(name)) {
    const lambda = count.lambda.get(name) ?? { invocations: 0, ms: 0 };
    lambda.invocations++;
    count.lambda.set(name, lambda);
  }
  if (EVENT_STATES.includes(name)) count.putEvents++;
}

export function totalTransitions(count: ExecutionCount): number {
  return count.runTransitions + count.itemTransitions.reduce((a, b) => a + (b ?? 0), 0);
}
