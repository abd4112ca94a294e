/** The CheckJob function: asks the vendor whether a report job is ready (`checkJob`). */
import { checkJob, type StepDeps, type StepInput } from '../pipeline/steps.ts';
import { lambdaDeps } from './runtime.ts';

export const createCheckJobHandler = (deps: StepDeps) => (event: StepInput) => checkJob(event, deps);

export const handler = (event: StepInput) => createCheckJobHandler(lambdaDeps())(event);
