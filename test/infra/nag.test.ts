/**
 * cdk-nag (AwsSolutions and Serverless packs, v3 validation plugins): no unacknowledged finding,
 * and every acknowledgement is narrow and states its evidence.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Built, buildExample, removeOutdir } from './support.ts';

interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs: { constructPath: string }[];
}
interface ValidationReport {
  readonly pluginReports: { pluginName: string; violations: Violation[] }[];
}

function withNag(app: App): App {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

function synthError(app: App): Error | undefined {
  try {
    app.synth();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

function* walk(construct: IConstruct): Generator<IConstruct> {
  yield construct;
  for (const child of construct.node.children) yield* walk(child);
}

let built: Built;
let error: Error | undefined;
let report: ValidationReport;

beforeAll(() => {
  built = buildExample();
  error = synthError(withNag(built.app));
  report = JSON.parse(fs.readFileSync(path.join(built.app.outdir, 'validation-report.json'), 'utf8'));
});

afterAll(() => removeOutdir(built.app));

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the AwsSolutions and Serverless packs', () => {
    const findings = report.pluginReports
      .filter((r) => r.pluginName === 'AwsSolutions' || r.pluginName === 'Serverless')
      .flatMap((r) => r.violations.map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath)}`));
    expect(findings).toEqual([]);
    expect(error?.message).toBeUndefined();
  });

  it('has only narrow acknowledgements, each with its evidence', () => {
    const acknowledgements: { id: string; reason: string; at: string; construct: IConstruct }[] = [];
    for (const construct of walk(built.app)) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledgements.push({ id, reason, at: construct.node.path, construct });
        }
      }
    }
    const ours = acknowledgements.filter((a) => /(AwsSolutions|Serverless)-/.test(a.id));
    expect(ours.length).toBeGreaterThan(0);
    for (const a of ours) {
      // never on the app or a whole stack
      expect(a.construct instanceof App || a.construct instanceof Stack, a.at).toBe(false);
      // IAM findings only finding by finding
      if (/AwsSolutions-IAM[45]/.test(a.id)) expect(a.id, a.at).toMatch(/\[(Resource|Action|Policy)::.+\]$/);
      // evidence, not "not needed"
      expect(a.reason.length, `${a.id} at ${a.at}`).toBeGreaterThanOrEqual(80);
    }
  });

  it('is live: an unacknowledged finding fails synth', () => {
    // Prepare
    const app = new App({ builtinCloudFormationValidation: false });
    new s3.Bucket(new Stack(app, 'Careless'), 'Bucket');
    // Act
    const failure = synthError(withNag(app));
    // Assess
    expect(failure?.message).toMatch(/AwsSolutions-S1/);
    expect(failure?.message).toMatch(/AwsSolutions-S10/);
  });
});
