/**
 * The manifest: written last, as the commit mark of a run. One line of JSON (Athena's JSON SerDe
 * reads one object per line), snake_case, validated before it is written.
 *
 * Version 2 names the attempt whose objects it describes, the S3 VersionId of each (null where
 * the store keeps no versions), and the manifest it replaced. Version 1 manifests (deterministic
 * data keys, no VersionIds) stay in the archive and stay readable: `parseStoredManifest` takes both.
 */
import { z } from 'zod';
import { ATTEMPT_ID } from '../layout.ts';

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256');
const ByteCountSchema = z.number().int().nonnegative();
/** null where the bucket keeps no versions (the local s3rver) */
const VersionIdSchema = z.string().min(1).nullable();

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

const ManifestOriginalV1Schema = z
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

export const ManifestOriginalSchema = ManifestOriginalV1Schema.extend({ version_id: VersionIdSchema }).strict();

const DataV1Schema = z
  .object({ key: z.string().min(1), bytes: ByteCountSchema, sha256: Sha256Schema, format: z.literal('jsonl.gz') })
  .strict();

const ManifestV1Schema = z
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
    data: DataV1Schema,
    originals: z.array(ManifestOriginalV1Schema).min(1),
  })
  .strict();

export const ManifestSchema = ManifestV1Schema.extend({
  schema_version: z.literal(2),
  /** the attempt id in the data and original keys */
  attempt: z.string().regex(ATTEMPT_ID),
  data: DataV1Schema.extend({ version_id: VersionIdSchema }).strict(),
  originals: z.array(ManifestOriginalSchema).min(1),
  /** what the connector left out of the table, by reason (e.g. `duplicate_event_id`); `{}` when nothing */
  dropped: z.record(z.string().min(1), z.number().int().nonnegative()),
  /** the manifest this one replaced (a forced or recovering re-run), as it was read before the run */
  replaces: z
    .object({ etag: z.string().min(1), run_id: z.string().min(1).nullable() })
    .strict()
    .nullable(),
}).strict();

/** Any manifest the archive may hold: version 1 (before attempt keys) or 2. */
export const StoredManifestSchema = z.discriminatedUnion('schema_version', [ManifestV1Schema, ManifestSchema]);

export type Manifest = z.infer<typeof ManifestSchema>;
export type StoredManifest = z.infer<typeof StoredManifestSchema>;
export type ManifestOriginal = z.infer<typeof ManifestOriginalSchema>;
export type ManifestEntry = z.infer<typeof ManifestEntrySchema>;

/** Validates and renders the manifest as a single line. */
export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(ManifestSchema.parse(manifest))}\n`;
}

/** Parses a stored manifest of any version; throws on anything else. */
export function parseStoredManifest(text: string): StoredManifest {
  return StoredManifestSchema.parse(JSON.parse(text));
}
