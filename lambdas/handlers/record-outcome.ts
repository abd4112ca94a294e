/** The RecordOutcome function: writes how one item of a run ended, once (`recordOutcome`). */
import { type RecordOutcomeDeps, type RecordOutcomeInput, recordOutcome } from '../pipeline/record-outcome.ts';
import { lambdaDeps } from './runtime.ts';
import { outcomeDependencies } from './wiring.ts';

export const createRecordOutcomeHandler = (deps: RecordOutcomeDeps) => (event: RecordOutcomeInput) =>
  recordOutcome(event, deps);

export const handler = (event: RecordOutcomeInput) =>
  createRecordOutcomeHandler(outcomeDependencies(lambdaDeps()))(event);
