/** The streaming archiver core: public API. */
export {
  type ArchiveDeps,
  type ArchivedResult,
  type ArchiveInput,
  type ArchiveResult,
  archiveReport,
  type SupersededResult,
} from './archive-report.ts';
export type { ArchiveLimits } from './limits.ts';
export { type Manifest, ManifestSchema, parseStoredManifest, type StoredManifest } from './manifest.ts';
export { ManifestConflictError } from './publish.ts';
export { ObjectExistsError } from './s3-upload.ts';
