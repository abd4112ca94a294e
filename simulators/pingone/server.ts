/**
 * Built-in PingOne MFA reports simulator (dataExplorations), following the vendor docs and, where
 * they are silent, the recommendations in vendors.md §5, each assumption behind a switch.
 *
 * 1. Three loopback servers, like the three hosts of the real service: the API
 *    (`{apiBase}/environments/{env}/dataExplorations...`, apiBase ending in `/v1`), the auth server
 *    (`POST {auth}/{env}/as/token`, client_secret_basic or client_secret_post), and the "storage
 *    host" serving pre-signed-style zip links that expire (403 XML AccessDenied, like S3).
 * 2. Per-environment 5-second limiter on every dataExplorations call: a second call inside the
 *    window gets 429 REQUEST_LIMITED with Retry-After (seconds or HTTP date).
 * 3. ASYNC_FILE jobs answer IN_PROGRESS for N polls, then SUCCESS with `zipPassword`,
 *    `csvPresignedUrl` and the JSON link (name configurable), or a configurable other status.
 *    Files are cached for 2 hours, keyed on (fields, filter, deliverAs); explorations expire
 *    (`expiresAt`, then 404).
 * 4. ENTRIES: `/entries` pages with a `_links.next` cursor and `limit` (1-1000), in the embedded or
 *    top-level shape.
 * 5. Expiry and cache windows run on a virtual clock (`advanceTime`); the rate limiter runs on the
 *    real clock, because the connector's spacing is real.
 * Every request is recorded (headers without secrets) so tests can assert counts and spacing.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configure, TextReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { localSince } from '../local-since.ts';
import {
  compileFilter,
  generateRows,
  project,
  SIM_FIELDS,
  type SimField,
  SimFilterError,
  type SimRow,
  type SimValue,
  toCsv,
} from './data.ts';

configure({ useWebWorkers: false, useCompressionStream: false });

export const MFA_REPORT_TEMPLATE_ID = 'db632bfd-7054-4bde-b108-a384aac2d513';

export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post';
export type SimRoute = 'token' | 'create' | 'poll' | 'entries' | 'download' | 'unknown';

export interface PingOneSimEnvironment {
  /** the environment id (a UUID) */
  readonly id: string;
  /** tenant slug `localVendorSection` gives this environment */
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** how the worker app authenticates at the token endpoint; default client_secret_basic */
  readonly tokenAuthMethod?: TokenAuthMethod;
  /** `deliverAs` that `localVendorSection` configures for this environment; default ASYNC_FILE */
  readonly deliverAs?: 'ASYNC_FILE' | 'ENTRIES';
  /** the worker app lacks the role for reports: 403 ACCESS_FAILED on dataExplorations */
  readonly forbidden?: boolean;
  /** rows generated for this environment; default `rowsPerEnvironment` */
  readonly rows?: number;
}

export interface SimFault {
  readonly route: SimRoute;
  readonly status: number;
  /** how many matching requests get this answer; default 1 */
  readonly times?: number;
  /** sent as the Retry-After header verbatim */
  readonly retryAfter?: string;
  /** only for this environment */
  readonly environmentId?: string;
  /**
   * a careless API: the message repeats the credential the request carried (on the token route its
   * Authorization header as received, or the form's client_secret; on the API routes the bare
   * access token); default false
   */
  readonly echoCredentials?: boolean;
}

export interface PingOneSimulatorOptions {
  readonly port?: number;
  /** PRNG seed for the generated rows; default 20261122 */
  readonly seed?: number;
  readonly environments?: readonly PingOneSimEnvironment[];
  /** default 150 */
  readonly rowsPerEnvironment?: number;
  /** the "once per 5 seconds per environment" window; default 5000 */
  readonly rateLimitWindowMs?: number;
  /** whether `/entries` page fetches count toward the window (the docs say "the endpoint"); default true */
  readonly rateLimitEntries?: boolean;
  /** Retry-After on 429: integer seconds or an HTTP date; default seconds */
  readonly retryAfterFormat?: 'seconds' | 'http-date';
  /** polls answering IN_PROGRESS before a new file is done; default 2 */
  readonly pollsUntilDone?: number;
  /** the status a finished ASYNC_FILE job reports; anything but SUCCESS simulates a failed job */
  readonly terminalStatus?: string;
  /** pre-signed link lifetime from the GET that issued it; default 5 min */
  readonly linkTtlMs?: number;
  /** file cache keyed on (fields, filter, deliverAs); default 2 h */
  readonly cacheWindowMs?: number;
  /** exploration lifetime (`expiresAt`), then GET answers 404; default 30 min (as in the docs' example) */
  readonly explorationTtlMs?: number;
  /** zip entry encryption; default ZipCrypto */
  readonly zipEncryption?: 'zipcrypto' | 'aes256';
  /** name of the JSON link field (undocumented); default jsonPresignedUrl */
  readonly jsonLinkField?: string;
  /** layout of the JSON file (undocumented); default array */
  readonly jsonLayout?: 'array' | 'ndjson';
  readonly csvLineEnding?: '\r\n' | '\n';
  readonly csvBom?: boolean;
  /** header drift: the CSV names these fields otherwise (e.g. `{ mfaEnabled: 'isMfaEnabled' }`); default none */
  readonly csvHeaderNames?: Readonly<Partial<Record<SimField, string>>>;
  /** HTTP status of the create call (201 or 202 are both plausible); default 201 */
  readonly createStatus?: number;
  /** token lifetime; default 3600 */
  readonly tokenTtlSeconds?: number;
  /** refuse a client authenticating with the other method; default true */
  readonly enforceTokenAuthMethod?: boolean;
  /** entries page shape: `_embedded.entries` or top-level `entries`; default embedded */
  readonly entriesShape?: 'embedded' | 'top-level';
  /** page size when `limit` is absent; default 100 */
  readonly entriesDefaultLimit?: number;
  /** entries carry booleans as "true"/"false" strings; default false (JSON booleans) */
  readonly entriesBooleansAsStrings?: boolean;
  /** how entries pages are laid out: `compact`, or `pretty` (indented, CRLF) to show a client keeps bytes; default compact */
  readonly entriesLayout?: 'compact' | 'pretty';
  /** refuse the first N downloads with 403 AccessDenied, as if the links had expired; default 0 */
  readonly refuseFirstDownloads?: number;
  readonly faults?: readonly SimFault[];
}

export interface RecordedRequest {
  /** real clock, ms */
  readonly at: number;
  readonly server: 'api' | 'auth' | 'storage';
  readonly method: string;
  /** path without the query string */
  readonly path: string;
  readonly route: SimRoute;
  readonly environmentId?: string;
  /** request headers without authorization and cookies */
  readonly headers: Record<string, string>;
  readonly hasAuthorization: boolean;
  /** form fields received by the token endpoint, without client_secret */
  readonly form?: Record<string, string>;
  status: number;
  /** entries pages answered 200: the body bytes exactly as sent */
  sent?: Buffer;
}

export interface PingOneSimulator {
  /** API base, ending in `/v1` (PingOne's `apiPath`) */
  readonly baseUrl: string;
  /** auth base (PingOne's `authPath`) */
  readonly authUrl: string;
  readonly storageUrl: string;
  /** host:port of each server, for allowlists */
  readonly hosts: { readonly api: string; readonly auth: string; readonly storage: string };
  readonly environments: readonly PingOneSimEnvironment[];
  readonly options: ResolvedOptions;
  readonly requests: RecordedRequest[];
  readonly stats: { filesGenerated: number; rateLimited: number; linksIssued: number };
  /** every access token and zip password handed out, for leak assertions */
  readonly issuedSecrets: string[];
  /** the generated rows of one environment (ground truth for tests) */
  dataset(environmentId: string): readonly SimRow[];
  /** moves the virtual clock (expiry, cache, links) forward */
  advanceTime(ms: number): void;
  now(): number;
  /** every link issued so far answers 403 from now on */
  expireLinks(): void;
  /** forget every exploration (GETs answer 404) */
  forgetExplorations(): void;
  addFault(fault: SimFault): void;
  close(): Promise<void>;
}

type ResolvedOptions = Required<Omit<PingOneSimulatorOptions, 'port' | 'environments' | 'faults'>>;

interface CachedFile {
  readonly key: string;
  readonly createdAt: number;
  readonly password: string;
  readonly objects: Map<string, Uint8Array>;
  readonly csvObject: string;
  readonly jsonObject: string;
}

interface Exploration {
  readonly id: string;
  readonly environmentId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly deliverAs: 'ENTRIES' | 'ASYNC_FILE';
  readonly fields: readonly SimField[];
  readonly requestedFields: boolean;
  readonly filter?: string;
  readonly rows: readonly SimRow[];
  pollsLeft: number;
  updatedAt: number;
  fileKey?: string;
}

interface Link {
  readonly fileKey: string;
  readonly object: string;
  readonly expiresAt: number;
  expired: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`http ${status}`);
  }
}

const TOP_LEVEL_CODES: Record<number, string> = {
  400: 'INVALID_DATA',
  401: 'ACCESS_FAILED',
  403: 'ACCESS_FAILED',
  404: 'NOT_FOUND',
  405: 'INVALID_REQUEST',
  415: 'INVALID_REQUEST',
  429: 'REQUEST_LIMITED',
  500: 'UNEXPECTED_ERROR',
  502: 'UNEXPECTED_ERROR',
  503: 'UNEXPECTED_ERROR',
};

function p1Error(status: number, message: string, detail?: { code: string; target?: string; message?: string }) {
  return {
    id: randomUUID(),
    code: TOP_LEVEL_CODES[status] ?? 'UNEXPECTED_ERROR',
    message,
    ...(detail ? { details: [{ code: detail.code, target: detail.target, message: detail.message ?? message }] } : {}),
  };
}

export const DEFAULT_ENVIRONMENTS: readonly PingOneSimEnvironment[] = [
  {
    id: '3f0d3c1e-5b7a-4c2e-9a61-0c7a2d1e4b01',
    tenantId: 'sim-env-a',
    clientId: 'a1b2c3d4-0000-4000-8000-00000000000a',
    clientSecret: 'sim-secret-A~kq2X.Zr81vLw0pT3',
    tokenAuthMethod: 'client_secret_basic',
    deliverAs: 'ASYNC_FILE',
  },
  {
    id: '8a2b6f4d-1c3e-4d5f-8b7a-9e0f1a2b3c4d',
    tenantId: 'sim-env-b',
    clientId: 'a1b2c3d4-0000-4000-8000-00000000000b',
    clientSecret: 'sim-secret-B~7yHn.Qe40sMd9cJ2',
    tokenAuthMethod: 'client_secret_post',
    deliverAs: 'ENTRIES',
  },
];

async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, p1Error(400, 'request body too large'));
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendXml(res: ServerResponse, status: number, code: string, message: string, extra = ''): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function publicHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || name === 'cookie' || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function zipOne(entryName: string, content: string, password: string, encryption: 'zipcrypto' | 'aes256') {
  const writer = new ZipWriter(new Uint8ArrayWriter(), {
    password,
    ...(encryption === 'zipcrypto' ? { zipCrypto: true } : { encryptionStrength: 3 as const }),
  });
  await writer.add(entryName, new TextReader(content));
  return writer.close();
}

export async function startPingOneSimulator(options: PingOneSimulatorOptions = {}): Promise<PingOneSimulator> {
  const opts: ResolvedOptions = {
    seed: options.seed ?? 20261122,
    rowsPerEnvironment: options.rowsPerEnvironment ?? 150,
    rateLimitWindowMs: options.rateLimitWindowMs ?? 5000,
    rateLimitEntries: options.rateLimitEntries ?? true,
    retryAfterFormat: options.retryAfterFormat ?? 'seconds',
    pollsUntilDone: options.pollsUntilDone ?? 2,
    terminalStatus: options.terminalStatus ?? 'SUCCESS',
    linkTtlMs: options.linkTtlMs ?? 5 * 60_000,
    cacheWindowMs: options.cacheWindowMs ?? 2 * 3_600_000,
    explorationTtlMs: options.explorationTtlMs ?? 30 * 60_000,
    zipEncryption: options.zipEncryption ?? 'zipcrypto',
    jsonLinkField: options.jsonLinkField ?? 'jsonPresignedUrl',
    jsonLayout: options.jsonLayout ?? 'array',
    csvLineEnding: options.csvLineEnding ?? '\r\n',
    csvBom: options.csvBom ?? false,
    csvHeaderNames: options.csvHeaderNames ?? {},
    createStatus: options.createStatus ?? 201,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    enforceTokenAuthMethod: options.enforceTokenAuthMethod ?? true,
    entriesShape: options.entriesShape ?? 'embedded',
    entriesDefaultLimit: options.entriesDefaultLimit ?? 100,
    entriesBooleansAsStrings: options.entriesBooleansAsStrings ?? false,
    entriesLayout: options.entriesLayout ?? 'compact',
    refuseFirstDownloads: options.refuseFirstDownloads ?? 0,
  };
  const environments = options.environments ?? DEFAULT_ENVIRONMENTS;
  const datasets = new Map<string, SimRow[]>();
  for (const env of environments) {
    datasets.set(
      env.id,
      generateRows({ environmentId: env.id, rows: env.rows ?? opts.rowsPerEnvironment, seed: opts.seed }),
    );
  }
  const faults: { fault: SimFault; left: number }[] = (options.faults ?? []).map((fault) => ({
    fault,
    left: fault.times ?? 1,
  }));
  const requests: RecordedRequest[] = [];
  const stats = { filesGenerated: 0, rateLimited: 0, linksIssued: 0 };
  const issuedSecrets: string[] = [];
  const tokens = new Map<string, { environmentId: string; expiresAt: number }>();
  const explorations = new Map<string, Exploration>();
  const files = new Map<string, CachedFile>();
  const links = new Map<string, Link>();
  const lastCall = new Map<string, number>();
  const signingKey = randomBytes(32);
  let clockOffset = 0;
  let refusalsLeft = opts.refuseFirstDownloads;
  const now = () => Date.now() + clockOffset;

  const apiServer = createServer();
  const authServer = createServer();
  const storageServer = createServer();
  const [apiPort, authPort, storagePort] = await Promise.all([
    listen(apiServer, options.port ?? 0),
    listen(authServer, 0),
    listen(storageServer, 0),
  ]);
  const hosts = { api: `127.0.0.1:${apiPort}`, auth: `127.0.0.1:${authPort}`, storage: `127.0.0.1:${storagePort}` };
  const baseUrl = `http://${hosts.api}/v1`;
  const authUrl = `http://${hosts.auth}`;
  const storageUrl = `http://${hosts.storage}`;

  function takeFault(route: SimRoute, environmentId: string | undefined): SimFault | undefined {
    const entry = faults.find(
      (f) =>
        f.left > 0 &&
        f.fault.route === route &&
        (f.fault.environmentId === undefined || f.fault.environmentId === environmentId),
    );
    if (!entry) return undefined;
    entry.left--;
    return entry.fault;
  }

  /** `presented`: the credential the request carried, repeated when the fault says `echoCredentials`. */
  function throwFault(fault: SimFault, presented?: string): never {
    const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
    const message = `simulated ${fault.status}`;
    const echoed = fault.echoCredentials ? `${message}: invalid credentials ${presented ?? '(none)'}` : message;
    throw new HttpError(fault.status, p1Error(fault.status, echoed), headers);
  }

  function environmentOf(id: string): PingOneSimEnvironment {
    const env = environments.find((e) => e.id === id);
    if (!env) throw new HttpError(404, p1Error(404, 'The requested resource was not found.'));
    return env;
  }

  function retryAfter(remainingMs: number): string {
    const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
    return opts.retryAfterFormat === 'seconds'
      ? String(seconds)
      : new Date(Date.now() + (seconds + 1) * 1000).toUTCString();
  }

  function rateLimit(environmentId: string): void {
    const at = Date.now();
    const last = lastCall.get(environmentId);
    if (last !== undefined && at - last < opts.rateLimitWindowMs) {
      stats.rateLimited++;
      throw new HttpError(
        429,
        {
          id: randomUUID(),
          code: 'REQUEST_LIMITED',
          message: 'The request was rejected because the rate limit was exceeded.',
          details: [
            {
              code: 'LIMIT_EXCEEDED',
              message: 'You cannot call the dataExplorations endpoint more than once per 5 seconds.',
              target: 'dataExplorations',
              innerError: { retryAfter: new Date(last + opts.rateLimitWindowMs).toISOString() },
            },
          ],
        },
        { 'retry-after': retryAfter(opts.rateLimitWindowMs - (at - last)) },
      );
    }
    lastCall.set(environmentId, at);
  }

  function authorize(req: IncomingMessage, env: PingOneSimEnvironment): void {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    const token = match ? tokens.get(match[1] as string) : undefined;
    if (!token || token.expiresAt <= now()) {
      throw new HttpError(
        401,
        p1Error(401, 'The request could not be completed. You do not have access to this resource.', {
          code: 'INVALID_TOKEN',
          message: 'The access token is missing, invalid or expired.',
        }),
      );
    }
    if (token.environmentId !== env.id || env.forbidden) {
      throw new HttpError(
        403,
        p1Error(403, 'The request could not be completed. You do not have access to this resource.', {
          code: 'INSUFFICIENT_PERMISSIONS',
          message: 'The actor attempting to perform the request is not authorized.',
        }),
      );
    }
  }

  function explorationBody(ex: Exploration, status: string): Record<string, unknown> {
    const self = `${baseUrl}/environments/${ex.environmentId}/dataExplorations/${ex.id}`;
    return {
      _links: {
        self: { href: self },
        environment: { href: `${baseUrl}/environments/${ex.environmentId}` },
        dataExplorationTemplate: {
          href: `${baseUrl}/environments/${ex.environmentId}/dataExplorationTemplates/${MFA_REPORT_TEMPLATE_ID}`,
        },
      },
      id: ex.id,
      environment: { id: ex.environmentId },
      createdAt: new Date(ex.createdAt).toISOString(),
      updatedAt: new Date(ex.updatedAt).toISOString(),
      expiresAt: new Date(ex.expiresAt).toISOString(),
      ...(ex.requestedFields ? { fields: ex.fields.map((name) => ({ name })) } : {}),
      ...(ex.filter !== undefined ? { filter: ex.filter } : {}),
      orderBy: [],
      status,
      deliverAs: ex.deliverAs,
    };
  }

  async function fileFor(ex: Exploration): Promise<CachedFile> {
    const key = JSON.stringify([ex.environmentId, ex.fields, ex.filter ?? null, ex.deliverAs]);
    const cached = files.get(key);
    if (cached && now() - cached.createdAt < opts.cacheWindowMs) return cached;
    if (cached) files.delete(key);
    const uuid = randomUUID();
    const base = `devices-report-${ex.environmentId}-${uuid}`;
    const password = `zp${randomBytes(9).toString('base64url')}`;
    const csv = toCsv(ex.rows, ex.fields, {
      lineEnding: opts.csvLineEnding,
      bom: opts.csvBom,
      headerNames: opts.csvHeaderNames,
    });
    const projected = ex.rows.map((row) => project(row, ex.fields, false));
    const json =
      opts.jsonLayout === 'array'
        ? JSON.stringify(projected)
        : `${projected.map((row) => JSON.stringify(row)).join('\n')}\n`;
    const [csvZip, jsonZip] = await Promise.all([
      zipOne(`${base}.csv`, csv, password, opts.zipEncryption),
      zipOne(`${base}.json`, json, password, opts.zipEncryption),
    ]);
    const file: CachedFile = {
      key,
      createdAt: now(),
      password,
      objects: new Map([
        [`${base}.csv.zip`, csvZip],
        [`${base}.json.zip`, jsonZip],
      ]),
      csvObject: `${base}.csv.zip`,
      jsonObject: `${base}.json.zip`,
    };
    files.set(key, file);
    issuedSecrets.push(password);
    stats.filesGenerated++;
    return file;
  }

  function presign(file: CachedFile, object: string): string {
    const linkId = randomBytes(12).toString('hex');
    const signature = createHmac('sha256', signingKey).update(linkId).digest('hex');
    links.set(signature, { fileKey: file.key, object, expiresAt: now() + opts.linkTtlMs, expired: false });
    stats.linksIssued++;
    const date = new Date(now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
      'X-Amz-Credential': `ASIASIMULATOR/${date.slice(0, 8)}/eu-central-1/s3/aws4_request`,
      'X-Amz-Date': date,
      'X-Amz-Expires': String(Math.ceil(opts.linkTtlMs / 1000)),
      'X-Amz-Security-Token': randomBytes(24).toString('base64'),
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': signature,
    });
    return `${storageUrl}/p1-reports-sim/${object}?${query.toString()}`;
  }

  // --- auth server ------------------------------------------------------------------------------
  async function handleToken(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> {
    const url = new URL(req.url ?? '/', authUrl);
    const match = /^\/([0-9a-f-]{36})\/as\/token$/.exec(url.pathname);
    if (!match) throw new HttpError(404, p1Error(404, 'The requested resource was not found.'));
    const environmentId = match[1] as string;
    Object.assign(record, { route: 'token', environmentId });
    if (req.method !== 'POST') throw new HttpError(405, p1Error(405, 'method not allowed'));
    const fault = takeFault('token', environmentId);
    if (fault) {
      const presented = fault.echoCredentials
        ? (req.headers.authorization ?? new URLSearchParams(await readBody(req)).get('client_secret') ?? undefined)
        : undefined;
      throwFault(fault, presented);
    }
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      throw new HttpError(415, p1Error(415, `expected application/x-www-form-urlencoded; received ${contentType}`));
    }
    const form = new URLSearchParams(await readBody(req));
    const formRecord: Record<string, string> = {};
    for (const [k, v] of form) if (k !== 'client_secret') formRecord[k] = v;
    Object.assign(record, { form: formRecord });
    if (form.get('grant_type') !== 'client_credentials') {
      throw new HttpError(400, { error: 'unsupported_grant_type', error_description: 'expected client_credentials' });
    }
    let method: TokenAuthMethod | undefined;
    let clientId: string | undefined;
    let clientSecret: string | undefined;
    const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      method = 'client_secret_basic';
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    } else if (form.has('client_id')) {
      method = 'client_secret_post';
      clientId = form.get('client_id') ?? undefined;
      clientSecret = form.get('client_secret') ?? undefined;
    }
    const env = environments.find((e) => e.id === environmentId);
    const expectedMethod = env?.tokenAuthMethod ?? 'client_secret_basic';
    const ok =
      env !== undefined &&
      method !== undefined &&
      clientId === env.clientId &&
      clientSecret === env.clientSecret &&
      (!opts.enforceTokenAuthMethod || method === expectedMethod);
    if (!ok) {
      throw new HttpError(
        401,
        p1Error(401, 'The request could not be completed. Authentication failed.', {
          code: 'INVALID_CREDENTIALS',
          message: 'Client authentication failed.',
        }),
      );
    }
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, { environmentId, expiresAt: now() + opts.tokenTtlSeconds * 1000 });
    issuedSecrets.push(token);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: opts.tokenTtlSeconds, scope: '' });
  }

  // --- api server -------------------------------------------------------------------------------
  async function handleApi(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const match = /^\/v1\/environments\/([^/]+)\/dataExplorations(?:\/([^/]+)(\/entries)?)?\/?$/.exec(url.pathname);
    if (!match) throw new HttpError(404, p1Error(404, 'The requested resource was not found.'));
    const environmentId = match[1] as string;
    const explorationId = match[2];
    const route: SimRoute = explorationId === undefined ? 'create' : match[3] ? 'entries' : 'poll';
    Object.assign(record, { route, environmentId });
    const env = environmentOf(environmentId);
    const fault = takeFault(route, environmentId);
    // the bare token, as an API that names what it refused might ("invalid credentials eyJ...")
    if (fault) throwFault(fault, req.headers.authorization?.replace(/^Bearer\s+/i, ''));
    authorize(req, env);
    if (route !== 'entries' || opts.rateLimitEntries) rateLimit(environmentId);

    if (route === 'create') {
      if (req.method !== 'POST') throw new HttpError(405, p1Error(405, 'method not allowed'));
      await create(req, res, url, env);
      return;
    }
    if (req.method !== 'GET') throw new HttpError(405, p1Error(405, 'method not allowed'));
    const ex = explorations.get(explorationId as string);
    if (!ex || ex.environmentId !== environmentId || ex.expiresAt <= now()) {
      throw new HttpError(404, p1Error(404, 'The requested resource was not found.'));
    }
    if (route === 'entries') {
      const page = entriesPage(ex, url);
      const text =
        opts.entriesLayout === 'pretty'
          ? `${JSON.stringify(page, null, 4).replaceAll('\n', '\r\n')}\r\n`
          : JSON.stringify(page);
      record.sent = Buffer.from(text, 'utf8');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': record.sent.length });
      res.end(record.sent);
      return;
    }
    await poll(res, ex);
  }

  async function create(req: IncomingMessage, res: ServerResponse, url: URL, env: PingOneSimEnvironment) {
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/json')) {
      throw new HttpError(415, p1Error(415, `expected application/json; received ${contentType}`));
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      throw new HttpError(400, p1Error(400, 'The request body is not valid JSON.'));
    }
    const invalid = (code: string, target: string, message: string) =>
      new HttpError(
        400,
        p1Error(400, 'The request could not be completed. One or more validation errors were in the request.', {
          code,
          target,
          message,
        }),
      );
    const template = (body.dataExplorationTemplate as { id?: unknown } | undefined)?.id;
    if (template !== MFA_REPORT_TEMPLATE_ID) {
      throw invalid('INVALID_VALUE', 'dataExplorationTemplate.id', `expected ${MFA_REPORT_TEMPLATE_ID}`);
    }
    const deliverAs = body.deliverAs ?? 'ENTRIES';
    if (deliverAs !== 'ENTRIES' && deliverAs !== 'ASYNC_FILE') {
      throw invalid('INVALID_VALUE', 'deliverAs', 'expected ENTRIES or ASYNC_FILE');
    }
    let fields: SimField[] = [...SIM_FIELDS];
    const requestedFields = body.fields !== undefined;
    if (requestedFields) {
      if (!Array.isArray(body.fields) || body.fields.length === 0) {
        throw invalid('INVALID_VALUE', 'fields', 'expected a non-empty array');
      }
      fields = [];
      for (const item of body.fields as unknown[]) {
        const name = (item as { name?: unknown } | null)?.name;
        if (typeof name !== 'string' || !(SIM_FIELDS as readonly string[]).includes(name)) {
          throw invalid('INVALID_VALUE', 'fields', `unknown field ${JSON.stringify(name)}`);
        }
        if (!fields.includes(name as SimField)) fields.push(name as SimField);
      }
    }
    let rows = datasets.get(env.id) ?? [];
    let filter: string | undefined;
    if (body.filter !== undefined) {
      if (typeof body.filter !== 'string') throw invalid('INVALID_FILTER', 'filter', 'expected a string');
      filter = body.filter;
      try {
        const predicate = compileFilter(filter);
        rows = rows.filter(predicate);
      } catch (error) {
        if (error instanceof SimFilterError) throw invalid('INVALID_FILTER', 'filter', error.message);
        throw error;
      }
    }
    const expand = url.searchParams.get('expand');
    if (expand !== null && (expand !== 'entries' || body.sync !== 'true')) {
      throw invalid('INVALID_VALUE', 'sync', 'expand=entries requires "sync":"true"');
    }
    const created = now();
    const ex: Exploration = {
      id: randomUUID(),
      environmentId: env.id,
      createdAt: created,
      updatedAt: created,
      expiresAt: created + opts.explorationTtlMs,
      deliverAs,
      fields,
      requestedFields,
      rows,
      pollsLeft: opts.pollsUntilDone,
      ...(filter !== undefined ? { filter } : {}),
    };
    if (deliverAs === 'ASYNC_FILE') {
      const key = JSON.stringify([env.id, fields, filter ?? null, deliverAs]);
      const cached = files.get(key);
      if (cached && created - cached.createdAt < opts.cacheWindowMs) ex.pollsLeft = 0;
    }
    explorations.set(ex.id, ex);
    const response = explorationBody(ex, deliverAs === 'ASYNC_FILE' ? 'IN_PROGRESS' : 'SUCCESS');
    if (expand === 'entries') {
      const page = entriesPage(ex, url);
      Object.assign(response, { _embedded: { entries: pageEntries(page) } });
    }
    sendJson(res, opts.createStatus, response);
  }

  function pageEntries(page: Record<string, unknown>): unknown {
    return (page._embedded as { entries?: unknown } | undefined)?.entries ?? page.entries;
  }

  function entriesPage(ex: Exploration, url: URL): Record<string, unknown> {
    const limitText = url.searchParams.get('limit');
    const limit = limitText === null ? opts.entriesDefaultLimit : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new HttpError(
        400,
        p1Error(400, 'The request could not be completed. One or more validation errors were in the request.', {
          code: 'OUT_OF_RANGE',
          target: 'limit',
          message: 'limit must be between 1 and 1000',
        }),
      );
    }
    let offset = 0;
    const cursor = url.searchParams.get('cursor');
    if (cursor !== null) {
      try {
        const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; x?: unknown };
        if (typeof decoded.o !== 'number' || decoded.x !== ex.id) throw new Error('bad cursor');
        offset = decoded.o;
      } catch {
        throw new HttpError(400, p1Error(400, 'invalid cursor', { code: 'INVALID_VALUE', target: 'cursor' }));
      }
    }
    const slice = ex.rows
      .slice(offset, offset + limit)
      .map((row) => project(row, ex.fields, opts.entriesBooleansAsStrings));
    const base = `${baseUrl}/environments/${ex.environmentId}/dataExplorations/${ex.id}/entries`;
    const links: Record<string, { href: string }> = { self: { href: `${base}${url.search}` } };
    if (offset + limit < ex.rows.length) {
      const next = Buffer.from(JSON.stringify({ o: offset + limit, x: ex.id })).toString('base64url');
      links.next = { href: `${base}?limit=${limit}&cursor=${next}` };
    }
    const common = { _links: links, count: ex.rows.length, size: slice.length };
    return opts.entriesShape === 'embedded'
      ? { ...common, _embedded: { entries: slice } }
      : { ...common, entries: slice };
  }

  async function poll(res: ServerResponse, ex: Exploration): Promise<void> {
    if (ex.deliverAs === 'ENTRIES') {
      sendJson(res, 200, explorationBody(ex, 'SUCCESS'));
      return;
    }
    if (ex.pollsLeft > 0) {
      ex.pollsLeft--;
      sendJson(res, 200, explorationBody(ex, 'IN_PROGRESS'));
      return;
    }
    if (opts.terminalStatus !== 'SUCCESS') {
      ex.updatedAt = now();
      sendJson(res, 200, explorationBody(ex, opts.terminalStatus));
      return;
    }
    const file = await fileFor(ex);
    ex.fileKey = file.key;
    ex.updatedAt = now();
    sendJson(res, 200, {
      ...explorationBody(ex, 'SUCCESS'),
      zipPassword: file.password,
      csvPresignedUrl: presign(file, file.csvObject),
      [opts.jsonLinkField]: presign(file, file.jsonObject),
    });
  }

  // --- storage server ---------------------------------------------------------------------------
  function handleStorage(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
    Object.assign(record, { route: 'download' });
    const url = new URL(req.url ?? '/', storageUrl);
    const fault = takeFault('download', undefined);
    if (fault) {
      record.status = fault.status;
      sendXml(res, fault.status, fault.status === 403 ? 'AccessDenied' : 'InternalError', `simulated ${fault.status}`);
      return;
    }
    if (req.method !== 'GET') {
      record.status = 405;
      sendXml(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      return;
    }
    if (req.headers.authorization !== undefined && url.searchParams.has('X-Amz-Signature')) {
      record.status = 400;
      sendXml(
        res,
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      );
      return;
    }
    const link = links.get(url.searchParams.get('X-Amz-Signature') ?? '');
    const object = decodeURIComponent(url.pathname.replace(/^\/p1-reports-sim\//, ''));
    if (!link || link.object !== object) {
      record.status = 403;
      sendXml(
        res,
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
      return;
    }
    if (refusalsLeft > 0 || link.expired || link.expiresAt <= now()) {
      if (refusalsLeft > 0) refusalsLeft--;
      record.status = 403;
      sendXml(
        res,
        403,
        'AccessDenied',
        'Request has expired',
        `<X-Amz-Expires>${Math.ceil(opts.linkTtlMs / 1000)}</X-Amz-Expires><Expires>${new Date(link.expiresAt).toISOString()}</Expires><ServerTime>${new Date(now()).toISOString()}</ServerTime>`,
      );
      return;
    }
    const file = [...files.values()].find((f) => f.key === link.fileKey);
    const bytes = file?.objects.get(object);
    if (!bytes) {
      record.status = 404;
      sendXml(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    record.status = 200;
    res.writeHead(200, {
      'content-type': 'application/zip',
      'content-length': bytes.length,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
    });
    res.end(Buffer.from(bytes));
  }

  function wrap(
    server: 'api' | 'auth' | 'storage',
    handler: (req: IncomingMessage, res: ServerResponse, record: RecordedRequest) => unknown,
  ) {
    return (req: IncomingMessage, res: ServerResponse) => {
      const record: RecordedRequest = {
        at: Date.now(),
        server,
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0] as string,
        route: 'unknown',
        headers: publicHeaders(req),
        hasAuthorization: req.headers.authorization !== undefined,
        status: 0,
      };
      requests.push(record);
      Promise.resolve()
        .then(() => handler(req, res, record))
        .then(() => {
          if (record.status === 0) record.status = res.statusCode;
        })
        .catch((error: unknown) => {
          if (error instanceof HttpError) {
            record.status = error.status;
            if (!res.headersSent) sendJson(res, error.status, error.body, error.headers);
            return;
          }
          record.status = 500;
          if (!res.headersSent) sendJson(res, 500, p1Error(500, 'unexpected simulator error'));
        });
    };
  }

  apiServer.on('request', wrap('api', handleApi));
  authServer.on('request', wrap('auth', handleToken));
  storageServer.on('request', wrap('storage', handleStorage));

  return {
    baseUrl,
    authUrl,
    storageUrl,
    hosts,
    environments,
    options: opts,
    requests,
    stats,
    issuedSecrets,
    dataset: (environmentId) => datasets.get(environmentId) ?? [],
    advanceTime: (ms) => {
      clockOffset += ms;
    },
    now,
    expireLinks: () => {
      for (const link of links.values()) link.expired = true;
    },
    forgetExplorations: () => explorations.clear(),
    addFault: (fault) => faults.push({ fault, left: fault.times ?? 1 }),
    close: async () => {
      await Promise.all([closeServer(apiServer), closeServer(authServer), closeServer(storageServer)]);
    },
  };
}

/**
 * The `pingone` config section for the simulator's environments (inline credentials: local runs
 * only). The call spacing and poll interval follow the simulator's window, so a local run is fast
 * when the window is short and still never trips the limiter.
 */
export function localVendorSection(sim: PingOneSimulator): Record<string, unknown> {
  const windowMs = sim.options.rateLimitWindowMs;
  return {
    baseUrl: sim.baseUrl,
    authUrl: sim.authUrl,
    downloadHosts: [sim.hosts.storage],
    callIntervalMs: windowMs,
    poll: { intervalSeconds: Math.max(1, Math.ceil(windowMs / 1000)), maxAttempts: 60, deadlineMinutes: 30 },
    tenants: sim.environments.map((env) => ({
      id: env.tenantId,
      since: localSince(0),
      environmentId: env.id,
      deliverAs: env.deliverAs ?? 'ASYNC_FILE',
      tokenAuthMethod: env.tokenAuthMethod ?? 'client_secret_basic',
      credentials: { clientId: env.clientId, clientSecret: env.clientSecret },
    })),
  };
}

export type { SimRow, SimValue };
