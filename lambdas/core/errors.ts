/**
 * Named errors. Step Functions `Retry` and `Catch` match on the error's name, so every class sets
 * `name` explicitly (minifiers rename classes). `retryable` tells the HTTP client and the state
 * machine builder which ones are transient.
 *
 * Messages say what was received and what was expected, and never carry a secret, a token, a
 * password, an API key or a pre-signed URL's query string.
 */
export abstract class ArchiveError extends Error {
  abstract readonly retryable: boolean;
}

function named<T extends string>(name: T, retryable: boolean) {
  return class extends ArchiveError {
    override readonly name: T = name;
    readonly retryable = retryable;
  };
}

// Transient: the state machine retries these with backoff.
/** The vendor answered 429 or otherwise asked us to slow down. `retryAfterSeconds` is the vendor's hint. */
export class VendorThrottledError extends named('VendorThrottledError', true) {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
/** 5xx, connection reset, temporary DNS failure (EAI_AGAIN) or timeout talking to the vendor. */
export class VendorUnavailableError extends named('VendorUnavailableError', true) {}

// Terminal for this tenant and report: retrying will not help.
/** 401/403 or a refused credential: the tenant's credentials or permissions are wrong. */
export class VendorAuthError extends named('VendorAuthError', false) {}
/**
 * The vendor's host does not exist (ENOTFOUND) or refuses connections (ECONNREFUSED, after a few
 * quick tries): a wrong `baseUrl` or a server that is down, which retrying for minutes will not fix.
 */
export class VendorUnreachableError extends named('VendorUnreachableError', false) {}
/** The vendor refused the request as invalid, or answered something the docs do not describe. */
export class VendorRequestError extends named('VendorRequestError', false) {}
/** A URL the vendor handed us points at a host outside the vendor's allowlist. */
export class DisallowedHostError extends named('DisallowedHostError', false) {}
/** The configuration is invalid (bad field, missing secret, malformed credentials). */
export class ConfigError extends named('ConfigError', false) {}
/**
 * The vendor no longer has the report the job produced (an expired link, a purged file). The
 * archive step turns it into a RESTART: the job is started again.
 */
export class ReportExpiredError extends named('ReportExpiredError', false) {}
/** The job did not finish within its attempts or deadline. */
export class DeadlineExceededError extends named('DeadlineExceededError', false) {}

// Bad files: each one ends the archive step and nothing is published.
/** The body is not a zip, gzip, CSV or JSON file (for example an HTML error page served with 200). */
export class UnsupportedFormatError extends named('UnsupportedFormatError', false) {}
/** A zip entry name is absolute or climbs out of the archive with `..`. */
export class UnsafeEntryNameError extends named('UnsafeEntryNameError', false) {}
/**
 * A zip entry is a symbolic link, repeats another entry's name, or shares or overlaps another
 * entry's bytes (the overlapping-entry bomb): no tool writes these by accident.
 */
export class UnsafeEntryError extends named('UnsafeEntryError', false) {}
/** A compressed entry expands beyond the allowed ratio (a zip or gzip bomb). */
export class CompressionRatioError extends named('CompressionRatioError', false) {}
/** The download or an extracted file is larger than the configured limit. */
export class SizeLimitError extends named('SizeLimitError', false) {}
/** The archive or compressed stream ends early, or its checksums do not match. */
export class CorruptArchiveError extends named('CorruptArchiveError', false) {}
/** The password for an encrypted zip entry is wrong or missing. */
export class WrongPasswordError extends named('WrongPasswordError', false) {}
/** A CSV row does not match its header, the header lacks a documented column, or the CSV cannot be parsed. */
export class MalformedCsvError extends named('MalformedCsvError', false) {}
/** A JSON report cannot be parsed or has an unexpected shape. */
export class MalformedJsonError extends named('MalformedJsonError', false) {}
/**
 * What a vendor returned does not add up to what it said it has (e.g. CSP's `totalResults`):
 * the report is never archived short.
 */
export class IncompleteReportError extends named('IncompleteReportError', false) {}

/** Names the state machine retries (with backoff and jitter). */
export const RETRYABLE_ERROR_NAMES = ['VendorThrottledError', 'VendorUnavailableError'] as const;
