/**
 * Talking to the OpenAthens reports API for one organisation: the API key header, errors that
 * name the organisation (never the key), and the task JSON with its links.
 *
 * 1. Every call sends `Authorization: OAApiKey <key>`; 401/403 end the organisation's run with
 *    the documented reason (`badCredentials`, `accountExpired`, `invalidIP`) as a hint.
 * 2. A task is `{ id, status, percentComplete, links[rel, href] }`; links are chosen by `rel`,
 *    never by position, and kept without their query string.
 */
import { z } from 'zod';
import { VendorAuthError, VendorRequestError } from '../../core/errors.ts';
import { errorSnippet, type HttpResponse } from '../../core/http/index.ts';
import { redact, redactUrl } from '../../core/logging.ts';
import type { ConnectorContext } from '../../core/types.ts';
import type { OpenAthensCredentials, OpenAthensSection, OpenAthensTenant } from './settings.ts';

export const TASK_MEDIA_TYPE = 'application/vnd.eduserv.iam.reports.task-v1+json';

export type OpenAthensContext = ConnectorContext<OpenAthensTenant, OpenAthensCredentials, OpenAthensSection>;

const TaskLinkSchema = z.looseObject({
  href: z.string().min(1),
  rel: z.string(),
  type: z.string().optional(),
  method: z.string().optional(),
});

const TaskSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).optional(),
  status: z.string().min(1),
  percentComplete: z.number().optional(),
  links: z.array(TaskLinkSchema).default([]),
});

export type Task = z.infer<typeof TaskSchema>;

export function organisation(ctx: OpenAthensContext): string {
  return `organisation "${ctx.tenant.id}" (api name "${ctx.tenant.apiName}")`;
}

export function baseWithoutSlash(ctx: OpenAthensContext): string {
  return ctx.baseUrl.replace(/\/+$/, '');
}

export async function apiKey(ctx: OpenAthensContext): Promise<string> {
  return (await ctx.credentials()).apiKey;
}

export function headersFor(key: string): Record<string, string> {
  return { authorization: `OAApiKey ${key}`, accept: `${TASK_MEDIA_TYPE}, application/json;q=0.9, */*;q=0.8` };
}

/** Prefixes the organisation to a shared error (same class, so Retry/Catch still match) and scrubs the key. */
export function aboutOrganisation(ctx: OpenAthensContext, error: unknown, key: string | undefined): unknown {
  if (!(error instanceof Error)) return error;
  const secrets = key ? [key] : [];
  const prefix = `openathens ${organisation(ctx)}: `;
  const message = redact(error.message, secrets);
  error.message = message.startsWith(prefix) ? message : `${prefix}${message}`;
  if (error.stack) error.stack = redact(error.stack, secrets);
  return error;
}

export async function readSnippet(response: HttpResponse, key: string): Promise<string> {
  try {
    return errorSnippet(await response.text(), [key]);
  } catch {
    return '';
  }
}

const AUTH_HINTS: Record<string, string> = {
  badCredentials: 'the API key is wrong, disabled or expired',
  accountExpired: 'the account that owns the API key has expired',
  invalidIP: 'the API key may not be used from this IP address',
};

/** 401/403 end this organisation's run: never retried, never naming the key. */
export async function raiseAuthError(
  ctx: OpenAthensContext,
  response: HttpResponse,
  operation: string,
  key: string,
): Promise<never> {
  const text = await readSnippet(response, key);
  if (response.status === 403) {
    throw new VendorAuthError(
      `openathens ${organisation(ctx)}: ${operation} was forbidden (403): expected the reports API to be enabled for this organisation and a key with the Reports API or Full access permission${text ? `; vendor said ${text}` : ''}`,
    );
  }
  let reason = 'unknown';
  let vendorMessage = '';
  try {
    const body = JSON.parse(text) as { reason?: unknown; message?: unknown };
    if (typeof body.reason === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(body.reason)) reason = body.reason;
    if (typeof body.message === 'string') vendorMessage = body.message;
  } catch {
    vendorMessage = text;
  }
  const hint = AUTH_HINTS[reason] ?? 'the API key was refused';
  throw new VendorAuthError(
    `openathens ${organisation(ctx)}: ${operation} was refused (401 ${reason}): ${hint}${vendorMessage ? `; vendor said ${JSON.stringify(vendorMessage)}` : ''}`,
  );
}

/** One API call with the organisation named in any error it raises. */
export async function callApi(
  ctx: OpenAthensContext,
  key: string,
  operation: string,
  url: URL,
  acceptStatus: readonly number[],
): Promise<HttpResponse> {
  try {
    return await ctx.http.request({
      method: 'GET',
      url,
      headers: headersFor(key),
      operation,
      secrets: [key],
      acceptStatus: [401, 403, ...acceptStatus],
    });
  } catch (error) {
    throw aboutOrganisation(ctx, error, key);
  }
}

export async function readTask(
  ctx: OpenAthensContext,
  response: HttpResponse,
  operation: string,
  key: string,
): Promise<Task> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw aboutOrganisation(ctx, error, key);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const start = redact(text, [key]).replace(/\s+/g, ' ').slice(0, 80);
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: ${operation} answered ${response.status} with a body that is not JSON (expected a ${TASK_MEDIA_TYPE} task); received ${JSON.stringify(start)}`,
    );
  }
  const parsed = TaskSchema.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: ${operation} answered a task that does not match the documented shape (status, links[rel, href]); problems at: ${fields}`,
    );
  }
  return parsed.data;
}

/** `scheme://host/path` of a link, resolved against the response that carried it. */
export function linkHref(ctx: OpenAthensContext, task: Task, rel: string, responseUrl: string): string | undefined {
  const link = task.links.find((candidate) => candidate.rel.toUpperCase() === rel);
  if (!link) return undefined;
  let url: URL;
  try {
    url = new URL(link.href, responseUrl);
  } catch {
    throw new VendorRequestError(`openathens ${organisation(ctx)}: the ${rel} link is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VendorRequestError(
      `openathens ${organisation(ctx)}: the ${rel} link must be http(s); received ${JSON.stringify(url.protocol)}`,
    );
  }
  if (url.search !== '') {
    // Documented links carry no query string; `job` must never hold one (it could be a signature).
    ctx.logger.warn('link query string dropped', { rel, parameters: [...url.searchParams.keys()] });
  }
  return redactUrl(url);
}

export function taskIdOf(task: Task): string | undefined {
  return task.id === undefined ? undefined : String(task.id);
}
