/** The streaming archiver core: public API. */
export {
  type ArchiveDeps,
  type ArchiveInput,
  type ArchiveResult,
  archiveReport,
} from './archive-report.ts';
export type { ArchiveLimits } from './limits.ts';
export { type Manifest, ManifestSchema } from './manifest.ts';
