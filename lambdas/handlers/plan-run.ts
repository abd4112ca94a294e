/**
 * The PlanRun function: plans a run (recording the vendor's expectations and its lost dates), logs
 * its size and what it left out, and publishes the DatesAtRisk metric.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type MetricsSink, publishDatesAtRisk } from '../pipeline/metrics.ts';
import { type PlanDeps, type PlanInput, type PlanResult, planRun } from '../pipeline/plan.ts';
import { lambdaDeps } from './runtime.ts';

export interface PlanRunHandlerDeps extends PlanDeps {
  readonly logger: Logger;
  /** where the DatesAtRisk metric goes; default stdout (EMF) */
  readonly metrics?: MetricsSink;
}

export const createPlanRunHandler =
  (deps: PlanRunHandlerDeps) =>
  async (event: PlanInput): Promise<PlanResult> => {
    const plan = await planRun(event, deps);
    if (plan.duplicateOf) {
      // no metric either: this run looked at nothing, so it has no at-risk count to give
      deps.logger.info(
        `duplicate delivery of ${plan.duplicateOf.scheduled_time}, claimed by ${plan.duplicateOf.run_id}`,
        {
          vendor: event.vendor,
          claim: plan.duplicateOf,
        },
      );
      return plan;
    }
    deps.logger.info('run planned', {
      vendor: event.vendor,
      items: plan.items.length,
      alreadyArchived: plan.alreadyArchived,
      atRisk: plan.atRisk,
      lost: plan.lost,
    });
    if (plan.outsideTenantRange > 0) {
      deps.logger.warn("dates outside the tenant's since..until were not planned", {
        vendor: event.vendor,
        outsideTenantRange: plan.outsideTenantRange,
      });
    }
    for (const failure of plan.bookkeeping) {
      deps.logger.error('plan bookkeeping failed; the run goes on', { vendor: event.vendor, failure });
    }
    if (plan.deferred > 0) {
      deps.logger.warn('run deferred items to the next run: the plan would not fit the state machine state', {
        vendor: event.vendor,
        planned: plan.items.length,
        deferred: plan.deferred,
      });
    }
    publishDatesAtRisk(event.vendor, plan.atRisk.length, deps.metrics);
    return plan;
  };

export const handler = (event: PlanInput) => {
  const deps = lambdaDeps();
  return createPlanRunHandler({ ...deps, definition: deps.connector.definition })(event);
};
