/**
 * PingOne file mode (`deliverAs: ASYNC_FILE`): the zipped CSV and JSON behind pre-signed links.
 *
 * 1. GET the dataExploration again for fresh links and the zip password, and open the zipped CSV
 *    (`data`) and the zipped JSON (`original`) at once, without an Authorization header.
 * 2. A 403 from the storage host (links live 5 minutes) → PENDING, and the next round fetches
 *    fresh links (bounded by `maxLinkRefreshes`); 404 → RESTART.
 * 3. The zip password lives in memory only: never in `job`, a result, a log line or an error.
 */
import { VendorRequestError } from '../../core/errors.ts';
import type { HttpResponse } from '../../core/http/index.ts';
import type { DownloadedBody, FetchResult, JobResult, ReportRequest, ReportSource } from '../../core/types.ts';
import { aboutEnvironment, environmentLabel, type PingOneContext } from './environment.ts';
import {
  fromStatus,
  getExploration,
  type JobState,
  jobOut,
  manifestJob,
  requestParameters,
  restart,
  tooOld,
} from './job.ts';

/** `devices-report-<env>-<uuid>.csv.zip` from a pre-signed URL's path; never its query string. */
function fileNameOf(url: string, fallback: string): string {
  try {
    const last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    const safe = last.replace(/[^A-Za-z0-9._-]/g, '_');
    return /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(safe) ? safe : fallback;
  } catch {
    return fallback;
  }
}

/** The JSON zip's link: undocumented name (`jsonPresignedUrl` by symmetry), found leniently. */
function findJsonLink(body: Record<string, unknown>): string | undefined {
  if (typeof body.jsonPresignedUrl === 'string') return body.jsonPresignedUrl;
  for (const [key, value] of Object.entries(body)) {
    if (/json.*url/i.test(key) && typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

type Opened = { kind: 'open'; body: DownloadedBody } | { kind: 'refused' } | { kind: 'gone' };

/**
 * GET a pre-signed link: allowlisted host, no Authorization header, query string never logged
 * (the shared client redacts it). `request` rather than `download` because 403 (expired link)
 * and 404 (object gone) mean something here and `download` has no `acceptStatus`.
 */
async function openLink(
  ctx: PingOneContext,
  url: string,
  operation: string,
  password: string | undefined,
): Promise<Opened> {
  const secrets = password ? [password] : [];
  let response: HttpResponse;
  try {
    response = await ctx.http.request({ method: 'GET', url, operation, secrets, acceptStatus: [403, 404] });
  } catch (error) {
    throw aboutEnvironment(ctx, error, secrets);
  }
  if (response.status === 403 || response.status === 404) {
    response.body.destroy();
    return { kind: response.status === 403 ? 'refused' : 'gone' };
  }
  const length = response.headers['content-length'];
  return {
    kind: 'open',
    body: {
      body: response.body,
      ...(response.headers['content-type'] ? { contentType: response.headers['content-type'] } : {}),
      ...(length && /^\d+$/.test(length) ? { contentLength: Number(length) } : {}),
    },
  };
}

function onceSource(
  fileName: string,
  role: 'data' | 'original',
  body: DownloadedBody,
  password: string | undefined,
): ReportSource {
  let opened = false;
  return {
    fileName,
    role,
    ...(password ? { password } : {}),
    async open() {
      if (opened) throw new Error(`${fileName} was already opened; a pre-signed download can be read once`);
      opened = true;
      return body;
    },
  };
}

/** The storage host refused a link (403, expired): fetch fresh links next round, within `maxLinkRefreshes`. */
function afterRefusedLink(ctx: PingOneContext, state: JobState): JobResult {
  state.linkRefreshes += 1;
  if (state.linkRefreshes > ctx.settings.maxLinkRefreshes) {
    return {
      status: 'FAILED',
      job: jobOut(state),
      reason: `pingone ${environmentLabel(ctx)}: the storage host refused the report links (HTTP 403) ${state.linkRefreshes} times in a row, fresh links included; expected pre-signed links valid for 5 minutes`,
    };
  }
  ctx.logger.warn('report link refused by the storage host; fetching fresh links', {
    explorationId: state.explorationId,
    linkRefreshes: state.linkRefreshes,
  });
  return {
    status: 'PENDING',
    job: jobOut(state),
    waitSeconds: Math.max(1, Math.ceil(ctx.settings.callIntervalMs / 1000)),
  };
}

export async function fetchFiles(ctx: PingOneContext, request: ReportRequest, state: JobState): Promise<FetchResult> {
  if (tooOld(ctx, state)) {
    return restart(state, 'the report is older than the 2-hour file cache; requesting it again');
  }
  const found = await getExploration(ctx, state, 'get mfa report links');
  if (found.status === 'GONE') {
    return restart(state, `dataExploration ${state.explorationId} is gone (HTTP 404); requesting the report again`);
  }
  const body = found.body;
  if (body.status !== 'SUCCESS') return fromStatus(ctx, state, body.status, 'fetch');
  const password = typeof body.zipPassword === 'string' && body.zipPassword.length > 0 ? body.zipPassword : undefined;
  const csvUrl = typeof body.csvPresignedUrl === 'string' ? body.csvPresignedUrl : undefined;
  if (!csvUrl) {
    throw new VendorRequestError(
      `pingone ${environmentLabel(ctx)}: dataExploration ${state.explorationId} is SUCCESS without csvPresignedUrl; expected the zipped CSV link`,
    );
  }
  const jsonUrl = findJsonLink(body);
  if (!password) ctx.logger.warn('report finished without a zip password; expecting unencrypted zips');
  if (!jsonUrl) ctx.logger.warn('report finished without a JSON link; archiving the CSV only');

  // Both at once: the links expire 5 minutes after this GET.
  const settled = await Promise.allSettled([
    openLink(ctx, csvUrl, 'download mfa report csv', password),
    ...(jsonUrl ? [openLink(ctx, jsonUrl, 'download mfa report json', password)] : []),
  ]);
  const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const closeAll = () => {
    for (const o of opened) if (o.kind === 'open') o.body.body.destroy();
  };
  if (failure) {
    closeAll();
    throw failure.reason;
  }
  if (opened.some((o) => o.kind === 'gone')) {
    closeAll();
    return restart(
      state,
      `the report files of dataExploration ${state.explorationId} are gone (HTTP 404); requesting the report again`,
    );
  }
  if (opened.some((o) => o.kind === 'refused')) {
    closeAll();
    return afterRefusedLink(ctx, state);
  }
  const bodies = opened.flatMap((o) => (o.kind === 'open' ? [o.body] : []));
  const [csv, json] = bodies;
  if (!csv) throw new VendorRequestError(`pingone ${environmentLabel(ctx)}: the CSV download did not open`);
  const sources: ReportSource[] = [onceSource(fileNameOf(csvUrl, 'mfa-devices-report.csv.zip'), 'data', csv, password)];
  if (json && jsonUrl) {
    sources.push(onceSource(fileNameOf(jsonUrl, 'mfa-devices-report.json.zip'), 'original', json, password));
  }
  ctx.logger.info('mfa report files opened', {
    report: request.report,
    explorationId: state.explorationId,
    files: sources.map((s) => s.fileName),
    encrypted: password !== undefined,
  });
  return {
    status: 'FETCHED',
    sources,
    requestParameters: requestParameters(ctx),
    job: manifestJob(body, { checks: state.checks, linkRefreshes: state.linkRefreshes }),
  };
}
