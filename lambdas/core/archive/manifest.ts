/**
 * The manifest: written last, as the commit mark of a run. One line of JSON (Athena's JSON SerDe
 * reads one object per line), snake_case, validated before it is written.
 */
import { z } from 'zod';

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256');
const ByteCountSchema = z.number().int().nonnegative();

export const ManifestEntrySchema = z
  .object({
    name: z.string().min(1),
    /** extracted bytes */
    bytes: ByteCountSchema,
    /** SHA-256 of the extracted bytes */
    sha256: Sha256Schema,
    encryption: z.enum(['none', 'zipcrypto', 'aes']),
  })
  .strict();

export const ManifestOriginalSchema = z
  .object({
    file_name: z.string().min(1),
    key: z.string().min(1),
    role: z.enum(['data', 'original']),
    bytes: ByteCountSchema,
    sha256: Sha256Schema,
    /** `json-pages`: a paged API's response bodies as received, back to back (one entry each) */
    format: z.enum(['zip', 'gzip', 'csv', 'json', 'json-pages']),
    /** as the vendor served it; informational only (formats are sniffed) */
    content_type: z.string().nullable(),
    entries: z.array(ManifestEntrySchema),
  })
  .strict();

export const ManifestSchema = z
  .object({
    schema_version: z.literal(1),
    vendor: z.string().min(1),
    tenant: z.string().min(1),
    report: z.string().min(1),
    report_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    run_id: z.string().min(1),
    started_at: z.iso.datetime(),
    completed_at: z.iso.datetime(),
    software_version: z.string().min(1),
    request_parameters: z.record(z.string(), z.json()),
    job: z.record(z.string(), z.json()),
    row_count: ByteCountSchema,
    columns: z.array(z.string().min(1)),
    data: z
      .object({ key: z.string().min(1), bytes: ByteCountSchema, sha256: Sha256Schema, format: z.literal('jsonl.gz') })
      .strict(),
    originals: z.array(ManifestOriginalSchema).min(1),
    /** what the connector left out of the table, by reason (e.g. `duplicate_event_id`); `{}` when nothing */
    dropped: z.record(z.string().min(1), z.number().int().nonnegative()),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestOriginal = z.infer<typeof ManifestOriginalSchema>;
export type ManifestEntry = z.infer<typeof ManifestEntrySchema>;

/** Validates and renders the manifest as a single line. */
export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(ManifestSchema.parse(manifest))}\n`;
}
