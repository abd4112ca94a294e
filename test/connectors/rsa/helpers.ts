/**
 * Test helpers: a connector context pointed at the RSA simulator over loopback HTTP, a clock
 * both sides share, and reading a fetched source the way the archiver would.
 */
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { parse } from 'csv-parse/sync';
import {
  type RsaCredentials,
  RsaCredentialsSchema,
  type RsaSection,
  RsaSectionSchema,
  type RsaTenant,
} from '../../../lambdas/connectors/rsa/settings.ts';
import { createHttpClient } from '../../../lambdas/core/http/index.ts';
import type { ConnectorContext, FetchResult, JsonObject, ReportRequest } from '../../../lambdas/core/types.ts';
import { localVendorSection, type RsaSimulator } from '../../../simulators/rsa/server.ts';

export const T0 = Date.UTC(2026, 4, 14, 2, 30, 0);

/** A clock the simulator and the connector share; tests move it instead of sleeping. */
export function fakeClock(start = T0) {
  let now = start;
  return {
    now: () => now,
    date: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

export type Clock = ReturnType<typeof fakeClock>;

export interface LogCapture {
  readonly lines: string[];
}

/** A Powertools logger whose output lands in `lines` (JSON strings). */
export function capturingLogger(): { logger: Logger; capture: LogCapture } {
  const lines: string[] = [];
  const logger = new Logger({ serviceName: 'rsa-test', logLevel: 'DEBUG' });
  // Powertools writes through its own Console; route that to memory.
  const sink = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  };
  const internal = logger as unknown as { console: Record<string, unknown> };
  internal.console = { log: sink, info: sink, warn: sink, error: sink, debug: sink, trace: sink };
  return { logger, capture: { lines } };
}

export interface ContextOptions {
  readonly tenantId?: string;
  readonly clock?: Clock;
  /** raw section overrides (schedule, poll, initialWaitSeconds …) */
  readonly section?: Record<string, unknown>;
  /** tenant fields besides id and credentials (e.g. baseUrl) */
  readonly tenant?: Record<string, unknown>;
  /** replaces the key file */
  readonly credentials?: Record<string, unknown>;
  /** default: the simulator's host and the tenant baseUrl's */
  readonly allowedHosts?: readonly string[];
}

export function rsaContext(sim: RsaSimulator, options: ContextOptions = {}) {
  // the documented defaults, not the local-run poll budget
  const { poll: _poll, initialWaitSeconds: _wait, ...local } = localVendorSection(sim);
  const tenantId = options.tenantId ?? 'acme';
  const localTenant = local.tenants.find((t) => t.id === tenantId);
  if (!localTenant) throw new Error(`no simulator tenant ${tenantId}`);
  const section: RsaSection = RsaSectionSchema.parse({
    ...local,
    tenants: [{ ...localTenant, ...options.tenant, credentials: options.credentials ?? localTenant.credentials }],
    ...options.section,
  });
  const tenant = section.tenants[0] as RsaTenant;
  const credentials: RsaCredentials = RsaCredentialsSchema.parse(tenant.credentials);
  const { logger, capture } = capturingLogger();
  const host = new URL(sim.baseUrl).host;
  const clock = options.clock;
  const ctx: ConnectorContext<RsaTenant, RsaCredentials, RsaSection> = {
    settings: section,
    tenant,
    baseUrl: tenant.baseUrl ?? section.baseUrl,
    credentials: async () => credentials,
    http: createHttpClient({
      allowedHosts: options.allowedHosts ?? [host],
      logger,
      maxRetries: 1,
      baseDelayMs: 1,
      maxDelayMs: 5,
    }),
    logger,
    now: clock ? clock.date : () => new Date(),
  };
  return { ctx, logs: capture, credentials };
}

export function reportRequest(report: string, tenant = 'acme'): ReportRequest {
  return { vendor: 'rsa', tenant, report, date: '2026-05-14', runId: 'test-run' };
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The bytes of a FETCHED result's only source. */
export async function fetchedBytes(
  result: FetchResult,
): Promise<{ bytes: Buffer; fileName: string; contentType?: string }> {
  if (result.status !== 'FETCHED') throw new Error(`expected FETCHED; received ${result.status}`);
  const [source] = result.sources;
  if (!source || result.sources.length !== 1) throw new Error('expected exactly one source');
  const opened = await source.open();
  return { bytes: await readAll(opened.body), fileName: source.fileName, contentType: opened.contentType };
}

/** Stand-in for the archiver's CSV reader: BOM, CRLF, quoted fields; records keyed by header. */
export function parseCsv(bytes: Buffer): Record<string, string>[] {
  const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return parse(text, { bom: true, columns: true, relax_quotes: false, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
}

/** Everything a connector returned that travels through the state machine. */
export function travelling(result: { job: JsonObject; reason?: string }): string {
  return JSON.stringify({ job: result.job, reason: result.reason ?? null });
}
