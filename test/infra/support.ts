/**
 * Shared by the infrastructure tests: the test configuration (config/example.json), the app
 * every test stack is built in, one synth of the stack with the real connector registry, and
 * template helpers. Each test file synthesizes once, in its beforeAll.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { ArchiveStack } from '../../lib/archive-stack.ts';
import { type AppConfig, loadConfig, parseConfig } from '../../lib/config.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// The same for apps a test builds itself (`new App(...)`): aws-cdk-lib skips its built-in
// CloudFormation validation when CDK_VALIDATION is "false" (see testApp() for why).
process.env.CDK_VALIDATION = 'false';
export const EXAMPLE_CONFIG = path.join(ROOT, 'config', 'example.json');

// ---------------------------------------------------------------------------------------------
// Synth

export interface Built {
  readonly app: App;
  readonly stack: ArchiveStack;
  readonly config: AppConfig;
}

export interface Synthesized extends Built {
  readonly template: Template;
}

/**
 * An app for a test stack: the feature flags of cdk.json, a cloud assembly in its own temporary
 * directory, and
 * - no bundling of the functions (`aws:cdk:bundling-stacks: []`): the template is the same, only
 *   the asset contents differ;
 * - no built-in CloudFormation validation: `cdk synth` runs it too, but it only warns, and loading
 *   its resource specification takes most of a test file's time (about 15 s on first use).
 */
export function testApp(): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'infra-test-')),
    builtinCloudFormationValidation: false,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
  });
}

/** Builds (does not synthesize) the stack for `config/example.json` (or another config) in a `testApp()`. */
export function buildExample(configPath = EXAMPLE_CONFIG): Built {
  const config = loadConfig(configPath, 'deploy');
  const app = testApp();
  const stack = new ArchiveStack(app, 'IdentityReportArchive', { config, softwareVersion: '0.0.0-test' });
  return { app, stack, config };
}

/** Removes the cloud assembly a test synthesized into. */
export function removeOutdir(app: App | undefined): void {
  if (app) fs.rmSync(app.outdir, { recursive: true, force: true });
}

export function synthExample(configPath = EXAMPLE_CONFIG): Synthesized {
  const built = buildExample(configPath);
  return { ...built, template: Template.fromStack(built.stack) };
}

/** The example config with its `catalog` section extended by `catalog`, parsed for deploy and synthesized. */
export function synthWithCatalog(catalog: Record<string, unknown>): Synthesized {
  const raw = JSON.parse(fs.readFileSync(EXAMPLE_CONFIG, 'utf8')) as { catalog: Record<string, unknown> };
  const config = parseConfig({ ...raw, catalog: { ...raw.catalog, ...catalog } }, 'test', 'deploy');
  const app = testApp();
  const stack = new ArchiveStack(app, 'IdentityReportArchive', { config, softwareVersion: '0.0.0-test' });
  return { app, stack, config, template: Template.fromStack(stack) };
}

/** The `context` of cdk.json (feature flags and the default config path). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

// ---------------------------------------------------------------------------------------------
// Template helpers

export interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}
export type Resources = Record<string, Resource>;

/** The template's resources, each with `Properties` (empty when the resource has none). */
export function resourcesById(template: Template): Resources {
  const raw = template.toJSON().Resources as Record<
    string,
    Omit<Resource, 'Properties'> & { Properties?: Resource['Properties'] }
  >;
  return Object.fromEntries(Object.entries(raw).map(([id, r]) => [id, { ...r, Properties: r.Properties ?? {} }]));
}

/** The statements of a policy document property (`PolicyDocument`, `KeyPolicy`). */
export function documentStatements(document: unknown): Statement[] {
  return (document as { Statement?: Statement[] } | undefined)?.Statement ?? [];
}

/** The logical id of a CloudFormation element, or of an L2's default child. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(element);
}

/**
 * Renders a CloudFormation value as text: `Fn::Join` is joined, `Ref` becomes `<Id>`, `Fn::GetAtt`
 * `<Id.Attr>`, pseudo parameters `<AWS::Region>`. Enough to compare IAM resources and ARNs.
 */
export function render(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  return JSON.stringify(value);
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
  readonly Sid?: string;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every identity policy attached to a role (inline or AWS::IAM::Policy). */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const resources = resourcesById(template);
  const statements: Statement[] = [];
  for (const policy of asArray(resources[roleId]?.Properties.Policies as { PolicyDocument: unknown }[] | undefined)) {
    statements.push(...documentStatements(policy.PolicyDocument));
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = asArray(resource.Properties.Roles as unknown[] | undefined).map(render);
    if (!roles.includes(`<${roleId}>`)) continue;
    statements.push(...documentStatements(resource.Properties.PolicyDocument));
  }
  return statements;
}

/** Statements that allow at least one action of a service, e.g. `s3`. */
export function statementsFor(statements: Statement[], service: string): Statement[] {
  return statements.filter(
    (s) => s.Effect === 'Allow' && asArray(s.Action).some((a) => a.toLowerCase().startsWith(`${service}:`)),
  );
}

export function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(resourcesById(template)).filter(([, r]) => r.Type === type);
}
