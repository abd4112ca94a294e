import { checkJob, type StepDeps, type StepInput } from '../pipeline/steps.ts';
import { lambdaRuntime } from './runtime.ts';

export const createCheckJobHandler = (deps: StepDeps) => (event: StepInput) => checkJob(event, deps);

export const handler = (event: StepInput) => createCheckJobHandler(lambdaRuntime().deps)(event);
