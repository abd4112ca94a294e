/** The streaming archiver core: public API. */
export {
  type ArchiveDeps,
  type ArchiveInput,
  type ArchiveResult,
  archiveReport,
} from './archive-report.ts';
export { type ArchiveLimits, RATIO_GRACE_BYTES } from './limits.ts';
export {
  type Manifest,
  type ManifestEntry,
  ManifestEntrySchema,
  type ManifestOriginal,
  ManifestOriginalSchema,
  ManifestSchema,
} from './manifest.ts';
export { type FileFormat, sniffFormat } from './sniff.ts';
