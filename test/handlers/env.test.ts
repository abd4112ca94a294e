/**
 * The handler environment: what `handlerEnvironment` fills from the config is what a handler
 * parses back, every archive limit included, through Lambda's string variables.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FUNCTION_SIZING, type FunctionSizing } from '../../lambdas/core/settings.ts';
import {
  archiveLimits,
  HandlerEnvironmentSchema,
  handlerEnvironment,
  parseHandlerEnvironment,
} from '../../lambdas/handlers/env.ts';
import { ArchiveSettingsSchema } from '../../lib/config.ts';

const GiB = 1024 ** 3;

/** As Lambda hands it over: every value a string, absent ones not set. */
function asLambdaVariables(environment: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, String(value)]),
  );
}

function roundTrip(
  archive: Record<string, unknown>,
  kmsKeyArn?: string,
  archiveFunction: FunctionSizing['archive'] = DEFAULT_FUNCTION_SIZING.archive,
) {
  const environment = handlerEnvironment({
    vendor: 'openathens',
    bucket: 'archive-bucket',
    kmsKeyArn,
    limits: ArchiveSettingsSchema.parse(archive),
    archiveFunction,
    softwareVersion: '1.2.3',
  });
  return parseHandlerEnvironment(asLambdaVariables(environment));
}

describe('handlerEnvironment', () => {
  it("carries the config's default archive limits to the handler", () => {
    // Act
    const parsed = roundTrip({});

    // Assert
    expect(archiveLimits(parsed)).toEqual({
      maxDownloadBytes: 9 * GiB,
      maxExtractedBytes: 100 * GiB,
      maxCompressionRatio: 1_000,
      maxEntries: 1_000,
      maxDownloadSeconds: 840,
      // one vCPU (1,769 MB) for 15 minutes: 810 s of parsing at 52 CPU s per GB
      maxReportBytes: 15_576_923_076,
    });
  });

  it('carries limits set in the config, maxEntries and maxDownloadSeconds included', () => {
    // Act
    const parsed = roundTrip({
      maxDownloadBytes: 1_000,
      maxExtractedBytes: 2_000,
      maxCompressionRatio: 50,
      maxEntries: 7,
      maxDownloadSeconds: 30,
    });

    // Assert
    expect(archiveLimits(parsed)).toEqual({
      maxDownloadBytes: 1_000,
      maxExtractedBytes: 2_000,
      maxCompressionRatio: 50,
      maxEntries: 7,
      maxDownloadSeconds: 30,
      maxReportBytes: 15_576_923_076,
    });
  });

  it("derives the largest report from the archive function's memory and timeout", () => {
    // Act
    const limit = (memoryMb: number, timeoutMinutes: number) =>
      archiveLimits(roundTrip({}, undefined, { memoryMb, timeoutMinutes, ephemeralStorageMb: 10_240 })).maxReportBytes;

    // Assert: a share of a vCPU below 1,769 MB, no more than one above it, in proportion to the time
    expect(limit(1769, 15)).toBe(15_576_923_076);
    expect(limit(3538, 15)).toBe(15_576_923_076);
    expect(limit(512, 15)).toBe(4_508_414_140);
    expect(limit(1769, 5)).toBe(5_192_307_692);
  });

  it('sets the KMS key only when there is one (local runs have none)', () => {
    expect(roundTrip({}, 'arn:aws:kms:eu-west-1:123456789012:key/k').ARCHIVE_KMS_KEY_ARN).toBe(
      'arn:aws:kms:eu-west-1:123456789012:key/k',
    );
    expect(roundTrip({}).ARCHIVE_KMS_KEY_ARN).toBeUndefined();
  });

  it('fills every variable of the schema', () => {
    // Prepare
    const environment = handlerEnvironment({
      vendor: 'csp',
      bucket: 'b',
      kmsKeyArn: 'k',
      limits: ArchiveSettingsSchema.parse({}),
      archiveFunction: DEFAULT_FUNCTION_SIZING.archive,
      softwareVersion: 'v',
    });

    // Assert
    expect(Object.keys(environment).sort()).toEqual(Object.keys(HandlerEnvironmentSchema.shape).sort());
  });
});

describe('parseHandlerEnvironment', () => {
  it('names every missing or bad variable', () => {
    // Act
    const parsing = () =>
      parseHandlerEnvironment({ ...asLambdaVariables(roundTrip({})), MAX_ENTRIES: 'many', VENDOR: '' });

    // Assert
    expect(parsing).toThrow(/^invalid handler environment: VENDOR: .+; MAX_ENTRIES: .+$/);
  });
});
