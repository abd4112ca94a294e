/**
 * Built-in simulator of the two VMware Cloud Services (CSP) endpoints the connector uses.
 *
 * 1. `POST /csp/gateway/am/api/auth/api-tokens/authorize` exchanges a user API token (form
 *    `api_token`, or the deprecated `refresh_token` in the form or query) for an access token;
 *    an unknown token answers 400 `{"moduleCode":340,"message":"invalid_grant: ..."}`.
 * 2. `POST /csp/gateway/iam/vmwid/api/principal/mfa/audit` needs the access token in
 *    `csp-auth-token` and answers the audit of that token's user only (one user per token),
 *    newest first, paged by `pageStart`/`pageLimit`, with the documented 400 reasons in the
 *    documented error body.
 * 3. Every behaviour the docs leave open is a switch (what `pageStart` counts and from which
 *    base, `totalResults`, the record cap, end-date inclusivity, page-size clamping, the JSON
 *    layout), and faults (429/5xx, expiring tokens, events
 *    arriving while a client pages) can be injected. Requests are recorded without secrets.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localSince } from '../local-since.ts';
import {
  apiToken,
  buildEvent,
  compareNewestFirst,
  createRng,
  generateEvents,
  MFA_AUDIT_ACTIONS,
  type MfaAuditAction,
  pickAction,
  type Rng,
  type SimMfaEvent,
} from './data.ts';

export { MFA_AUDIT_ACTIONS, type SimMfaEvent } from './data.ts';

export const AUTHORIZE_PATH = '/csp/gateway/am/api/auth/api-tokens/authorize';
export const AUDIT_PATH = '/csp/gateway/iam/vmwid/api/principal/mfa/audit';

const DAY_MS = 86_400_000;

export type SimUserKind = 'user' | 'service-account' | 'deleted';

export interface CspSimUserOptions {
  /** tenant id the local config uses for this user */
  readonly id: string;
  readonly username: string;
  /** `service-account`: the audit answers 403; `deleted`: 404. Default `user`. */
  readonly kind?: SimUserKind;
  /** API token; default: a deterministic 65-character token */
  readonly apiToken?: string;
  /** events generated for this user; default `eventsPerUser` */
  readonly events?: number;
  /** included in `localVendorSection` (default: true for `user`, false otherwise) */
  readonly tenant?: boolean;
}

export interface CspSimFault {
  readonly endpoint: 'authorize' | 'audit';
  /** e.g. 429, 500, 503, 409 */
  readonly status: number;
  /** how many consecutive calls fail; default 1 */
  readonly times?: number;
  /** calls to this endpoint that succeed before the first failure; default 0 */
  readonly afterCalls?: number;
  /** sent as `Retry-After` (seconds) */
  readonly retryAfterSeconds?: number;
  /**
   * the error message repeats the credential the request carried (authorize: the form's
   * `api_token`; audit: the `csp-auth-token` header), as a careless API might; default false
   */
  readonly echoCredential?: boolean;
  /**
   * the answer carries a Content-Length for its whole body, then the connection drops after this
   * many bytes of it (a dropped connection mid-page); `status` is sent as given (usually 200)
   */
  readonly cutAfterBytes?: number;
}

export interface CspSimulatorOptions {
  readonly port?: number;
  readonly seed?: string | number;
  /** default: three users (one with a non-ASCII name), plus a service account and a deleted user */
  readonly users?: readonly CspSimUserOptions[];
  /** default 240 (about 34 a day over 7 days) */
  readonly eventsPerUser?: number;
  /** generated events fall in [anchor - days, anchor); default anchor: today 00:00 UTC */
  readonly anchor?: Date | string;
  readonly days?: number;
  /** the simulator's clock ("start date cannot be of future", token expiry); default real time */
  readonly now?: () => Date;
  /** add detail keys besides the documented `deviceName` (assumed); default true */
  readonly extraDetailKeys?: boolean;
  /**
   * [UNKNOWN] what `pageStart` counts: `page` (a page number) or `index` (the result the page
   * begins with, as the field's own words say); default `page`. Either way `startIndex` echoes the
   * index of the page's first result, in the same base.
   */
  readonly pageStartMeaning?: 'page' | 'index';
  /** [UNKNOWN] 0- or 1-based `pageStart`; default 1, as sibling CSP APIs document */
  readonly pageStartBase?: 0 | 1;
  /** a `pageStart` below the base: `clamp` (read as the base, and echoed so) or `reject` (400); default clamp */
  readonly belowBase?: 'clamp' | 'reject';
  /** `pageLimit` when the request has none; default 25 (the docs' example) */
  readonly defaultPageLimit?: number;
  /** larger `pageLimit`s are clamped to this and `itemsPerPage` says so; default 200 */
  readonly maxPageLimit?: number;
  /** [UNKNOWN] records reachable by paging: a request whose first result's offset + pageLimit passes it is a 400; default 10000 */
  readonly recordCap?: number;
  /** include `totalResults` ("if available"); default true */
  readonly totalResults?: boolean;
  /** [fault] results past this position are silently not served, while `totalResults` still counts them */
  readonly servesUpTo?: number;
  /** [UNKNOWN] whether an event at exactly `endDate` matches; default true */
  readonly endInclusive?: boolean;
  /** before each audit call past the first page, add an event newest in the queried window */
  readonly insertWhilePaging?: boolean;
  /** accept the deprecated `refresh_token` parameter; default true */
  readonly acceptRefreshToken?: boolean;
  /** `expires_in` reported by the token exchange; default 1799 */
  readonly expiresIn?: number;
  /** real lifetime of an access token on the simulator's clock; default `expiresIn` */
  readonly accessTokenTtlSeconds?: number;
  /** an access token is refused (401) after this many audit calls; default unlimited */
  readonly accessTokenMaxUses?: number;
  readonly faults?: readonly CspSimFault[];
  /** milliseconds to wait before answering each audit call; default 0 */
  readonly auditDelayMs?: number;
  /** how 200 answers are laid out: `compact`, or `pretty` (indented, odd spacing) to show a client keeps bytes; default compact */
  readonly jsonLayout?: 'compact' | 'pretty';
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** lower-case names; `csp-auth-token`, `authorization` and `cookie` are redacted */
  readonly headers: Record<string, string>;
  /** audit: the JSON body; authorize: the parameter names only (never values) */
  readonly body?: unknown;
  readonly status: number;
  /** the user the token belongs to, when known */
  readonly username?: string;
  /** audit pages answered 200: the body bytes exactly as sent */
  readonly sent?: Buffer;
}

export interface CspSimUser {
  readonly id: string;
  readonly username: string;
  readonly kind: SimUserKind;
  readonly apiToken: string;
  readonly tenant: boolean;
}

export interface CspSimulator {
  readonly baseUrl: string;
  readonly users: readonly CspSimUser[];
  /** every request received, in order */
  readonly requests: RecordedRequest[];
  /** events added by `insertWhilePaging`, oldest insertion first */
  readonly inserted: SimMfaEvent[];
  /** token exchanges answered with 200 */
  readonly tokensIssued: () => number;
  /** the user's events in [startMs, endMs), newest first (a copy) */
  eventsFor(username: string, startMs: number, endMs: number): SimMfaEvent[];
  /** replaces a user's events (for hand-made edge cases) */
  setEvents(username: string, events: SimMfaEvent[]): void;
  /** every access token issued so far is refused from now on (401) */
  revokeAccessTokens(): void;
  close(): Promise<void>;
}

interface AccessToken {
  readonly user: CspSimUser;
  readonly expiresAt: number;
  uses: number;
  revoked: boolean;
}

export const DEFAULT_USERS: readonly CspSimUserOptions[] = [
  { id: 'alice', username: 'alice@example.com' },
  { id: 'bjorn', username: 'bjørn.ødegård@example.no' },
  { id: 'chen', username: 'chen.wei@example.com', events: 60 },
  { id: 'robot', username: 'svc-reporting@example.com', kind: 'service-account' },
  { id: 'gone', username: 'former.employee@example.com', kind: 'deleted' },
];

export async function startCspSimulator(options: CspSimulatorOptions = {}): Promise<CspSimulator> {
  const rng = createRng(options.seed ?? 'csp-simulator');
  const now = options.now ?? (() => new Date());
  const anchorMs = startOfUtcDay(options.anchor ? new Date(options.anchor) : now());
  const days = options.days ?? 7;
  const base = options.pageStartBase ?? 1;
  const recordCap = options.recordCap ?? 10_000;
  const expiresIn = options.expiresIn ?? 1799;
  const ttlMs = (options.accessTokenTtlSeconds ?? expiresIn) * 1000;
  const extraDetailKeys = options.extraDetailKeys ?? true;

  const users: CspSimUser[] = (options.users ?? DEFAULT_USERS).map((u) => ({
    id: u.id,
    username: u.username,
    kind: u.kind ?? 'user',
    apiToken: u.apiToken ?? apiToken(rng),
    tenant: u.tenant ?? (u.kind ?? 'user') === 'user',
  }));
  const events = new Map<string, SimMfaEvent[]>();
  for (const [index, user] of users.entries()) {
    const count = (options.users ?? DEFAULT_USERS)[index]?.events ?? options.eventsPerUser ?? 240;
    const generated = generateEvents({
      rng,
      username: user.username,
      count,
      anchorMs,
      days,
      extraDetailKeys,
    });
    events.set(user.username, generated.sort(compareNewestFirst));
  }

  const accessTokens = new Map<string, AccessToken>();
  const requests: RecordedRequest[] = [];
  const inserted: SimMfaEvent[] = [];
  const calls = { authorize: 0, audit: 0 };
  let tokensIssued = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, `simulator failure: ${(error as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const raw = await readBody(req);
    const record = (status: number, body?: unknown, username?: string) => {
      const entry: { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] } = {
        method: req.method ?? '',
        path: url.pathname,
        headers: redactHeaders(req.headers),
        status,
      };
      if (body !== undefined) entry.body = body;
      if (username !== undefined) entry.username = username;
      requests.push(entry);
      return entry;
    };

    if (req.method === 'POST' && url.pathname === AUTHORIZE_PATH) {
      calls.authorize++;
      const form = new URLSearchParams(raw);
      const names = [...new Set([...form.keys(), ...[...url.searchParams.keys()].map((k) => `query:${k}`)])];
      const fault = faultFor('authorize', calls.authorize);
      if (fault) {
        record(fault.status, { parameters: names });
        return sendFault(res, fault, form.get('api_token') ?? form.get('refresh_token') ?? undefined);
      }
      let token = form.get('api_token') ?? undefined;
      if (token === undefined && options.acceptRefreshToken !== false) {
        token = form.get('refresh_token') ?? url.searchParams.get('refresh_token') ?? undefined;
      }
      const user = users.find((u) => u.apiToken === token);
      if (!token || !user) {
        record(400, { parameters: names });
        // the real service echoes part of the token: a client must not copy this message anywhere
        const shown = token ? `${token.slice(0, 8)}...` : '(none)';
        sendJson(res, 400, { moduleCode: 340, message: `invalid_grant: Invalid refresh token: ${shown}` });
        return;
      }
      const access = `sim-at-${randomUUID()}`;
      accessTokens.set(access, { user, expiresAt: now().getTime() + ttlMs, uses: 0, revoked: false });
      tokensIssued++;
      record(200, { parameters: names }, user.username);
      sendJson(res, 200, {
        id_token: `sim-id-${randomUUID()}`,
        token_type: 'bearer',
        expires_in: expiresIn,
        scope: 'openid group_names',
        access_token: access,
        refresh_token: token,
      });
      return;
    }

    if (url.pathname === AUDIT_PATH) {
      if (req.method !== 'POST') {
        record(405);
        return sendError(res, 405, `Request method '${req.method}' is not supported`);
      }
      calls.audit++;
      let body: unknown;
      try {
        body = raw.length > 0 ? JSON.parse(raw) : {};
      } catch {
        record(400, raw);
        return sendError(res, 400, 'Malformed JSON request');
      }
      const fault = faultFor('audit', calls.audit);
      if (fault) {
        record(fault.status, body);
        const header = req.headers['csp-auth-token'];
        return sendFault(res, fault, typeof header === 'string' ? header : undefined);
      }
      const header = req.headers['csp-auth-token'];
      const access = typeof header === 'string' ? accessTokens.get(header) : undefined;
      if (!access || access.revoked || now().getTime() >= access.expiresAt) {
        record(401, body);
        return sendError(res, 401, 'Unauthenticated User');
      }
      access.uses++;
      if (options.accessTokenMaxUses !== undefined && access.uses > options.accessTokenMaxUses) {
        access.revoked = true;
        record(401, body, access.user.username);
        return sendError(res, 401, 'Unauthenticated User');
      }
      const user = access.user;
      if (user.kind === 'service-account') {
        record(403, body, user.username);
        return sendError(res, 403, 'The user is forbidden to use the API');
      }
      if (user.kind === 'deleted') {
        record(404, body, user.username);
        return sendError(res, 404, 'No user with given token exists');
      }
      const answer = audit(user, body);
      const entry = record(answer.status, body, user.username);
      if (options.auditDelayMs) await new Promise((resolve) => setTimeout(resolve, options.auditDelayMs));
      if (answer.status !== 200) return sendError(res, answer.status, answer.message);
      entry.sent = sendJson(res, 200, answer.body, {}, options.jsonLayout);
      return;
    }

    record(404);
    sendError(res, 404, `No handler for ${req.method} ${url.pathname}`);
  }

  function audit(user: CspSimUser, body: unknown): { status: number; body?: unknown; message: string } {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const bad = (message: string) => ({ status: 400, message });
    const { startDate, endDate } = b;
    if (!isEpoch(startDate) || !isEpoch(endDate)) return bad('Date should be given as epoch');
    if (endDate <= startDate) return bad('End date must be greater than start date');
    if (startDate > now().getTime()) return bad('Start date cannot be of future');
    const actions = b.actions as unknown;
    if (actions !== undefined && actions !== null) {
      if (!Array.isArray(actions) || actions.some((a) => !(MFA_AUDIT_ACTIONS as readonly unknown[]).includes(a))) {
        return bad('Specified action is not supported');
      }
    }
    const eventIds = asStringList(b.eventIds);
    const deviceNames = asStringList(b.deviceNames);
    if (eventIds && eventIds.length > 20) return bad('Cannot exceed the limit of 20 event ids');
    if (deviceNames && deviceNames.length > 20) return bad('Cannot exceed the limit of 20 device names');
    const requestedLimit = Number.isInteger(b.pageLimit) && (b.pageLimit as number) > 0 ? (b.pageLimit as number) : 0;
    const pageLimit = requestedLimit || (options.defaultPageLimit ?? 25);
    const asked = Number.isInteger(b.pageStart) ? (b.pageStart as number) : base;
    if (asked < base && options.belowBase === 'reject') return bad(`pageStart must be at least ${base}`);
    const pageStart = Math.max(asked, base);
    const size = Math.min(pageLimit, options.maxPageLimit ?? 200);
    const offset = options.pageStartMeaning === 'index' ? pageStart - base : (pageStart - base) * size;
    if (offset + pageLimit > recordCap) {
      return bad('Combination of page and size exceeds max limit of records fetch');
    }

    const log = events.get(user.username) ?? [];
    const inWindow = (e: SimMfaEvent) =>
      e.eventDate >= startDate && (options.endInclusive === false ? e.eventDate < endDate : e.eventDate <= endDate);
    if (options.insertWhilePaging && offset > 0) {
      const newest = log.find(inWindow)?.eventDate ?? startDate;
      const eventDate = Math.min(newest + 1, options.endInclusive === false ? endDate - 1 : endDate);
      const event = buildEvent(rng, user.username, pickAction(rng), eventDate, extraDetailKeys);
      inserted.push(event);
      log.push(event);
      log.sort(compareNewestFirst);
    }
    const matching = log.filter(
      (e) =>
        inWindow(e) &&
        (!actions || (actions as unknown[]).includes(e.action)) &&
        (!eventIds || eventIds.includes(e.eventId)) &&
        (!deviceNames || deviceNames.includes(String(e.details?.deviceName ?? ''))),
    );
    const results = matching.slice(offset, Math.min(offset + size, options.servesUpTo ?? Number.POSITIVE_INFINITY));
    const page: Record<string, unknown> = { itemsPerPage: size, results, startIndex: base + offset };
    if (options.totalResults !== false) page.totalResults = matching.length;
    return { status: 200, body: page, message: 'OK' };
  }

  function faultFor(endpoint: CspSimFault['endpoint'], call: number): CspSimFault | undefined {
    return options.faults?.find((f) => {
      if (f.endpoint !== endpoint) return false;
      const first = (f.afterCalls ?? 0) + 1;
      return call >= first && call < first + (f.times ?? 1);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    users,
    requests,
    inserted,
    tokensIssued: () => tokensIssued,
    eventsFor(username, startMs, endMs) {
      return (events.get(username) ?? [])
        .filter((e) => e.eventDate >= startMs && e.eventDate < endMs)
        .map((e) => structuredClone(e));
    },
    setEvents(username, list) {
      events.set(username, [...list].sort(compareNewestFirst));
    },
    revokeAccessTokens() {
      for (const token of accessTokens.values()) token.revoked = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * The `csp` config section for the simulator's default tenants (inline credentials: local runs
 * only). Each tenant is one user's API token.
 */
export function localVendorSection(sim: Pick<CspSimulator, 'baseUrl' | 'users'>, extra: Record<string, unknown> = {}) {
  return {
    baseUrl: sim.baseUrl,
    downloadHosts: [] as string[],
    tenants: sim.users
      .filter((u) => u.tenant)
      .map((u) => ({ id: u.id, since: localSince(7), label: u.username, credentials: { apiToken: u.apiToken } })),
    ...extra,
  };
}

/** Random events for hand-made edge cases in tests. */
export function makeEvent(rng: Rng, username: string, eventDate: number, action?: MfaAuditAction): SimMfaEvent {
  return buildEvent(rng, username, action ?? pickAction(rng), eventDate, true);
}

export { createRng } from './data.ts';

function startOfUtcDay(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS) * DAY_MS;
}

function isEpoch(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function asStringList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function redactHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = ['csp-auth-token', 'authorization', 'cookie'].includes(name)
      ? '[redacted]'
      : Array.isArray(value)
        ? value.join(', ')
        : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  layout: 'compact' | 'pretty' = 'compact',
): Buffer {
  // `pretty`: indented, with a space before each colon and a trailing newline, as no JSON.stringify writes
  const text =
    layout === 'pretty' ? `${JSON.stringify(body, null, 3).replaceAll('": ', '" :  ')}\r\n` : JSON.stringify(body);
  const bytes = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': bytes.length,
    ...headers,
  });
  res.end(bytes);
  return bytes;
}

/** The documented error body. */
function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(
    res,
    status,
    {
      cspErrorCode: `410.${status}`,
      errorCode: status === 400 ? 'INVALID_REQUEST' : status === 429 ? 'TOO_MANY_REQUESTS' : `HTTP_${status}`,
      message,
      moduleCode: 410,
      requestId: randomUUID(),
      statusCode: status,
    },
    headers,
  );
}

/** `credential`: what the request carried, repeated in the message when the fault says `echoCredential`. */
function sendFault(res: ServerResponse, fault: CspSimFault, credential?: string): void {
  if (fault.cutAfterBytes !== undefined) {
    const body = Buffer.from(JSON.stringify({ results: [], startIndex: 1, itemsPerPage: 25, totalResults: 0 }));
    res.writeHead(fault.status, { 'content-type': 'application/json', 'content-length': String(body.length) });
    res.write(body.subarray(0, fault.cutAfterBytes), () => res.socket?.destroy());
    return;
  }
  const messages: Record<number, string> = {
    409: 'The request could not be processed due to a conflict',
    429: 'The user has sent too many requests',
    500: 'An unexpected error has occurred while processing the request',
  };
  const headers: Record<string, string> =
    fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
  const message = messages[fault.status] ?? `simulated ${fault.status}`;
  const echoed = fault.echoCredential ? `${message}: invalid token: ${credential ?? '(none)'}` : message;
  sendError(res, fault.status, echoed, headers);
}
