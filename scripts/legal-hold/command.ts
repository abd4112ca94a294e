/**
 * The legal-hold command with its clients handed in (the local archive is refused by args.ts):
 * find the bucket, apply the hold, print the report. Returns the exit status (see USAGE in args.ts).
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_BUCKET_OUTPUT } from '../../lib/outputs.ts';
import type { LegalHoldOptions } from './args.ts';
import { LegalHoldError } from './errors.ts';
import { formatReport } from './format.ts';
import { applyLegalHold } from './holds.ts';

export interface LegalHoldCommandDeps {
  readonly s3: S3Client;
  readonly cfn: CloudFormationClient;
  /** the deployed stack's name (config `stackName`), to find the bucket when --bucket is not given */
  readonly stackName: () => string;
  readonly print: (text: string) => void;
}

export async function legalHoldCommand(options: LegalHoldOptions, deps: LegalHoldCommandDeps): Promise<number> {
  const bucket = options.bucket ?? (await archiveBucketOf(deps.cfn, deps.stackName()));
  const report = await applyLegalHold(
    deps.s3,
    {
      bucket,
      vendor: options.vendor,
      from: options.from,
      to: options.to,
      ...(options.tenant ? { tenant: options.tenant } : {}),
      ...(options.report ? { report: options.report } : {}),
    },
    { status: options.status, dryRun: options.dryRun },
  );
  deps.print(formatReport(report, options));
  // a hold on nothing is more likely a misspelt vendor, tenant or report than an empty range
  const found = Object.values(report.kinds).reduce((sum, counts) => sum + counts.versions, 0);
  return report.failures.length > 0 || found === 0 ? 1 : 0;
}

/** The bucket from the stack's ArchiveBucketName output. */
async function archiveBucketOf(cfn: CloudFormationClient, stackName: string): Promise<string> {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName })).catch((error: Error) => {
    throw new LegalHoldError(`stack "${stackName}" could not be read (${error.name}: ${error.message}); pass --bucket`);
  });
  const bucket = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === ARCHIVE_BUCKET_OUTPUT)?.OutputValue;
  if (!bucket) throw new LegalHoldError(`stack "${stackName}" has no output ${ARCHIVE_BUCKET_OUTPUT}; pass --bucket`);
  return bucket;
}
