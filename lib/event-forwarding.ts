/**
 * Forwards this stack's events to an event bus in another account (`events.targetBusArn`).
 *
 * 1. A rule on the bus the pipelines put their events on matches every event of this stack's
 *    `source` (Report Archived, Failed and Skipped, and any later type) and sends it, unchanged,
 *    to the target bus.
 * 2. The target uses a role of its own, assumable by EventBridge for this account only, allowed
 *    `events:PutEvents` on the target bus's ARN and nothing else. The target bus's resource
 *    policy must let this account put events on it (README "Events" has the policy).
 * 3. An event EventBridge could not deliver after its retries (a missing resource policy, a
 *    deleted bus) lands in an encrypted, TLS-only dead-letter queue, whose alarm is
 *    `Alerts.watchDeadLetterQueue`'s: forwarding never fails silently.
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Alerts } from './alerts.ts';
import { acknowledge } from './nag.ts';

export interface EventForwardingProps {
  /** `source` of the events to forward (the `events.source` config key) */
  readonly source: string;
  /** ARN of the bus to forward to, e.g. `arn:aws:events:eu-west-1:222222222222:event-bus/identity-events` */
  readonly targetBusArn: string;
  /** the topic whose alarm watches the dead-letter queue */
  readonly alerts: Alerts;
  /**
   * The bus the pipelines put their events on.
   * @default - the account's default event bus (as `VendorPipeline`'s)
   */
  readonly eventBus?: events.IEventBus;
}

export class EventForwarding extends Construct {
  public readonly rule: events.Rule;
  public readonly role: iam.Role;
  /** events the target bus did not accept after EventBridge's retries */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    refuseOwnBus(Stack.of(this), props.targetBusArn);
    const targetBus = events.EventBus.fromEventBusArn(this, 'TargetBus', props.targetBusArn);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const deadLetterReason =
      'this queue is the dead-letter queue of the forwarding rule target (an event the other account bus did not accept after its retries); a message in it raises an alarm';
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', deadLetterReason);
    acknowledge(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', deadLetterReason);
    props.alerts.watchDeadLetterQueue('EventForwarding', this.deadLetterQueue);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Forwards the ${props.source} events to ${props.targetBusArn}`,
    });

    this.rule = new events.Rule(this, 'Rule', {
      description: `Forwards every ${props.source} event to ${props.targetBusArn}`,
      eventBus: props.eventBus,
      eventPattern: { source: [props.source] },
      // the target grants the role events:PutEvents on the target bus's ARN only
      targets: [new targets.EventBus(targetBus, { role: this.role, deadLetterQueue: this.deadLetterQueue })],
    });
  }
}

/**
 * The pipelines put their events on this account's default bus, where the forwarding rule
 * listens: a target that is that same bus would send every event back to the rule that sent it.
 * Refused when the stack's account and region are known at synth (an environment-agnostic stack
 * cannot tell).
 */
function refuseOwnBus(stack: Stack, targetBusArn: string): void {
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) return;
  const own = `:events:${stack.region}:${stack.account}:event-bus/default`;
  if (targetBusArn.endsWith(own)) {
    throw new Error(
      `events.targetBusArn ${targetBusArn} is this stack's own default bus, where its events are put: forwarding them there would loop; expected a bus in another account or region, or a custom bus`,
    );
  }
}
