/**
 * A built-in OpenAthens reports API (raw statistics), on 127.0.0.1, following
 * https://docs.openathens.net/libraries/fetching-raw-statistics-data-via-the-api and
 * shared/vendors.md §4. Where the docs are silent, the behaviour is an assumption behind a switch.
 *
 * 1. `GET /api/v1/{apiName}/rawreport?date=yyyy-MM-dd` with `Authorization: OAApiKey <key>`:
 *    checks the key, the organisation and the 30-day window (its own injectable clock), creates a
 *    task and answers it FINISHED (DOWN link) or RUNNING (SELF link).
 * 2. `GET /api/v1/{apiName}/rawtask/{id}`: the task, RUNNING until it has been polled
 *    `task.runningPolls` times and `task.durationMs` have passed.
 * 3. `GET /api/v1/{apiName}/rawreport/{id}[?filename=]`: the CSV, gzip (default), zip or plain.
 *
 * Errors: 401 `authenticationError-v1+json` `{reason, message}` (badCredentials, accountExpired,
 * invalidIP), 403 when the reports API is not enabled or the key belongs to another organisation,
 * 400 for a bad or out-of-window date, 404 for an unknown task. Every request is recorded, with
 * the key replaced by `[redacted]`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { localSince } from '../local-since.ts';
import { defaultRowCount, type GeneratedReport, generateReport, toCsv } from './data.ts';
import { zipSingleEntry } from './zip.ts';

export const TASK_CONTENT_TYPE = 'application/vnd.eduserv.iam.reports.task-v1+json';
export const AUTH_ERROR_CONTENT_TYPE = 'application/vnd.eduserv.iam.authenticationError-v1+json';
const DAY_MS = 86_400_000;

export type AuthFailureReason = 'badCredentials' | 'accountExpired' | 'invalidIP';
export type DownloadFormat = 'gzip' | 'zip' | 'plain';

export interface TaskOptions {
  /** RUNNING answers before FINISHED, counting the first response (default 1; 0 = FINISHED at once) */
  readonly runningPolls?: number;
  /** also RUNNING until this much real time has passed since the request (default 0) */
  readonly durationMs?: number;
  /** how long the first request waits for the task before answering (the real API: up to 5 s; default 0) */
  readonly inlineWaitMs?: number;
  /** a finished task reports this status (no links) instead of FINISHED: an undocumented failure */
  readonly finalStatus?: string;
  /** tasks and their reports are forgotten after this long (404), default never */
  readonly ttlMs?: number;
  /** RUNNING forever */
  readonly neverFinish?: boolean;
}

export interface DownloadOptions {
  /** default gzip (the docs say "zipped" and "application/gzip") */
  readonly format?: DownloadFormat;
  /** override the Content-Type (default: per format) */
  readonly contentType?: string;
  /**
   * send a Content-Length for the whole file, then only part of it, then close: every download
   * (true) or the first N downloads of the organisation
   */
  readonly truncate?: boolean | number;
  /** UTF-8 BOM before the header (default true) */
  readonly bom?: boolean;
  /** default CRLF */
  readonly lineEnding?: '\r\n' | '\n';
  /** undocumented non-attribute columns appended to every report (schema drift) */
  readonly extraColumns?: readonly string[];
}

export interface SimulatedOrganisation {
  /** the tenant id the local config uses */
  readonly tenantId: string;
  /** the API name in the URL path */
  readonly apiName: string;
  readonly apiKey: string;
  /** `account.organisation` of its accounts */
  readonly organisationId: string;
  /** its reportable attributes (`attribute.<name>` columns), different per organisation */
  readonly attributes: readonly string[];
  /** false: 403, the reports API is not enabled (default true) */
  readonly reportsEnabled?: boolean;
  /** the key is refused with 401 and this reason */
  readonly keyProblem?: AuthFailureReason;
  /** rows in each of its reports (default: 50–500, fixed per seed and date) */
  readonly rows?: number;
  /** task behaviour for this organisation, over the simulator-wide `task` */
  readonly task?: TaskOptions;
  /** download behaviour for this organisation, over the simulator-wide `download` */
  readonly download?: DownloadOptions;
}

export interface OpenAthensSimulatorOptions {
  readonly port?: number;
  /** the simulator's clock for the 30-day window (default: the real clock) */
  readonly now?: () => Date;
  /** days the API goes back (default 30) */
  readonly windowDays?: number;
  readonly organisations?: readonly SimulatedOrganisation[];
  readonly seed?: number;
  /** rows in every report, unless the organisation sets its own */
  readonly rowsPerReport?: number;
  readonly task?: TaskOptions;
  readonly download?: DownloadOptions;
  /** the first `count` matching requests fail with `status` (429 carries Retry-After) */
  readonly transientErrors?: {
    readonly count: number;
    readonly status?: 429 | 500 | 502 | 503;
    readonly retryAfterSeconds?: number;
    readonly on?: 'any' | 'start' | 'task' | 'download';
  };
  /** origin used in task links (default the simulator's own): a foreign host tests the allowlist */
  readonly linkOrigin?: string;
  /** add links with other `rel` values before the real one (tests selection by rel) */
  readonly decoyLinks?: boolean;
  /** a careless API: every 4xx message repeats the API key the request carried (default false) */
  readonly echoApiKey?: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** lower-case names; the API key replaced by `[redacted]` */
  readonly headers: Readonly<Record<string, string>>;
  /** real time in ms (Date.now()) */
  readonly receivedAt: number;
  /** which endpoint answered */
  readonly kind: 'start' | 'task' | 'download' | 'other';
  status?: number;
}

interface SimTask {
  readonly id: string;
  readonly organisation: SimulatedOrganisation;
  readonly date: string;
  readonly createdAt: number;
  polls: number;
}

export interface OpenAthensSimulator {
  /** `http://127.0.0.1:<port>/api/v1` */
  readonly baseUrl: string;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly organisations: readonly SimulatedOrganisation[];
  readonly requests: RecordedRequest[];
  /** tasks created so far */
  readonly taskCount: () => number;
  /** the rows a report holds (header and fields), for exact expectations */
  report(apiName: string, date: string): GeneratedReport;
  /** the CSV text before compression */
  csv(apiName: string, date: string): string;
  /** forget recorded requests */
  clearRequests(): void;
  close(): Promise<void>;
}

export const DEFAULT_ORGANISATIONS: readonly SimulatedOrganisation[] = [
  {
    tenantId: 'example-org',
    apiName: 'example.org',
    apiKey: 'sim-oa-example-org-5f2c1a9e7b',
    organisationId: '123456',
    attributes: ['department', 'eduPersonAffiliation'],
  },
  {
    // a sub-organisation: its own API name and key
    tenantId: 'example-org-medicine',
    apiName: 'medicine.example.org',
    apiKey: 'sim-oa-medicine-8d41b0c3e2',
    organisationId: '123457',
    attributes: ['costCentre', 'jobTitle', 'department'],
  },
  {
    tenantId: 'hospital-example',
    apiName: 'hospital.example.nhs.uk',
    apiKey: 'sim-oa-hospital-1e9a7c5d3f',
    organisationId: '987654',
    attributes: [],
  },
];

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** [oldest, newest] dates served at `now`: 30 days ago to yesterday, UTC. */
export function simulatorWindow(now: Date, windowDays: number): { oldest: string; newest: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { oldest: isoDay(today - windowDays * DAY_MS), newest: isoDay(today - DAY_MS) };
}

function validDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && isoDay(ms) === text;
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const AUTH_MESSAGES: Record<AuthFailureReason, string> = {
  badCredentials: 'The credentials supplied are not valid',
  accountExpired: 'The account has expired',
  invalidIP: 'Requests are not permitted from this IP address',
};

export async function startOpenAthensSimulator(options: OpenAthensSimulatorOptions = {}): Promise<OpenAthensSimulator> {
  const organisations = options.organisations ?? DEFAULT_ORGANISATIONS;
  const now = options.now ?? (() => new Date());
  const windowDays = options.windowDays ?? 30;
  const seed = options.seed ?? 20230606;
  const requests: RecordedRequest[] = [];
  const tasks = new Map<string, SimTask>();
  let taskCounter = 0;
  let transientServed = 0;
  const downloadsServed = new Map<SimulatedOrganisation, number>();

  function taskOf(organisation: SimulatedOrganisation): TaskOptions & { runningPolls: number } {
    const merged = { ...options.task, ...organisation.task };
    return { ...merged, runningPolls: merged.runningPolls ?? 1 };
  }

  function downloadOf(organisation: SimulatedOrganisation): DownloadOptions {
    return { ...options.download, ...organisation.download };
  }
  let origin = '';

  function rowsFor(organisation: SimulatedOrganisation, date: string): number {
    return organisation.rows ?? options.rowsPerReport ?? defaultRowCount(seed, organisation.apiName, date);
  }

  /** A 4xx answer; with `echoApiKey`, its message repeats the key of the request's Authorization header. */
  function sendError(
    res: ServerResponse,
    status: number,
    body: { readonly message: string; readonly [field: string]: unknown },
    contentType?: string,
  ): void {
    const presented = /^OAApiKey\s+(\S+)$/i.exec(res.req.headers.authorization ?? '')?.[1];
    const message = options.echoApiKey && presented ? `${body.message} (API key ${presented})` : body.message;
    sendJson(res, status, { ...body, message }, contentType);
  }

  function organisationNamed(apiName: string): SimulatedOrganisation {
    const organisation = organisations.find((o) => o.apiName === apiName);
    if (!organisation) throw new Error(`no simulated organisation with api name ${apiName}`);
    return organisation;
  }

  function report(apiName: string, date: string): GeneratedReport {
    const organisation = organisationNamed(apiName);
    return generateReport({
      seed,
      apiName,
      organisationId: organisation.organisationId,
      date,
      rows: rowsFor(organisation, date),
      attributes: organisation.attributes,
      extraColumns: downloadOf(organisation).extraColumns ?? [],
    });
  }

  function csv(apiName: string, date: string): string {
    const download = downloadOf(organisationNamed(apiName));
    return toCsv(report(apiName, date), { bom: download.bom ?? true, lineEnding: download.lineEnding ?? '\r\n' });
  }

  function newTaskId(): string {
    taskCounter += 1;
    const hex = createHash('sha256').update(`${seed}|task|${taskCounter}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-3${hex.slice(13, 16)}-b${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  function isFinished(task: SimTask): boolean {
    const taskOptions = taskOf(task.organisation);
    if (taskOptions.neverFinish) return false;
    return task.polls >= taskOptions.runningPolls && Date.now() - task.createdAt >= (taskOptions.durationMs ?? 0);
  }

  function taskBody(task: SimTask): Record<string, unknown> {
    const taskOptions = taskOf(task.organisation);
    const linkBase = `${options.linkOrigin ?? origin}/api/v1/${encodeURIComponent(task.organisation.apiName)}`;
    const decoys = options.decoyLinks
      ? [
          { href: `${linkBase}/rawreport?date=${task.date}`, rel: 'UP', type: TASK_CONTENT_TYPE, method: 'get' },
          { href: `${linkBase}/rawtask/${task.id}/cancel`, rel: 'CANCEL', type: TASK_CONTENT_TYPE, method: 'delete' },
        ]
      : [];
    if (isFinished(task)) {
      if (taskOptions.finalStatus !== undefined) {
        return { percentComplete: 100, status: taskOptions.finalStatus, links: [], id: task.id };
      }
      return {
        percentComplete: 100,
        status: 'FINISHED',
        links: [
          ...decoys,
          {
            href: `${linkBase}/rawreport/${task.id}`,
            rel: 'DOWN',
            type: 'application/vnd.eduserv.iam.reports.report-v1+json',
            method: 'get',
          },
        ],
        id: task.id,
      };
    }
    const percent = taskOptions.neverFinish
      ? 50
      : Math.min(99, Math.floor((100 * task.polls) / Math.max(taskOptions.runningPolls, 1)));
    return {
      percentComplete: percent,
      status: 'RUNNING',
      links: [
        ...decoys,
        { href: `${linkBase}/rawtask/${task.id}`, rel: 'SELF', type: TASK_CONTENT_TYPE, method: 'get' },
      ],
      id: task.id,
    };
  }

  /** The organisation the request may act for, or an error response already sent. */
  function authorise(req: IncomingMessage, res: ServerResponse, apiName: string): SimulatedOrganisation | undefined {
    const header = req.headers.authorization ?? '';
    const match = /^OAApiKey\s+(\S+)$/i.exec(header);
    const owner = match ? organisations.find((o) => o.apiKey === match[1]) : undefined;
    if (!owner) {
      sendError(res, 401, { reason: 'badCredentials', message: AUTH_MESSAGES.badCredentials }, AUTH_ERROR_CONTENT_TYPE);
      return undefined;
    }
    if (owner.keyProblem) {
      sendError(
        res,
        401,
        { reason: owner.keyProblem, message: AUTH_MESSAGES[owner.keyProblem] },
        AUTH_ERROR_CONTENT_TYPE,
      );
      return undefined;
    }
    // "The report will only cover the organisation where the API key sits."
    if (owner.apiName !== apiName) {
      sendError(res, 403, { message: `The API key is not authorised for organisation ${apiName}` });
      return undefined;
    }
    if (owner.reportsEnabled === false) {
      sendError(res, 403, { message: 'The reports API is not enabled for this organisation' });
      return undefined;
    }
    return owner;
  }

  function findTask(organisation: SimulatedOrganisation, id: string): SimTask | undefined {
    const task = tasks.get(id);
    if (!task || task.organisation !== organisation) return undefined;
    const ttlMs = taskOf(organisation).ttlMs;
    if (ttlMs !== undefined && Date.now() - task.createdAt > ttlMs) {
      tasks.delete(id);
      return undefined;
    }
    return task;
  }

  async function handleStart(req: IncomingMessage, res: ServerResponse, apiName: string, url: URL): Promise<void> {
    const organisation = authorise(req, res, apiName);
    if (!organisation) return;
    const date = url.searchParams.get('date') ?? '';
    if (!validDate(date)) {
      sendError(res, 400, { status: 400, message: `Invalid date '${date}': expected the format yyyy-MM-dd` });
      return;
    }
    const window = simulatorWindow(now(), windowDays);
    if (date < window.oldest || date > window.newest) {
      // Assumed body: the real one for a bad date is undocumented.
      sendError(res, 400, {
        status: 400,
        message: `Invalid date '${date}': raw statistics are available from ${window.oldest} to ${window.newest}`,
      });
      return;
    }
    const task: SimTask = { id: newTaskId(), organisation, date, createdAt: Date.now(), polls: 0 };
    tasks.set(task.id, task);
    // The real API waits up to 5 s for the job before answering.
    const taskOptions = taskOf(organisation);
    const inlineWait = taskOptions.inlineWaitMs ?? 0;
    if (inlineWait > 0) {
      // Until the task is finished or the wait is over. Checked against the same clock as
      // isFinished: a timer of exactly durationMs could fire a millisecond before it says so.
      const deadline = Date.now() + inlineWait;
      while (!isFinished(task) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(5, deadline - Date.now()))));
      }
    }
    sendJson(res, 200, taskBody(task), TASK_CONTENT_TYPE);
    task.polls += 1;
  }

  function handleTask(req: IncomingMessage, res: ServerResponse, apiName: string, id: string): void {
    const organisation = authorise(req, res, apiName);
    if (!organisation) return;
    const task = findTask(organisation, id);
    if (!task) {
      sendError(res, 404, { status: 404, message: `Task ${id} not found` });
      return;
    }
    sendJson(res, 200, taskBody(task), TASK_CONTENT_TYPE);
    task.polls += 1;
  }

  function handleDownload(req: IncomingMessage, res: ServerResponse, apiName: string, id: string, url: URL): void {
    const organisation = authorise(req, res, apiName);
    if (!organisation) return;
    const task = findTask(organisation, id);
    if (!task) {
      sendError(res, 404, { status: 404, message: `Report ${id} not found` });
      return;
    }
    if (!isFinished(task) || taskOf(organisation).finalStatus !== undefined) {
      sendError(res, 409, { status: 409, message: `Report ${id} is not ready` });
      return;
    }
    const download = downloadOf(organisation);
    const format: DownloadFormat = download.format ?? 'gzip';
    const served = (downloadsServed.get(organisation) ?? 0) + 1;
    downloadsServed.set(organisation, served);
    const fileName = url.searchParams.get('filename') ?? `rawstats_${task.date}.csv`;
    const plain = Buffer.from(csv(apiName, task.date), 'utf8');
    const body =
      format === 'gzip'
        ? gzipSync(plain)
        : format === 'zip'
          ? zipSingleEntry(fileName, plain, new Date(`${task.date}T00:00:00Z`))
          : plain;
    const contentType =
      download.contentType ??
      (format === 'gzip' ? 'application/gzip' : format === 'zip' ? 'application/zip' : 'text/csv');
    const suffix = format === 'gzip' ? '.gz' : format === 'zip' ? '.zip' : '';
    res.writeHead(200, {
      'content-type': contentType,
      'content-length': body.length,
      'content-disposition': `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}${suffix}"`,
    });
    const truncate = download.truncate ?? false;
    if (truncate === true || (typeof truncate === 'number' && served <= truncate)) {
      // Promise the whole file, send part of it, hang up.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        res.socket?.destroy();
      });
      return;
    }
    res.end(body);
  }

  function injectTransient(res: ServerResponse, kind: RecordedRequest['kind']): boolean {
    const transient = options.transientErrors;
    if (!transient || transientServed >= transient.count) return false;
    const on = transient.on ?? 'any';
    if (on !== 'any' && on !== kind) return false;
    transientServed += 1;
    const status = transient.status ?? 500;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 429 || status === 503) headers['retry-after'] = String(transient.retryAfterSeconds ?? 1);
    const text = JSON.stringify({ status, message: status === 429 ? 'Too many requests' : 'Internal server error' });
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let kind: RecordedRequest['kind'] = 'other';
    let route: (() => Promise<void> | void) | undefined;
    if (segments[0] === 'api' && segments[1] === 'v1' && segments.length >= 4) {
      const apiName = segments[2] as string;
      if (segments[3] === 'rawreport' && segments.length === 4) {
        kind = 'start';
        route = () => handleStart(req, res, apiName, url);
      } else if (segments[3] === 'rawtask' && segments.length === 5) {
        kind = 'task';
        route = () => handleTask(req, res, apiName, segments[4] as string);
      } else if (segments[3] === 'rawreport' && segments.length === 5) {
        kind = 'download';
        route = () => handleDownload(req, res, apiName, segments[4] as string, url);
      }
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = name === 'authorization' ? String(value).replace(/^(\S+\s+).*$/, '$1[redacted]') : String(value);
    }
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      receivedAt: Date.now(),
      kind,
    };
    requests.push(recorded);
    res.on('finish', () => {
      recorded.status = res.statusCode;
    });
    res.on('close', () => {
      recorded.status ??= res.statusCode;
    });

    if (injectTransient(res, kind)) return;
    if (!route) {
      sendError(res, 404, { status: 404, message: `No resource at ${url.pathname}` });
      return;
    }
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      sendError(res, 405, { status: 405, message: `Method ${req.method} not allowed` });
      return;
    }
    await route();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { status: 500, message: (error as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  origin = `http://${host}`;

  return {
    baseUrl: `${origin}/api/v1`,
    host,
    organisations,
    requests,
    taskCount: () => taskCounter,
    report,
    csv,
    clearRequests: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * The `vendors.openathens` config section for this simulator: its base URL and one tenant per
 * simulated organisation, with inline credentials (local runs only), a short poll interval and
 * enough concurrency for a first run, which fetches the whole window (3 × 30 reports).
 */
export function localVendorSection(sim: Pick<OpenAthensSimulator, 'baseUrl' | 'organisations'>) {
  return {
    baseUrl: sim.baseUrl,
    downloadHosts: [] as string[],
    poll: { intervalSeconds: 1, maxAttempts: 30, deadlineMinutes: 5 },
    // a first run fetches the whole 30-day window for every organisation
    maxConcurrency: 4,
    tenants: sim.organisations.map((organisation) => ({
      id: organisation.tenantId,
      since: localSince(30),
      apiName: organisation.apiName,
      credentials: { apiKey: organisation.apiKey },
    })),
  };
}
