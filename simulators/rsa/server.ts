/**
 * Built-in simulator of the RSA Cloud Administration report APIs (ID Plus / SecurID CAS).
 *
 * 1. Each tenant gets a generated RSA key pair and an Administration API key file
 *    (`customerName, accessID, description, accessKey` (PKCS#1 PEM), `adminRestApiUrl`).
 * 2. Every request must carry `Authorization: Bearer <JWT>`: RS256 only, signed by the tenant's
 *    key (found by `sub` = accessID), `aud` equal to the tenant's adminRestApiUrl exactly,
 *    `exp - iat` at most 3600 s (+60 s skew), not expired. Anything else answers 403.
 * 3. Generate (`POST .../report/{users|hardware_tokens|mfa_clients}/generate`): 201, or 429 within
 *    the 8-hour window (per report by default; `generateWindowScope: 'tenant'` is the other reading
 *    of the docs). Download (`GET .../download`): 404 never generated, 429 within 15 minutes of
 *    the tenant's last download, 425 until the report is ready, else 200 CSV.
 *    Generate-and-download (`GET .../{admin_users|radius_clients}/generate-and-download`): 200 CSV,
 *    429 within 8 hours, 400 for a report switched to "does not exist".
 * 4. 403 "MFA tracking is turned off." per tenant switch, and a per-tenant regenerated key (its key
 *    file's accessID unknown: 403 on every request). Every window, delay and format is an
 *    option; `options` is live, so a test can flip a switch between requests.
 * 5. Every request is recorded (method, path, status, tenant, JWT header and claims, headers
 *    without Authorization) for tests to assert call counts and spacing.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { localSince } from '../local-since.ts';
import {
  type DateStyle,
  generateTenantData,
  type HeaderStyle,
  SIM_REPORTS,
  type SimReport,
  type SimTable,
  type SimTenantData,
  seededRandom,
  toCsv,
  uuidFrom,
} from './data.ts';

export type { SimReport, SimTable, SimTenantData, SimUser } from './data.ts';

/** How the key file writes adminRestApiUrl: RSA's examples differ on `/v1` and a trailing `/`. */
export type UrlStyle = 'v1' | 'v1/' | 'base' | 'base/';

export const GENERATED = ['users', 'hardware_tokens', 'mfa_clients'] as const satisfies readonly SimReport[];
export const DIRECT = ['admin_users', 'radius_clients'] as const satisfies readonly SimReport[];

const HOUR = 3_600_000;
const API_PATH = '/AdminInterface/restapi';

export interface RsaSimTenantOptions {
  readonly id: string;
  readonly customerName?: string;
  /** default: the simulator's `urlStyle` */
  readonly urlStyle?: UrlStyle;
  /** public-looking host for the key file's adminRestApiUrl (the tenant's baseUrl must then point at the simulator) */
  readonly keyFileHost?: string;
  /** default: the simulator's `mfaTrackingOff` */
  readonly mfaTrackingOff?: boolean;
  /**
   * the key was regenerated in the console after its key file was issued: the file's accessID is
   * no longer known, so every request signed with it answers 403; default false
   */
  readonly keyRegenerated?: boolean;
}

export interface RsaSimulatorOptions {
  /** default 0 (any free port) */
  port?: number;
  seed?: number;
  /** default DEFAULT_TENANTS */
  tenants?: readonly RsaSimTenantOptions[];
  urlStyle?: UrlStyle;
  /** see RsaSimTenantOptions.keyFileHost; applies to every tenant without its own */
  keyFileHost?: string;
  rows?: Partial<Record<SimReport, number>>;
  /** the simulator's clock (ms since the epoch): windows and JWT lifetimes use it */
  now?: () => number;
  /** "generate the reports only every 8 hours"; default 8 h */
  generateWindowMs?: number;
  /** [UNKNOWN in the docs] whether the 8-hour window is per report type or per tenant; default `report` */
  generateWindowScope?: 'report' | 'tenant';
  /** "downloaded only once every 15 minutes per tenant"; default 15 min */
  downloadWindowMs?: number;
  /** time from a 201 until download stops answering 425; default 1000 ms */
  readyAfterMs?: number;
  /** [UNKNOWN] whether a 425 answer uses up the tenant's 15-minute download slot; default false */
  notReadyUsesDownloadSlot?: boolean;
  /** [UNKNOWN] whether generate-and-download uses up the 15-minute download slot; default false */
  directUsesDownloadSlot?: boolean;
  /** a generated report disappears (download 404) after this long; default never */
  reportRetentionMs?: number;
  /** 403 "MFA tracking is turned off." on generate and download; default false */
  mfaTrackingOff?: boolean;
  /** generate answers 404 "Not supported by API yet" for these */
  unsupportedReports?: readonly SimReport[];
  /** generate-and-download answers 400 "Report does not exist" for these */
  missingReports?: readonly SimReport[];
  /** [UNKNOWN] error body shape: Spring-style JSON (default) or plain text */
  errorBody?: 'json' | 'text';
  /** a careless API: every error message repeats the JWT of the request's Authorization header; default false */
  echoJwt?: boolean;
  /** [UNKNOWN] send Retry-After with 429, as seconds left or as an HTTP date; default false (none) */
  retryAfter?: false | 'seconds' | 'date';
  /** [UNKNOWN] UTF-8 BOM at the start of the CSV; default true */
  bom?: boolean;
  /** default `crlf` */
  lineEnding?: 'crlf' | 'lf';
  quoteAll?: boolean;
  /** CSV-hostile values (commas, quotes, line breaks, non-ASCII, formula-like); default true */
  hostile?: boolean;
  /** `legacy`: older header names (Distinguished Name, Emergency Tokencode …) */
  headerStyle?: HeaderStyle;
  dateStyle?: DateStyle;
  /** headers a newer release added, appended to every report */
  extraColumns?: readonly string[];
  /** header drift: headers sent under another name (e.g. `{ Status: 'User Status' }`) in every report */
  renamedHeaders?: Readonly<Record<string, string>>;
  /** [UNKNOWN] `/download` body: plain CSV (documented) or compressed */
  downloadEncoding?: 'csv' | 'gzip' | 'zip';
  /** the longest JWT lifetime accepted; default 3600 s */
  jwtMaxLifetimeSeconds?: number;
  /** default 60 s */
  clockSkewSeconds?: number;
}

type ResolvedOptions = Required<Omit<RsaSimulatorOptions, 'keyFileHost' | 'port' | 'tenants' | 'rows'>> & {
  keyFileHost?: string;
  rows: Record<SimReport, number>;
};

export interface RsaKeyFile {
  customerName: string;
  accessID: string;
  description: string;
  accessKey: string;
  adminRestApiUrl: string;
}

export interface RsaSimTenant {
  readonly id: string;
  readonly keyFile: RsaKeyFile;
  /** whether the key file's host is not the simulator's (a tenant baseUrl override is needed) */
  readonly needsBaseUrl: boolean;
}

export interface RecordedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** the tenant whose accessID the JWT names, if any */
  readonly tenant?: string;
  readonly report?: string;
  readonly action?: string;
  /** why the JWT was refused */
  readonly authFailure?: string;
  readonly jwtHeader?: Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
  /** request headers without authorization and cookies */
  readonly headers: Record<string, string>;
}

export interface RsaSimulator {
  readonly baseUrl: string;
  readonly tenants: readonly RsaSimTenant[];
  /** live switches: change them between requests */
  readonly options: ResolvedOptions;
  readonly requests: RecordedRequest[];
  /** the data a report of a tenant serves under the current options */
  data(tenantId: string): SimTenantData;
  table(tenantId: string, report: SimReport): SimTable;
  /** forget every generation, download and recorded request */
  reset(): void;
  close(): Promise<void>;
}

interface TenantState {
  readonly tenant: RsaSimTenant;
  readonly publicKey: KeyObject;
  readonly generated: Map<SimReport, { at: number; readyAt: number }>;
  lastGenerateAt?: number;
  lastDownloadAt?: number;
  readonly lastDirectAt: Map<SimReport, number>;
}

const MESSAGES = {
  forbidden: 'Not authorized to access this report.',
  mfaOff: 'MFA tracking is turned off.',
  generateUnsupported: 'Report not found. Not supported by API yet.',
  generateLimit: 'Too many requests sent in a short period of time. Only one report can be generated every 8 hours.',
  notGenerated: 'Report not found. Report was not generated or does not exist.',
  notReady: 'Report not generated yet.',
  downloadLimit:
    'Too many requests sent in a short period of time. Report was already downloaded less than 15 minutes ago.',
  directLimit:
    'Too many requests sent in a short period of time. Report was already generated and downloaded less than 8 hours ago.',
  missing: 'Report does not exist.',
} as const;

const FILE_NAMES: Record<SimReport, string> = {
  users: 'all_users_report.csv',
  hardware_tokens: 'hardware_tokens_report.csv',
  mfa_clients: 'mfa_clients_report.csv',
  admin_users: 'admin_users_report.csv',
  radius_clients: 'radius_clients_report.csv',
};

function resolve(options: RsaSimulatorOptions): ResolvedOptions {
  return {
    seed: options.seed ?? 3,
    urlStyle: options.urlStyle ?? 'v1',
    ...(options.keyFileHost ? { keyFileHost: options.keyFileHost } : {}),
    rows: { users: 120, hardware_tokens: 40, mfa_clients: 25, admin_users: 8, radius_clients: 6, ...options.rows },
    now: options.now ?? Date.now,
    generateWindowMs: options.generateWindowMs ?? 8 * HOUR,
    generateWindowScope: options.generateWindowScope ?? 'report',
    downloadWindowMs: options.downloadWindowMs ?? 15 * 60_000,
    readyAfterMs: options.readyAfterMs ?? 1000,
    notReadyUsesDownloadSlot: options.notReadyUsesDownloadSlot ?? false,
    directUsesDownloadSlot: options.directUsesDownloadSlot ?? false,
    reportRetentionMs: options.reportRetentionMs ?? Number.POSITIVE_INFINITY,
    mfaTrackingOff: options.mfaTrackingOff ?? false,
    unsupportedReports: options.unsupportedReports ?? [],
    missingReports: options.missingReports ?? [],
    errorBody: options.errorBody ?? 'json',
    echoJwt: options.echoJwt ?? false,
    retryAfter: options.retryAfter ?? false,
    bom: options.bom ?? true,
    lineEnding: options.lineEnding ?? 'crlf',
    quoteAll: options.quoteAll ?? false,
    hostile: options.hostile ?? true,
    headerStyle: options.headerStyle ?? 'current',
    dateStyle: options.dateStyle ?? 'utc',
    extraColumns: options.extraColumns ?? [],
    renamedHeaders: options.renamedHeaders ?? {},
    downloadEncoding: options.downloadEncoding ?? 'csv',
    jwtMaxLifetimeSeconds: options.jwtMaxLifetimeSeconds ?? 3600,
    clockSkewSeconds: options.clockSkewSeconds ?? 60,
  };
}

export function adminRestApiUrl(origin: string, style: UrlStyle): string {
  const base = `${origin}${API_PATH}`;
  switch (style) {
    case 'v1':
      return `${base}/v1`;
    case 'v1/':
      return `${base}/v1/`;
    case 'base/':
      return `${base}/`;
    default:
      return base;
  }
}

function headersWithoutSecrets(headers: http.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || /^(authorization|cookie|proxy-authorization)$/i.test(name)) continue;
    result[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

const numeric = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;

async function zipOf(name: string, bytes: Uint8Array): Promise<Buffer> {
  configure({ useWebWorkers: false, useCompressionStream: false });
  const writer = new ZipWriter(new Uint8ArrayWriter());
  await writer.add(name, new Uint8ArrayReader(bytes));
  return Buffer.from(await writer.close());
}

export const DEFAULT_TENANTS: readonly RsaSimTenantOptions[] = [
  { id: 'acme', customerName: 'Acme Corp' },
  { id: 'globex', customerName: 'Globex, "EU" GmbH' },
];

// Key generation is the slowest part of a start; a process reuses one pair per seed and tenant.
const keyPairs = new Map<string, { privateKey: string; publicKey: string }>();

function keyPairFor(id: string): { privateKey: string; publicKey: string } {
  let pair = keyPairs.get(id);
  if (!pair) {
    pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    keyPairs.set(id, pair);
  }
  return pair;
}

export async function startRsaSimulator(options: RsaSimulatorOptions = {}): Promise<RsaSimulator> {
  const opts = resolve(options);
  const requests: RecordedRequest[] = [];
  const states = new Map<string, TenantState>();
  const byAccessId = new Map<string, TenantState>();
  const tenantOptions = options.tenants ?? DEFAULT_TENANTS;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`simulator error: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolveListen) => server.listen(options.port ?? 0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  for (const t of tenantOptions) {
    const random = seededRandom(opts.seed, t.id, 'key');
    const { privateKey, publicKey } = keyPairFor(`${opts.seed}:${t.id}`);
    const host = t.keyFileHost ?? opts.keyFileHost;
    const origin = host ? `https://${host}` : baseUrl;
    const tenant: RsaSimTenant = {
      id: t.id,
      needsBaseUrl: host !== undefined,
      keyFile: {
        customerName: t.customerName ?? t.id,
        accessID: uuidFrom(random),
        description: `report archiver (${t.id})`,
        accessKey: privateKey,
        adminRestApiUrl: adminRestApiUrl(origin, t.urlStyle ?? opts.urlStyle),
      },
    };
    const state: TenantState = {
      tenant,
      publicKey: createPublicKey(publicKey),
      generated: new Map(),
      lastDirectAt: new Map(),
    };
    states.set(t.id, state);
    if (!t.keyRegenerated) byAccessId.set(tenant.keyFile.accessID, state);
  }
  const mfaOff = (id: string) => tenantOptions.find((t) => t.id === id)?.mfaTrackingOff ?? opts.mfaTrackingOff;

  const dataOf = (tenantId: string): SimTenantData =>
    generateTenantData({
      seed: opts.seed,
      tenantId,
      domain: `${tenantId}.example.com`,
      rows: opts.rows,
      hostile: opts.hostile,
      headerStyle: opts.headerStyle,
      dateStyle: opts.dateStyle,
      extraColumns: opts.extraColumns,
      renamedHeaders: opts.renamedHeaders,
    });

  interface Auth {
    state?: TenantState;
    failure?: string;
    jwtHeader?: Record<string, unknown>;
    claims?: Record<string, unknown>;
  }

  async function authenticate(req: http.IncomingMessage): Promise<Auth> {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(req.headers.authorization ?? '');
    if (!match) return { failure: 'no bearer JWT' };
    const token = match[1]!;
    let jwtHeader: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      jwtHeader = decodeProtectedHeader(token) as Record<string, unknown>;
      claims = decodeJwt(token) as Record<string, unknown>;
    } catch {
      return { failure: 'JWT cannot be decoded' };
    }
    const seen = { jwtHeader, claims };
    if (jwtHeader.alg !== 'RS256') return { ...seen, failure: `alg ${String(jwtHeader.alg)} is not RS256` };
    const state = typeof claims.sub === 'string' ? byAccessId.get(claims.sub) : undefined;
    if (!state) return { ...seen, failure: 'sub is not a known accessID' };
    try {
      await compactVerify(token, state.publicKey, { algorithms: ['RS256'] });
    } catch {
      return { ...seen, failure: 'bad signature' };
    }
    if (claims.aud !== state.tenant.keyFile.adminRestApiUrl)
      return { ...seen, failure: 'aud is not the adminRestApiUrl' };
    const iat = numeric(claims.iat);
    const exp = numeric(claims.exp);
    if (iat === undefined || exp === undefined) return { ...seen, failure: 'iat or exp missing' };
    const now = opts.now() / 1000;
    if (exp - iat > opts.jwtMaxLifetimeSeconds + opts.clockSkewSeconds)
      return { ...seen, failure: 'lifetime too long' };
    if (now > exp + opts.clockSkewSeconds) return { ...seen, failure: 'expired' };
    if (iat > now + opts.clockSkewSeconds) return { ...seen, failure: 'issued in the future' };
    return { ...seen, state };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    for await (const _ of req) {
      // drain the (empty) request body
    }
    const url = new URL(req.url ?? '/', baseUrl);
    const method = req.method ?? 'GET';
    const route = new RegExp(`^${API_PATH}/v1/report/([a-z_]+)/(generate|download|generate-and-download)$`).exec(
      url.pathname,
    );
    const report = route?.[1];
    const action = route?.[2];
    const auth = await authenticate(req);
    const now = opts.now();

    const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
      requests.push({
        at: now,
        method,
        path: url.pathname,
        status,
        ...(auth.state ? { tenant: auth.state.tenant.id } : {}),
        ...(report ? { report } : {}),
        ...(action ? { action } : {}),
        ...(auth.failure ? { authFailure: auth.failure } : {}),
        ...(auth.jwtHeader ? { jwtHeader: auth.jwtHeader } : {}),
        ...(auth.claims ? { claims: auth.claims } : {}),
        headers: headersWithoutSecrets(req.headers),
      });
      res.writeHead(status, headers);
      res.end(body);
    };
    const fail = (status: number, said: string, retryAfterMs?: number) => {
      const presented = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
      const message = opts.echoJwt ? `${said} Invalid token: ${presented || '(none)'}` : said;
      const headers: Record<string, string> = {};
      if (opts.retryAfter && retryAfterMs !== undefined) {
        headers['retry-after'] =
          opts.retryAfter === 'date'
            ? new Date(Math.ceil((now + retryAfterMs) / 1000) * 1000).toUTCString()
            : String(Math.ceil(retryAfterMs / 1000));
      }
      if (opts.errorBody === 'text') {
        send(status, message, { ...headers, 'content-type': 'text/plain;charset=UTF-8' });
      } else {
        const error = http.STATUS_CODES[status] ?? 'Error';
        const body = JSON.stringify({
          timestamp: new Date(now).toISOString(),
          status,
          error,
          message,
          path: url.pathname,
        });
        send(status, body, { ...headers, 'content-type': 'application/json' });
      }
    };

    if (!route || !report || !action) return fail(404, 'Not Found');
    if (!auth.state) return fail(403, MESSAGES.forbidden);
    const state = auth.state;
    const tenantId = state.tenant.id;
    const known = (SIM_REPORTS as readonly string[]).includes(report) ? (report as SimReport) : undefined;
    const generated = known && (GENERATED as readonly string[]).includes(known);
    const direct = known && (DIRECT as readonly string[]).includes(known);

    if (action === 'generate-and-download') {
      if (method !== 'GET') return fail(405, 'Method Not Allowed');
      if (!known || !direct) return fail(404, MESSAGES.generateUnsupported);
      if (opts.missingReports.includes(known)) return fail(400, MESSAGES.missing);
      const last = opts.generateWindowScope === 'tenant' ? state.lastGenerateAt : state.lastDirectAt.get(known);
      if (last !== undefined && now - last < opts.generateWindowMs) {
        return fail(429, MESSAGES.directLimit, last + opts.generateWindowMs - now);
      }
      state.lastDirectAt.set(known, now);
      state.lastGenerateAt = now;
      if (opts.directUsesDownloadSlot) state.lastDownloadAt = now;
      const csv = toCsv(dataOf(tenantId).tables[known], opts);
      return send(200, csv, {
        'content-type': 'text/csv;charset=UTF-8',
        'content-disposition': `attachment; filename="${FILE_NAMES[known]}"`,
      });
    }

    if (!known || !generated) return fail(404, MESSAGES.generateUnsupported);
    if (mfaOff(tenantId)) return fail(403, MESSAGES.mfaOff);

    if (action === 'generate') {
      if (method !== 'POST') return fail(405, 'Method Not Allowed');
      if (opts.unsupportedReports.includes(known)) return fail(404, MESSAGES.generateUnsupported);
      const last = opts.generateWindowScope === 'tenant' ? state.lastGenerateAt : state.generated.get(known)?.at;
      if (last !== undefined && now - last < opts.generateWindowMs) {
        return fail(429, MESSAGES.generateLimit, last + opts.generateWindowMs - now);
      }
      state.generated.set(known, { at: now, readyAt: now + opts.readyAfterMs });
      state.lastGenerateAt = now;
      return send(201, '', { 'content-type': 'application/json' });
    }

    // download
    if (method !== 'GET') return fail(405, 'Method Not Allowed');
    const entry = state.generated.get(known);
    if (!entry || now - entry.at > opts.reportRetentionMs) return fail(404, MESSAGES.notGenerated);
    if (state.lastDownloadAt !== undefined && now - state.lastDownloadAt < opts.downloadWindowMs) {
      return fail(429, MESSAGES.downloadLimit, state.lastDownloadAt + opts.downloadWindowMs - now);
    }
    if (now < entry.readyAt) {
      if (opts.notReadyUsesDownloadSlot) state.lastDownloadAt = now;
      return fail(425, MESSAGES.notReady, entry.readyAt - now);
    }
    state.lastDownloadAt = now;
    const csv = Buffer.from(toCsv(dataOf(tenantId).tables[known], opts), 'utf8');
    const name = FILE_NAMES[known];
    if (opts.downloadEncoding === 'gzip') {
      return send(200, gzipSync(csv), {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${name}.gz"`,
      });
    }
    if (opts.downloadEncoding === 'zip') {
      return send(200, await zipOf(name, csv), {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${name.replace(/\.csv$/, '.zip')}"`,
      });
    }
    return send(200, csv, {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${name}"`,
    });
  }

  return {
    baseUrl,
    tenants: [...states.values()].map((s) => s.tenant),
    options: opts,
    requests,
    data: dataOf,
    table: (tenantId, report) => dataOf(tenantId).tables[report],
    reset() {
      requests.length = 0;
      for (const state of states.values()) {
        state.generated.clear();
        state.lastDirectAt.clear();
        state.lastGenerateAt = undefined;
        state.lastDownloadAt = undefined;
      }
    },
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolveClose()));
      }),
  };
}

/**
 * Simulator options for a local run whose Wait states are shrunk to milliseconds: readiness and
 * the 15-minute download window shrink to match, so a run takes seconds instead of an hour.
 */
export const LOCAL_SIMULATOR_OPTIONS: RsaSimulatorOptions = { readyAfterMs: 120, downloadWindowMs: 250 };

/**
 * The `rsa` config section for the simulator's tenants (local runs): inline key files, a tenant
 * baseUrl only where the key file names a public-looking host, and a poll budget for the many
 * short waits of a shrunk run.
 */
export function localVendorSection(sim: RsaSimulator): {
  baseUrl: string;
  downloadHosts: string[];
  poll: { intervalSeconds: number; maxAttempts: number; deadlineMinutes: number };
  initialWaitSeconds: number;
  tenants: { id: string; since: string; baseUrl?: string; credentials: Record<string, unknown> }[];
} {
  return {
    baseUrl: sim.baseUrl,
    downloadHosts: [],
    poll: { intervalSeconds: 1, maxAttempts: 200, deadlineMinutes: 30 },
    initialWaitSeconds: 1,
    tenants: sim.tenants.map((t) => ({
      id: t.id,
      since: localSince(0),
      ...(t.needsBaseUrl ? { baseUrl: sim.baseUrl } : {}),
      credentials: { ...t.keyFile },
    })),
  };
}
