/**
 * Finds the deployed archive bucket and the vendor's state machine from the stack's outputs, so
 * the operator only names the config file, never an ARN.
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ARCHIVE_BUCKET_OUTPUT, stateMachineOutputKey } from '../../lib/outputs.ts';
import { BackfillError } from './errors.ts';

export { ARCHIVE_BUCKET_OUTPUT, stateMachineOutputKey } from '../../lib/outputs.ts';

export interface Deployment {
  readonly bucket: string;
  readonly stateMachineArn: string;
}

export async function findDeployment(
  cfn: CloudFormationClient,
  stackName: string,
  vendor: string,
): Promise<Deployment> {
  const wanted = [ARCHIVE_BUCKET_OUTPUT, stateMachineOutputKey(vendor)] as const;
  const region = await cfn.config.region().catch(() => 'the default region');
  let outputs: Map<string, string>;
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = new Map((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    // CloudFormation answers a missing stack with a generic ValidationError
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      throw new BackfillError(
        `stack "${stackName}" (config stackName) was not found in ${region}; expected a deployed stack with outputs ${wanted.join(' and ')} (deploy it, or pass --region)`,
      );
    }
    throw error;
  }
  const missing = wanted.filter((key) => !outputs.get(key));
  if (missing.length > 0) {
    const found = [...outputs.keys()].join(', ') || 'none';
    throw new BackfillError(
      `stack "${stackName}" in ${region} has no output ${missing.join(' or ')}; expected ${wanted.join(' and ')} (found: ${found}). Is "${vendor}" enabled in the deployed stack?`,
    );
  }
  return { bucket: outputs.get(wanted[0]) as string, stateMachineArn: outputs.get(wanted[1]) as string };
}
