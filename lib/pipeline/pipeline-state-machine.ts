/**
 * The state machine of one vendor's pipeline: the shared definition, its log group and its role.
 *
 * 1. Runs the definition from `state-machines/report-pipeline.ts` (the one the local runner
 *    executes), with the function ARNs and the event bus substituted in.
 * 2. A string definition gives CDK nothing to infer grants from, so every grant here is explicit:
 *    invoke exactly the five functions, put events on the bus.
 * 3. STANDARD, traced, bounded by the definition's own TimeoutSeconds, logging ALL events with
 *    execution data to its own log group. Its alarms are `Alerts.watchStateMachine`'s.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  executionTimeoutSeconds,
  type PipelineFunction,
  reportPipelineDefinition,
} from '../../state-machines/report-pipeline.ts';
import { acknowledge, wildcardResourceFinding } from '../nag.ts';

export interface PipelineStateMachineProps {
  /** the connector's vendor id */
  readonly vendor: string;
  /**
   * The vendor's parsed config section, embedded in the definition: it must hold no secret
   * (tenants name their Secrets Manager secret only).
   */
  readonly section: Readonly<Record<string, unknown>>;
  /** the function each Task state invokes */
  readonly functions: Readonly<Record<PipelineFunction, lambda.IFunction>>;
  /** `source` of the Report Archived / Report Failed events */
  readonly eventSource: string;
  /**
   * Where the Report Archived / Report Failed events go.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Retention of the state machine's log group.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

export class PipelineStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    const { vendor, functions } = props;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    const definition = boundedDefinition(props);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `Archives ${vendor} identity reports`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: {
        ...Object.fromEntries(STATES.map((state) => [arnVariable(state), functions[state].functionArn] as const)),
        [EVENT_BUS_VARIABLE]: eventBus.eventBusName,
      },
      timeout: Duration.seconds(definition.TimeoutSeconds),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // grantInvoke covers the function and its versions/aliases (`<arn>:*`)
    for (const state of STATES) {
      functions[state].grantInvoke(this.stateMachine);
      acknowledge(
        this.stateMachine.role,
        wildcardResourceFinding(this, `${functions[state].functionArn}:*`),
        `lambda:InvokeFunction on the versions and aliases of exactly one function (${state} of ${vendor}); the definition invokes its unqualified ARN`,
      );
    }
    eventBus.grantPutEventsTo(this.stateMachine);
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'logging to CloudWatch Logs (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) support no resource-level permissions; test/infra checks that only these actions get "*"',
    );
  }
}

const STATES: readonly PipelineFunction[] = ['PlanRun', 'StartJob', 'CheckJob', 'ArchiveReport', 'RecordOutcome'];

// Definition substitutions: Step Functions replaces `${Name}` when the state machine is created.
const EVENT_BUS_VARIABLE = 'EventBusName';

function arnVariable(state: PipelineFunction): string {
  return `${state}FunctionArn`;
}

function placeholder(variable: string): string {
  return `\${${variable}}`;
}

/**
 * The shared definition with placeholders for the ARNs and the bus. CDK applies `timeout` only to
 * definitions it builds itself; a string definition must carry its own TimeoutSeconds, so the
 * definition that runs locally has the same bound.
 */
function boundedDefinition(props: PipelineStateMachineProps): Record<string, unknown> & { TimeoutSeconds: number } {
  const definition = reportPipelineDefinition({
    vendor: props.vendor,
    section: props.section,
    eventSource: props.eventSource,
    eventBusName: placeholder(EVENT_BUS_VARIABLE),
    functionArns: {
      PlanRun: placeholder(arnVariable('PlanRun')),
      StartJob: placeholder(arnVariable('StartJob')),
      CheckJob: placeholder(arnVariable('CheckJob')),
      ArchiveReport: placeholder(arnVariable('ArchiveReport')),
      RecordOutcome: placeholder(arnVariable('RecordOutcome')),
    },
  });
  const timeoutSeconds = executionTimeoutSeconds(props.section);
  if (definition.TimeoutSeconds !== timeoutSeconds) {
    throw new Error(
      `the ${props.vendor} pipeline definition must set TimeoutSeconds to executionTimeoutSeconds() (${timeoutSeconds}); received ${JSON.stringify(definition.TimeoutSeconds)}`,
    );
  }
  return { ...definition, TimeoutSeconds: timeoutSeconds };
}
