/**
 * One PingOne environment as the connector speaks of it: the context type, the environment's
 * label in every message, shared errors prefixed with it and scrubbed of secrets, and PingOne's
 * error body in a few words.
 */

import { errorSnippet, type HttpResponse } from '../../core/http/index.ts';
import { redact } from '../../core/logging.ts';
import type { ConnectorContext } from '../../core/types.ts';
import type { PingOneCredentials, PingOneSection, PingOneTenant } from './settings.ts';

export type PingOneContext = ConnectorContext<PingOneTenant, PingOneCredentials, PingOneSection>;

export function environmentLabel(ctx: PingOneContext): string {
  return `environment ${ctx.tenant.environmentId} (tenant "${ctx.tenant.id}")`;
}

/** Prefixes the environment to a shared error (same class, so Retry/Catch still match) and scrubs secrets. */
export function aboutEnvironment(ctx: PingOneContext, error: unknown, secrets: readonly string[] = []): unknown {
  if (!(error instanceof Error)) return error;
  const prefix = `pingone ${environmentLabel(ctx)}: `;
  const message = redact(error.message, secrets);
  error.message = message.startsWith(prefix) ? message : `${prefix}${message}`;
  if (error.stack) error.stack = redact(error.stack, secrets);
  return error;
}

/** PingOne's error body as `CODE / DETAIL_CODE: message`, scrubbed and short; '' when it is not one. */
export async function describeErrorBody(response: HttpResponse, secrets: readonly string[]): Promise<string> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(text) as {
      code?: unknown;
      message?: unknown;
      error?: unknown;
      error_description?: unknown;
      details?: { code?: unknown; message?: unknown; target?: unknown }[];
    };
    const codes = [body.code ?? body.error, body.details?.[0]?.code].filter(
      (c): c is string => typeof c === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(c),
    );
    const detail = body.details?.[0];
    const message = [body.message ?? body.error_description, detail?.message]
      .filter((m): m is string => typeof m === 'string')
      .join(' ');
    const target = typeof detail?.target === 'string' ? ` (target ${detail.target})` : '';
    return errorSnippet(`${codes.join(' / ')}${message ? `: ${message}` : ''}${target}`, secrets);
  } catch {
    return errorSnippet(text, secrets, 200);
  }
}
