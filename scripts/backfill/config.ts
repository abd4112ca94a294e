/** The backfill's view of the configuration: the section of the one vendor it was asked for. */
import { type AppConfig, enabledVendors } from '../../lib/config.ts';
import { BackfillError } from './errors.ts';

/** The vendor's config section, or a BackfillError when it is absent or disabled. */
export function enabledVendorSection(config: AppConfig, vendor: string, source: string): unknown {
  const enabled = enabledVendors(config);
  const section = enabled.find(([id]) => id === vendor)?.[1];
  if (!section) {
    throw new BackfillError(
      `vendor "${vendor}" is not enabled in ${source}; expected one of: ${enabled.map(([id]) => id).join(', ') || '(none enabled)'}`,
    );
  }
  return section;
}
