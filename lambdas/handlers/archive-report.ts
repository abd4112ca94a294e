/** The ArchiveReport function: streams a fetched report into the archive (`archiveStep`). */
import { type ArchiveStepDeps, archiveStep, type StepInput } from '../pipeline/steps.ts';
import { lambdaDeps } from './runtime.ts';

export const createArchiveReportHandler = (deps: ArchiveStepDeps) => (event: StepInput) => archiveStep(event, deps);

export const handler = (event: StepInput) => createArchiveReportHandler(lambdaDeps())(event);
