/**
 * `npm run backfill -- --vendor <id> --from <date> --to <date>`: starts the deployed vendor state
 * machine once per past date. Only wiring here; the logic is in scripts/backfill/.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { definitionFor } from '../lambdas/connectors/registry.ts';
import { ConfigValidationError, loadConfig } from '../lib/config.ts';
import { parseBackfillArgs, USAGE } from './backfill/args.ts';
import { backfillCommand } from './backfill/command.ts';
import { BackfillError, UsageError } from './backfill/errors.ts';

try {
  const options = parseBackfillArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
  } else {
    // credentials in the file do not matter here: the deployed state machine reads its own secrets
    const config = loadConfig(options.config, 'local');
    const region = options.region ?? config.env?.region;
    const clientConfig = region ? { region } : {};
    process.exitCode = await backfillCommand(options, {
      config,
      definitionFor,
      cfn: new CloudFormationClient(clientConfig),
      s3: new S3Client(clientConfig),
      // ThrottlingException is retried by the SDK with backoff; adaptive also slows the client down
      sfn: new SFNClient({ ...clientConfig, maxAttempts: 8, retryMode: 'adaptive' }),
      sleep: (ms) => sleep(ms),
      now: () => new Date(),
      print: (text) => console.log(text),
    });
  }
} catch (error) {
  if (error instanceof BackfillError || error instanceof ConfigValidationError) {
    console.error(`backfill: ${error.message}`);
    if (error instanceof UsageError) console.error(USAGE);
    process.exitCode = 2;
  } else {
    console.error(`backfill failed: ${(error as Error).name}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
