/**
 * The deployed target of the archive commands: the config file it was deployed from (its
 * `stackName`, its `env.region`) and the stack's outputs, read once with DescribeStacks, so an
 * operator names the config file and never a bucket, workgroup or ARN.
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { type AppConfig, loadConfig } from '../../lib/config.ts';
import type { ArchiveTarget } from '../local/archive-args.ts';
import { UsageError } from '../local/command.ts';

export interface DeployedStack {
  readonly config: AppConfig;
  /** `--region`, else the file's `env.region`; undefined leaves it to the SDK */
  readonly region?: string;
}

/** The config of a deployed target, parsed as `cdk deploy` parses it, and the region chosen. */
export function deployedStack(target: Extract<ArchiveTarget, { kind: 'deployed' }>): DeployedStack {
  const config = loadConfig(target.config, 'deploy');
  const region = target.region ?? config.env?.region;
  return { config, ...(region !== undefined ? { region } : {}) };
}

/** The client config for the region chosen: an empty one leaves the region to the SDK. */
export function clientConfigOf(stack: DeployedStack): { region?: string } {
  return stack.region !== undefined ? { region: stack.region } : {};
}

/** The stack's outputs by key; a stack that cannot be read is a UsageError (exit 2), never a finding. */
export async function stackOutputs(cfn: CloudFormationClient, stackName: string): Promise<Map<string, string>> {
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return new Map((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    if ((error as Error).name === 'ValidationError') {
      throw new UsageError(`stack "${stackName}" (config stackName) was not found: ${(error as Error).message}`);
    }
    // no region, no credentials, no network: the stack is unknown
    throw new UsageError(
      `stack "${stackName}" could not be read (${String(error)}): check AWS credentials and --region`,
    );
  }
}

/** One output's value, or a UsageError naming the output the stack lacks. */
export function requiredOutput(outputs: ReadonlyMap<string, string>, stackName: string, key: string): string {
  const value = outputs.get(key);
  if (!value) throw new UsageError(`stack "${stackName}" has no output ${key}`);
  return value;
}
