/** Shared test plumbing: a PingOne connector context on the real HTTP client, pointed at the simulator. */
import { Logger } from '@aws-lambda-powertools/logger';
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import { parse } from 'csv-parse/sync';
import { resetPingOneClientState } from '../../../lambdas/connectors/pingone/client.ts';
import { pingOneDefinition } from '../../../lambdas/connectors/pingone/definition.ts';
import type { PingOneContext } from '../../../lambdas/connectors/pingone/environment.ts';
import { createPingOneRuntime } from '../../../lambdas/connectors/pingone/runtime.ts';
import {
  type PingOneCredentials,
  type PingOneSection,
  PingOneSectionSchema,
} from '../../../lambdas/connectors/pingone/settings.ts';
import { createHttpClient } from '../../../lambdas/core/http/index.ts';
import type { FetchResult, JobResult, ReportRequest } from '../../../lambdas/core/types.ts';
import {
  localVendorSection,
  type PingOneSimulator,
  type PingOneSimulatorOptions,
  startPingOneSimulator,
} from '../../../simulators/pingone/server.ts';

const pingOneRuntime = createPingOneRuntime();

configure({ useWebWorkers: false, useCompressionStream: false });

/** Short enough for quick tests, long enough to be told apart from no spacing at all. */
export const WINDOW_MS = 20;

export const TENANT_A = 'sim-env-a';
export const TENANT_B = 'sim-env-b';

export async function startSim(options: PingOneSimulatorOptions = {}): Promise<PingOneSimulator> {
  resetPingOneClientState();
  return startPingOneSimulator({ rateLimitWindowMs: WINDOW_MS, rowsPerEnvironment: 60, ...options });
}

export interface ContextOptions {
  readonly tenantId?: string;
  readonly section?: Record<string, unknown>;
  readonly tenant?: Record<string, unknown>;
  readonly credentials?: PingOneCredentials;
  readonly now?: () => Date;
  readonly logger?: Logger;
  readonly allowedHosts?: readonly string[];
  readonly maxRetries?: number;
}

export function settingsFor(sim: PingOneSimulator, options: ContextOptions = {}): PingOneSection {
  const base = localVendorSection(sim) as Record<string, unknown> & { tenants: Record<string, unknown>[] };
  const tenants = base.tenants.map((t) =>
    t.id === (options.tenantId ?? TENANT_A) ? { ...t, ...(options.tenant ?? {}) } : t,
  );
  return PingOneSectionSchema.parse({ ...base, ...(options.section ?? {}), tenants });
}

export function contextFor(sim: PingOneSimulator, options: ContextOptions = {}): PingOneContext {
  const settings = settingsFor(sim, options);
  const tenant = settings.tenants.find((t) => t.id === (options.tenantId ?? TENANT_A));
  if (!tenant) throw new Error(`no tenant ${options.tenantId}`);
  const credentials =
    options.credentials ?? pingOneDefinition.credentialsSchema.parse(tenant.credentials as Record<string, unknown>);
  const logger = options.logger ?? new Logger({ serviceName: 'pingone-test', logLevel: 'SILENT' });
  const { tenants: _tenants, ...vendorSettings } = settings;
  return {
    settings: vendorSettings as PingOneSection,
    tenant,
    baseUrl: tenant.baseUrl ?? settings.baseUrl,
    credentials: async () => credentials,
    http: createHttpClient({
      // What the shared step builds: the API host plus downloadHosts (which carry the auth host).
      allowedHosts: options.allowedHosts ?? [new URL(settings.baseUrl).host, ...settings.downloadHosts],
      logger,
      baseDelayMs: 1,
      maxDelayMs: 5,
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    }),
    logger,
    now: options.now ?? (() => new Date()),
  };
}

export function requestFor(ctx: PingOneContext, date = '2026-11-22'): ReportRequest {
  return { vendor: 'pingone', tenant: ctx.tenant.id, report: 'mfa_devices', date, runId: 'test-run' };
}

export interface FlowResult {
  readonly steps: JobResult[];
  readonly fetched: FetchResult;
}

/**
 * start → check (while PENDING) → fetch, as the state machine does minus its waits. With
 * `freshContainers`, the module state (token cache, limiter) is dropped before each step, as if
 * every step ran in a new Lambda container: only `job` carries the spacing.
 */
export async function runFlow(
  ctx: PingOneContext,
  options: { maxRounds?: number; freshContainers?: boolean } = {},
): Promise<FlowResult> {
  const request = requestFor(ctx);
  const fresh = () => {
    if (options.freshContainers) resetPingOneClientState();
  };
  const steps: JobResult[] = [];
  fresh();
  let last: JobResult = await pingOneRuntime.startJob(ctx, request);
  steps.push(last);
  for (let round = 0; round < (options.maxRounds ?? 20); round++) {
    if (last.status === 'PENDING') {
      fresh();
      last = await pingOneRuntime.checkJob(ctx, request, last.job);
      steps.push(last);
      continue;
    }
    if (last.status !== 'READY') return { steps, fetched: last };
    fresh();
    const fetched = await pingOneRuntime.fetchReport(ctx, request, last.job);
    if (fetched.status === 'FETCHED') return { steps, fetched };
    steps.push(fetched);
    last = fetched;
  }
  return { steps, fetched: last };
}

export async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export interface OpenedFile {
  readonly fileName: string;
  readonly role: string;
  readonly bytes: Buffer;
  readonly password?: string;
}

export async function openAll(fetched: FetchResult): Promise<OpenedFile[]> {
  if (fetched.status !== 'FETCHED') throw new Error(`expected FETCHED; received ${fetched.status}: ${fetched.reason}`);
  // opened and read together, as the archiver does: paged sources fill from one pass
  const opened = await Promise.all(fetched.sources.map((source) => source.open()));
  const bytes = await Promise.all(opened.map((body) => readAll(body.body)));
  return fetched.sources.map((source, i) => ({
    fileName: source.fileName,
    role: source.role,
    bytes: bytes[i]!,
    ...(source.password ? { password: source.password } : {}),
  }));
}

/** The first entry of an encrypted zip, as the archiver core reads it (zip.js, password). */
export async function unzipText(
  bytes: Buffer,
  password: string | undefined,
): Promise<{ text: string; zipCrypto: boolean }> {
  const reader = new ZipReader(new Uint8ArrayReader(new Uint8Array(bytes)), password ? { password } : {});
  const [entry] = await reader.getEntries();
  if (!entry || entry.directory) throw new Error('empty zip');
  const data = await entry.getData(new Uint8ArrayWriter());
  await reader.close();
  return { text: Buffer.from(data).toString('utf8'), zipCrypto: entry.zipCrypto === true };
}

/** Rows of the data source, parsed the way the archiver does (CSV by header, or NDJSON). */
export async function dataRows(fetched: FetchResult): Promise<Record<string, unknown>[]> {
  const files = await openAll(fetched);
  const data = files.find((f) => f.role === 'data' || f.role === 'derived');
  if (!data) throw new Error('no data source');
  if (data.bytes[0] === 0x50 && data.bytes[1] === 0x4b) {
    const { text } = await unzipText(data.bytes, data.password);
    return parse(text, { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
  }
  return data.bytes
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every string that must never leave the connector: tokens, zip passwords, client secrets. */
export function secretsOf(sim: PingOneSimulator): string[] {
  return [...sim.issuedSecrets, ...sim.environments.map((e) => e.clientSecret)];
}

/** What the connector returns, minus the sources' own `password` (the archiver needs that one). */
export function returnedText(value: JobResult | FetchResult): string {
  if (value.status === 'FETCHED' && 'sources' in value) {
    const { sources, ...rest } = value;
    return JSON.stringify({ ...rest, sources: sources.map((s) => ({ fileName: s.fileName, role: s.role })) });
  }
  return JSON.stringify(value);
}

export function expectNoSecrets(texts: readonly string[], secrets: readonly string[]): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const text of texts) {
      if (secret.length > 0 && text.includes(secret)) leaks.push(`${secret.slice(0, 4)}… in ${text.slice(0, 80)}`);
    }
  }
  return leaks;
}

/** Gaps between consecutive dataExplorations calls per environment, as the simulator saw them. */
export function callGaps(sim: PingOneSimulator): number[] {
  const byEnv = new Map<string, number[]>();
  for (const r of sim.requests) {
    if (r.server !== 'api' || r.environmentId === undefined) continue;
    byEnv.set(r.environmentId, [...(byEnv.get(r.environmentId) ?? []), r.at]);
  }
  const gaps: number[] = [];
  for (const times of byEnv.values()) {
    for (let i = 1; i < times.length; i++) gaps.push((times[i] as number) - (times[i - 1] as number));
  }
  return gaps;
}

export { LogCapture } from '../../support/log-capture.ts';
