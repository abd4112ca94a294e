import type { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { type CspRuntime, createCspRuntime } from '../../../lambdas/connectors/csp/runtime.ts';
import {
  type CspCredentials,
  CspCredentialsSchema,
  type CspSection,
  CspSectionSchema,
  type CspTenant,
} from '../../../lambdas/connectors/csp/settings.ts';
import type { ManifestEntry } from '../../../lambdas/core/archive/manifest.ts';
import { createHttpClient } from '../../../lambdas/core/http/index.ts';
import type { ConnectorContext, ReportRequest } from '../../../lambdas/core/types.ts';
import { type CspSimulator, localVendorSection } from '../../../simulators/csp/server.ts';
import { LOCAL_SINCE } from '../../../simulators/local-since.ts';

export type CspTestContext = ConnectorContext<CspTenant, CspCredentials, CspSection>;

/** Events of the default simulator fall in [2026-11-13, 2026-11-20). */
export const ANCHOR = '2026-11-20T00:00:00.000Z';
export const DATE = '2026-11-18';
export const DAY_START = Date.parse(`${DATE}T00:00:00Z`);
export const DAY_END = DAY_START + 86_400_000;
/** The run's "now": the morning after the anchor day. */
export const NOW = new Date('2026-11-20T01:30:00.000Z');
export const simClock = () => NOW;

export function silentLogger(): Logger {
  return new Logger({ serviceName: 'csp-test', logLevel: 'SILENT' });
}

export interface ContextOptions {
  /** section fields besides baseUrl/tenants (pageLimit, maxRecordsPerWindow, ...) */
  readonly section?: Record<string, unknown>;
  /** tenant id; default the first */
  readonly tenantId?: string;
  /** fields merged into the tenant after parsing (for filters the schema would refuse) */
  readonly tenantOverride?: Partial<CspTenant>;
  readonly now?: Date;
  readonly logger?: Logger;
  readonly credentials?: CspCredentials;
  /** tenants beyond the simulator's defaults (e.g. the service account) */
  readonly includeAllUsers?: boolean;
}

export function sectionFor(sim: CspSimulator, options: ContextOptions = {}): CspSection {
  const raw = localVendorSection(sim, options.section ?? {});
  if (options.includeAllUsers) {
    raw.tenants = sim.users.map((u) => ({
      id: u.id,
      since: LOCAL_SINCE,
      label: u.username,
      credentials: { apiToken: u.apiToken },
    }));
  }
  return CspSectionSchema.parse(raw);
}

export function contextFor(sim: CspSimulator, options: ContextOptions = {}): CspTestContext {
  const settings = sectionFor(sim, options);
  const parsed = options.tenantId ? settings.tenants.find((t) => t.id === options.tenantId) : settings.tenants[0];
  if (!parsed) throw new Error(`no tenant ${options.tenantId}`);
  const tenant = { ...parsed, ...options.tenantOverride } as CspTenant;
  const logger = options.logger ?? silentLogger();
  const host = new URL(sim.baseUrl).host;
  return {
    settings,
    tenant,
    baseUrl: tenant.baseUrl ?? settings.baseUrl,
    credentials: async () => options.credentials ?? CspCredentialsSchema.parse(tenant.credentials),
    http: createHttpClient({ allowedHosts: [host], logger, baseDelayMs: 1, maxDelayMs: 5 }),
    logger,
    now: () => options.now ?? NOW,
  };
}

export function requestFor(ctx: CspTestContext, date = DATE): ReportRequest {
  return { vendor: 'csp', tenant: ctx.tenant.id, report: 'mfa_audit', date, runId: 'test-run' };
}

export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

export interface NdjsonLine {
  readonly tenantLabel: string;
  readonly event: { eventId: string; eventDate: number; action: string; [key: string]: unknown };
}

export function parseLines(text: string): NdjsonLine[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as NdjsonLine);
}

/** start → check → fetch → open → read, as the state machine and archiver would. */
export async function runFlow(
  ctx: CspTestContext,
  connector: CspRuntime = createCspRuntime(),
  date = DATE,
): Promise<{
  text: string;
  lines: NdjsonLine[];
  fileName: string;
  original: Buffer;
  parts: ManifestEntry[];
  dropped: Record<string, number>;
}> {
  const request = requestFor(ctx, date);
  const started = await connector.startJob(ctx, request);
  if (started.status !== 'READY') throw new Error(`startJob: ${started.status} ${started.reason}`);
  const checked = await connector.checkJob(ctx, request, started.job);
  if (checked.status !== 'READY') throw new Error(`checkJob: ${checked.status} ${checked.reason}`);
  const fetched = await connector.fetchReport(ctx, request, checked.job);
  if (fetched.status !== 'FETCHED') throw new Error(`fetchReport: ${fetched.status}`);
  const [derived, original] = fetched.sources;
  if (derived?.role !== 'derived' || original?.role !== 'original')
    throw new Error('expected a derived and an original source');
  // the archiver opens and reads both at once: they fill from one paging pass
  const [d, o] = await Promise.all([derived.open(), original.open()]);
  const [text, raw] = await Promise.all([readText(d.body), readBytes(o.body)]);
  return {
    text,
    lines: parseLines(text),
    fileName: derived.fileName,
    original: raw,
    parts: o.parts?.() ?? [],
    dropped: d.dropped?.() ?? {},
  };
}

export async function readBytes(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** Audit requests the simulator answered, with their bodies. */
export function auditCalls(sim: CspSimulator) {
  return sim.requests
    .filter((r) => r.path.endsWith('/principal/mfa/audit'))
    .map((r) => ({
      status: r.status,
      body: r.body as { startDate: number; endDate: number; pageStart: number; pageLimit: number },
    }));
}
