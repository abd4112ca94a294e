/**
 * The environment every handler reads, parsed once at init. The CDK side builds it with the same
 * schema (`satisfies HandlerEnvironment`), so the two cannot drift.
 */
import { z } from 'zod';

export const HandlerEnvironmentSchema = z.object({
  VENDOR: z.string().min(1),
  ARCHIVE_BUCKET: z.string().min(1),
  /** KMS key for objects written to the archive */
  ARCHIVE_KMS_KEY_ARN: z.string().min(1).optional(),
  MAX_DOWNLOAD_BYTES: z.coerce.number().int().positive(),
  MAX_EXTRACTED_BYTES: z.coerce.number().int().positive(),
  MAX_COMPRESSION_RATIO: z.coerce.number().positive(),
  SOFTWARE_VERSION: z.string().min(1),
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
});

export type HandlerEnvironment = z.input<typeof HandlerEnvironmentSchema>;
