import { type StepDeps, type StepInput, startJob } from '../pipeline/steps.ts';
import { lambdaRuntime } from './runtime.ts';

export const createStartJobHandler = (deps: StepDeps) => (event: StepInput) => startJob(event, deps);

export const handler = (event: StepInput) => createStartJobHandler(lambdaRuntime().deps)(event);
