/**
 * `npm run legal-hold -- --vendor <id> --from <date> --to <date> --on|--off`: places or lifts an S3
 * Object Lock legal hold on a vendor's archived reports. Only wiring here; the logic is in
 * scripts/legal-hold/.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigValidationError, loadConfig } from '../lib/config.ts';
import { parseLegalHoldArgs, USAGE, UsageError } from './legal-hold/args.ts';
import { legalHoldCommand } from './legal-hold/command.ts';
import { LegalHoldError } from './legal-hold/errors.ts';

try {
  const options = parseLegalHoldArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
  } else {
    // credentials in the file do not matter here: only its stackName and env.region are read
    const config = loadConfig(options.config, 'local');
    const region = options.region ?? config.env?.region;
    const clientConfig = region ? { region } : {};
    process.exitCode = await legalHoldCommand(options, {
      s3: new S3Client(clientConfig),
      cfn: new CloudFormationClient(clientConfig),
      stackName: () => config.stackName,
      print: (text) => console.log(text),
    });
  }
} catch (error) {
  if (error instanceof LegalHoldError || error instanceof ConfigValidationError) {
    console.error(`legal-hold: ${error.message}`);
    if (error instanceof UsageError) console.error(USAGE);
    process.exitCode = 2;
  } else {
    console.error(`legal-hold failed: ${(error as Error).name}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
