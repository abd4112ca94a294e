/** The HTTP client's public face: everything outside `core/http/` imports from here. */

export { redactUrl } from '../logging.ts';
export { createHttpClient } from './client.ts';
export { isAllowedHost } from './hosts.ts';
export { ERROR_SNIPPET_CHARS, errorSnippet } from './redaction.ts';
export { parseRetryAfter } from './retry-after.ts';
export type {
  DownloadedBody,
  HttpClient,
  HttpClientOptions,
  HttpRequest,
  HttpResponse,
} from './types.ts';
