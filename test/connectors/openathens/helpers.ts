/** Shared test plumbing: a connector context on a real HTTP client, pointed at the simulator. */

import { gunzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import yauzl from 'yauzl';
import type { OpenAthensContext } from '../../../lambdas/connectors/openathens/client.ts';
import { openAthensDefinition } from '../../../lambdas/connectors/openathens/definition.ts';
import { createOpenAthensRuntime } from '../../../lambdas/connectors/openathens/runtime.ts';
import {
  type OpenAthensCredentials,
  OpenAthensSectionSchema,
} from '../../../lambdas/connectors/openathens/settings.ts';
import { createHttpClient } from '../../../lambdas/core/http/index.ts';
import type { FetchResult, JobResult, ReportRequest } from '../../../lambdas/core/types.ts';
import { localVendorSection, type OpenAthensSimulator } from '../../../simulators/openathens/server.ts';

const openAthensRuntime = createOpenAthensRuntime();

const quiet = new Logger({ serviceName: 'openathens-test', logLevel: 'SILENT' });

export interface ContextOptions {
  readonly tenantId?: string;
  /** credentials other than the simulator's key for the tenant */
  readonly credentials?: OpenAthensCredentials;
  readonly now?: () => Date;
  readonly extraHosts?: readonly string[];
  /** keep the vendor default poll settings (20 s) instead of the local section's */
  readonly defaultPoll?: boolean;
  readonly sleeps?: number[];
  readonly maxRetries?: number;
  /** default: a silent logger */
  readonly logger?: Logger;
}

export function contextFor(sim: OpenAthensSimulator, options: ContextOptions = {}): OpenAthensContext {
  const { poll, ...section } = localVendorSection(sim);
  const settings = OpenAthensSectionSchema.parse(options.defaultPoll ? section : { ...section, poll });
  const tenant = settings.tenants.find((t) => t.id === (options.tenantId ?? 'example-org'));
  if (!tenant) throw new Error(`no tenant ${options.tenantId}`);
  const credentials =
    options.credentials ?? openAthensDefinition.credentialsSchema.parse(tenant.credentials as Record<string, unknown>);
  const sleeps = options.sleeps;
  const logger = options.logger ?? quiet;
  return {
    settings,
    tenant,
    baseUrl: tenant.baseUrl ?? settings.baseUrl,
    credentials: async () => credentials,
    http: createHttpClient({
      allowedHosts: [sim.host, ...(options.extraHosts ?? [])],
      logger,
      baseDelayMs: 1,
      maxDelayMs: 5,
      maxRetries: options.maxRetries,
      sleep: async (ms) => {
        sleeps?.push(ms);
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
    }),
    logger,
    now: options.now ?? (() => new Date()),
  };
}

export function yesterday(now = new Date()): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

export function requestFor(ctx: OpenAthensContext, date: string): ReportRequest {
  return { vendor: 'openathens', tenant: ctx.tenant.id, report: 'raw_statistics', date, runId: 'test-run' };
}

export interface FlowResult {
  readonly steps: JobResult[];
  readonly fetched: FetchResult;
}

/** start → check (while PENDING, at most `maxChecks`) → fetch, as the state machine would, minus the waits. */
export async function runFlow(
  ctx: OpenAthensContext,
  request: ReportRequest,
  options: { maxChecks?: number; pauseMs?: number } = {},
): Promise<FlowResult> {
  const steps: JobResult[] = [await openAthensRuntime.startJob(ctx, request)];
  let last = steps[0] as JobResult;
  let checks = 0;
  while (last.status === 'PENDING' && checks < (options.maxChecks ?? 20)) {
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    last = await openAthensRuntime.checkJob(ctx, request, last.job);
    steps.push(last);
    checks += 1;
  }
  if (last.status !== 'READY') return { steps, fetched: last };
  return { steps, fetched: await openAthensRuntime.fetchReport(ctx, request, last.job) };
}

export async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function openSource(fetched: FetchResult): Promise<{ bytes: Buffer; contentType?: string }> {
  if (fetched.status !== 'FETCHED') throw new Error(`expected FETCHED; received ${fetched.status}`);
  const [source] = fetched.sources;
  if (!source) throw new Error('no source');
  const opened = await source.open();
  return { bytes: await readAll(opened.body), contentType: opened.contentType };
}

function unzipFirst(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      zip.once('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          readAll(stream).then(resolve, reject);
        });
      });
      zip.readEntry();
    });
  });
}

/** Decodes by magic bytes, as the archiver core does. */
export async function decode(bytes: Buffer): Promise<{ format: 'gzip' | 'zip' | 'plain'; text: string }> {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return { format: 'gzip', text: gunzipSync(bytes).toString('utf8') };
  if (bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    return { format: 'zip', text: (await unzipFirst(bytes)).toString('utf8') };
  }
  return { format: 'plain', text: bytes.toString('utf8') };
}
