import type { AppConfig } from '../../lib/config.ts';

/**
 * An application config for local pipeline tests. `vendors` holds already-parsed sections, so
 * tests can use fixture connectors the registry does not list.
 */
export function testAppConfig(
  vendors: Record<string, unknown>,
  archive: Partial<Pick<AppConfig['archive'], 'maxDownloadBytes' | 'maxExtractedBytes' | 'maxCompressionRatio'>> = {},
): AppConfig {
  return {
    stackName: 'Test',
    archive: {
      objectLock: { mode: 'GOVERNANCE', days: 1, allowWeakRetention: true },
      removalPolicy: 'retain',
      transitions: { infrequentAccessDays: 90, glacierInstantRetrievalDays: 365 },
      maxDownloadBytes: 50_000_000,
      maxExtractedBytes: 50_000_000,
      maxCompressionRatio: 1_000,
      maxEntries: 1_000,
      maxDownloadSeconds: 840,
      accessLogRetentionDays: 1,
      ...archive,
    },
    alerts: { topicName: 'alerts', emails: [], freshnessGraceHours: 6 },
    catalog: { databaseName: 'identity_reports', workgroupName: 'wg' },
    events: { source: 'identity-report-archive' },
    vendors,
  } as AppConfig;
}
