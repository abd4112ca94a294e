/**
 * The environment every handler reads, and the one function that fills it from the configuration.
 * The CDK side sets `handlerEnvironment(...)` on each function; the local runner parses the same
 * values as a deployed handler parses `process.env`, so the two cannot drift.
 */
import { z } from 'zod';
import { type ArchiveLimits, reportBytesWithin } from '../core/archive/limits.ts';
import type { FunctionSizing } from '../core/settings.ts';
import { formatIssues } from '../core/zod-issues.ts';

export const HandlerEnvironmentSchema = z.object({
  VENDOR: z.string().min(1),
  ARCHIVE_BUCKET: z.string().min(1),
  /** KMS key for objects written to the archive */
  ARCHIVE_KMS_KEY_ARN: z.string().min(1).optional(),
  MAX_DOWNLOAD_BYTES: z.coerce.number().int().positive(),
  MAX_EXTRACTED_BYTES: z.coerce.number().int().positive(),
  MAX_COMPRESSION_RATIO: z.coerce.number().positive(),
  MAX_ENTRIES: z.coerce.number().int().positive(),
  MAX_DOWNLOAD_SECONDS: z.coerce.number().int().positive(),
  /** the largest declared report file the archive function can parse within its timeout */
  MAX_REPORT_BYTES: z.coerce.number().int().positive(),
  SOFTWARE_VERSION: z.string().min(1),
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
});

/** What the CDK side sets (numbers become strings in Lambda; the schema coerces them back). */
export type HandlerEnvironment = z.input<typeof HandlerEnvironmentSchema>;
/** What a handler reads after parsing. */
export type ParsedHandlerEnvironment = z.output<typeof HandlerEnvironmentSchema>;

export interface HandlerEnvironmentOptions {
  /** the connector's vendor id */
  readonly vendor: string;
  readonly bucket: string;
  /** the key that encrypts the archive; local runs have none */
  readonly kmsKeyArn?: string;
  /** the `archive` config section (it carries every archive limit) */
  readonly limits: ArchiveLimits;
  /** the archive function's memory and timeout (the vendor's `functions.archive`): they bound the report size */
  readonly archiveFunction: Pick<FunctionSizing['archive'], 'memoryMb' | 'timeoutMinutes'>;
  /** recorded in every manifest */
  readonly softwareVersion: string;
}

/** One vendor's handler environment, from the configuration. */
export function handlerEnvironment(options: HandlerEnvironmentOptions) {
  const { limits } = options;
  return {
    VENDOR: options.vendor,
    ARCHIVE_BUCKET: options.bucket,
    ARCHIVE_KMS_KEY_ARN: options.kmsKeyArn,
    MAX_DOWNLOAD_BYTES: limits.maxDownloadBytes,
    MAX_EXTRACTED_BYTES: limits.maxExtractedBytes,
    MAX_COMPRESSION_RATIO: limits.maxCompressionRatio,
    MAX_ENTRIES: limits.maxEntries,
    MAX_DOWNLOAD_SECONDS: limits.maxDownloadSeconds,
    MAX_REPORT_BYTES: reportBytesWithin(options.archiveFunction),
    SOFTWARE_VERSION: options.softwareVersion,
    POWERTOOLS_SERVICE_NAME: 'identity-report-archive',
  } satisfies HandlerEnvironment;
}

/** Parses an environment (`process.env` in a deployed function); names every bad variable. */
export function parseHandlerEnvironment(raw: Readonly<Record<string, unknown>>): ParsedHandlerEnvironment {
  const parsed = HandlerEnvironmentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid handler environment: ${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** The archive step's limits, from a parsed environment. */
export function archiveLimits(environment: ParsedHandlerEnvironment): ArchiveLimits {
  return {
    maxDownloadBytes: environment.MAX_DOWNLOAD_BYTES,
    maxExtractedBytes: environment.MAX_EXTRACTED_BYTES,
    maxCompressionRatio: environment.MAX_COMPRESSION_RATIO,
    maxEntries: environment.MAX_ENTRIES,
    maxDownloadSeconds: environment.MAX_DOWNLOAD_SECONDS,
    maxReportBytes: environment.MAX_REPORT_BYTES,
  };
}
