import { type ArchiveStepDeps, archiveStep, type StepInput } from '../pipeline/steps.ts';
import { lambdaRuntime } from './runtime.ts';

export const createArchiveReportHandler = (deps: ArchiveStepDeps) => (event: StepInput) => archiveStep(event, deps);

export const handler = (event: StepInput) => createArchiveReportHandler(lambdaRuntime().deps)(event);
