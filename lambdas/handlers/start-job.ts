/** The StartJob function: starts (or restarts) a vendor's report job (`startJob`). */
import { type StepDeps, type StepInput, startJob } from '../pipeline/steps.ts';
import { lambdaDeps } from './runtime.ts';

export const createStartJobHandler = (deps: StepDeps) => (event: StepInput) => startJob(event, deps);

export const handler = (event: StepInput) => createStartJobHandler(lambdaDeps())(event);
