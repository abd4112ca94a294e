/**
 * The CDK app: reads the config named by context `config`, creates the stack, runs cdk-nag.
 *
 *   npx cdk synth                                 # config/example.json
 *   npx cdk deploy --context config=my-config.json
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ArchiveStack } from '../lib/archive-stack.ts';
import { type AppConfig, ConfigValidationError, loadConfig } from '../lib/config.ts';
import packageJson from '../package.json' with { type: 'json' };

const DEFAULT_CONFIG = 'config/example.json';

const app = new App();
const configPath = String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG);

let config: AppConfig;
try {
  config = loadConfig(configPath, 'deploy');
} catch (error) {
  if (!(error instanceof ConfigValidationError)) throw error;
  // the message names every bad field; a stack trace would only bury it
  console.error(error.message);
  process.exit(1);
}

new ArchiveStack(app, 'IdentityReportArchive', {
  stackName: config.stackName,
  env: config.env,
  config,
  softwareVersion: packageJson.version,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
