/**
 * The five deployed handlers (`handler` of plan-run, start-job, check-job, archive-report,
 * record-outcome), each
 * called as Lambda calls it: `process.env` as the CDK side fills it, a cold start that builds the
 * runtime from it, its own SDK clients pointed at a local S3 and a Secrets Manager stub, and the
 * OpenAthens simulator as the vendor, all on loopback.
 */

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDays, utcDate } from '../../lambdas/core/dates.ts';
import { dataKey, manifestKey, originalKey, outcomeKey } from '../../lambdas/core/layout.ts';
import { SPOOL_DIR_NAME } from '../../lambdas/handlers/runtime.ts';
import type { PlanItem } from '../../lambdas/pipeline/plan.ts';
import type { StepResult } from '../../lambdas/pipeline/steps.ts';
import { LogCapture } from '../support/log-capture.ts';
import {
  type DeployedFunction,
  type DeployedHandlers,
  RUN_ID,
  SOFTWARE_VERSION,
  secretNameOf,
  startDeployedFunction,
  VENDOR,
} from './deployed-function.ts';

const ORGANISATION = {
  tenantId: 'example-org',
  apiName: 'example.org',
  apiKey: 'oa-key-example-org-0123456789abcdef',
  organisationId: '100042',
  attributes: [],
  rows: 25,
};

let fn: DeployedFunction;
const logs = new LogCapture();

beforeAll(async () => {
  fn = await startDeployedFunction({ organisations: [ORGANISATION] });
});
afterEach(() => logs.stop());
afterAll(async () => {
  await fn?.close();
});

/** Yesterday (UTC) on the real clock, which the deployed handlers and the simulator both use. */
function yesterday(): string {
  return addDays(utcDate(new Date()), -1);
}

async function coldStart(overrides: Record<string, string | undefined> = {}): Promise<DeployedHandlers> {
  fn.setEnvironment(overrides);
  return fn.coldStart();
}

async function objectText(key: string): Promise<string> {
  const object = await fn.s3.client.send(new GetObjectCommand({ Bucket: fn.s3.bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? '';
}

/** StartJob, then CheckJob until READY, as the state machine drives one item. */
async function startAndCheck(handlers: DeployedHandlers, item: PlanItem): Promise<StepResult> {
  const started = await handlers.startJob(fn.stepEvent(item));
  expect(started).toMatchObject({ status: 'PENDING', archived: null });
  const checked = await handlers.checkJob(fn.stepEvent(item, started));
  expect(checked).toMatchObject({ status: 'READY', deadline: started.deadline });
  return checked;
}

describe('the deployed handlers', () => {
  it('remove what a crashed invocation left in /tmp when the runtime starts again', async () => {
    // Prepare: a run killed mid-download left its spool directory behind in the sandbox
    const stale = join(fn.tmpDir, SPOOL_DIR_NAME, 'archive-crashed');
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, 'source-0'), Buffer.alloc(64 * 1024));
    // Act
    const handlers = await coldStart();
    await handlers.planRun(fn.planEvent({ scheduledTime: new Date().toISOString() }));
    // Assess
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(fn.tmpDir, SPOOL_DIR_NAME))).toBe(true);
  });

  it('plan, start, check and archive a report, reading the tenant secret from Secrets Manager, then plan nothing for it', async () => {
    // Prepare
    const handlers = await coldStart();
    const date = yesterday();
    const readsBefore = fn.secrets.reads.length;
    logs.start();

    // Act
    const plan = await handlers.planRun(fn.planEvent({ scheduledTime: new Date().toISOString(), date }));
    const item = plan.items[0] as PlanItem;
    const ready = await startAndCheck(handlers, item);
    const archived = await handlers.archiveReport(fn.stepEvent(item, ready));
    const replanned = await (await coldStart()).planRun(
      fn.planEvent({ scheduledTime: new Date().toISOString(), date }),
    );
    logs.stop();

    // Assert
    expect(plan).toMatchObject({ items: [{ tenant: fn.section.tenants[0], report: 'raw_statistics', date }] });
    const request = { vendor: VENDOR, tenant: ORGANISATION.tenantId, report: 'raw_statistics', date };
    expect(archived.status).toBe('ARCHIVED');
    // the Report Archived event's detail: exactly the documented fields
    expect(Object.keys(archived.archived ?? {}).sort()).toEqual(
      ['bytes', 'date', 'keys', 'report', 'rowCount', 'runId', 'sha256', 'tenant', 'vendor'].sort(),
    );
    expect(archived.archived).toMatchObject({
      ...request,
      runId: RUN_ID,
      rowCount: ORGANISATION.rows,
      keys: { manifest: manifestKey(request) },
    });
    const manifest = JSON.parse(await objectText(manifestKey(request)));
    expect(archived.archived?.keys.data).toBe(dataKey(request, manifest.attempt));
    expect(manifest).toMatchObject({
      software_version: SOFTWARE_VERSION,
      run_id: RUN_ID,
      row_count: ORGANISATION.rows,
    });
    expect(manifest.originals[0].key).toBe(originalKey(request, manifest.attempt, manifest.originals[0].file_name));
    // one read for the three invocations: the secret is cached across warm invocations
    expect(fn.secrets.reads.slice(readsBefore)).toEqual([secretNameOf(ORGANISATION.tenantId)]);
    expect(logs.text()).not.toContain(ORGANISATION.apiKey);
    // a later run finds the manifest and plans nothing for that date
    expect(replanned).toMatchObject({ items: [], alreadyArchived: 1 });
    // PlanRun publishes DatesAtRisk as an EMF line on stdout, where CloudWatch Logs picks it up
    const emf = logs.lines.map((line) => line.trim()).find((line) => line.includes('"DatesAtRisk"'));
    expect(JSON.parse(emf ?? '{}')).toMatchObject({ Vendor: VENDOR, DatesAtRisk: plan.atRisk.length });
  });

  it('take the archive limits from the environment of their container', async () => {
    // Prepare: a new container whose MAX_DOWNLOAD_BYTES is far below the report's size
    const handlers = await coldStart({ MAX_DOWNLOAD_BYTES: '64' });
    logs.start();
    const date = addDays(yesterday(), -1);
    const plan = await handlers.planRun(fn.planEvent({ scheduledTime: new Date().toISOString(), date }));
    const ready = await startAndCheck(handlers, plan.items[0] as PlanItem);

    // Act
    const archiving = handlers.archiveReport(fn.stepEvent(plan.items[0] as PlanItem, ready));

    // Assert
    await expect(archiving).rejects.toMatchObject({ name: 'SizeLimitError', message: expect.stringContaining('64') });
  });

  it("record an item's outcome once, in the bucket of their environment, keeping a Lambda error's message only", async () => {
    // Prepare: the failure as a Catch hands it on, its Cause the Lambda error's JSON
    const handlers = await coldStart();
    const date = yesterday();
    const request = { vendor: VENDOR, tenant: ORGANISATION.tenantId, report: 'raw_statistics', date };
    const cause = JSON.stringify({
      errorType: 'SizeLimitError',
      errorMessage: 'the download exceeded 64 bytes',
      trace: ['SizeLimitError: the download exceeded 64 bytes', '    at download (/var/task/index.mjs:1:1)'],
    });
    const event = {
      vendor: VENDOR,
      runId: RUN_ID,
      request: { tenant: request.tenant, report: request.report, date },
      ending: { outcome: 'failed' as const, error: { Error: 'SizeLimitError', Cause: cause } },
    };

    // Act
    const first = await handlers.recordOutcome(event);
    const retried = await (await coldStart()).recordOutcome(event);

    // Assert
    const key = outcomeKey(request, RUN_ID);
    expect(first).toEqual({ recorded: 'RECORDED', key });
    expect(retried).toEqual({ recorded: 'ALREADY_RECORDED', key });
    expect(JSON.parse(await objectText(key))).toMatchObject({
      vendor: VENDOR,
      tenant: ORGANISATION.tenantId,
      report_date: date,
      outcome: 'failed',
      error: 'SizeLimitError',
      reason: 'the download exceeded 64 bytes',
      run_id: RUN_ID,
    });
  });

  it('refuse to start when a variable the CDK side sets is missing, naming it', async () => {
    // Prepare
    const handlers = await coldStart({ MAX_ENTRIES: undefined });
    logs.start();

    // Act
    const planning = handlers.planRun(fn.planEvent({ scheduledTime: new Date().toISOString() }));

    // Assert
    await expect(planning).rejects.toThrow(/invalid handler environment: MAX_ENTRIES/);
  });

  it('report a secret that Secrets Manager does not have as a configuration error', async () => {
    // Prepare: a tenant whose secret was never created
    const handlers = await coldStart();
    const tenant = { ...fn.section.tenants[0], id: 'no-secret', secretName: secretNameOf('no-secret') };
    const item = { tenant, report: 'raw_statistics', date: yesterday() };
    logs.start();

    // Act
    const starting = handlers.startJob(fn.stepEvent(item));

    // Assert
    await expect(starting).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining(`secret "${secretNameOf('no-secret')}" was not found`),
    });
  });
});
