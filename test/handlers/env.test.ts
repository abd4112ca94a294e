/**
 * The handler environment: what `handlerEnvironment` fills from the config is what a handler
 * parses back, every archive limit included, through Lambda's string variables.
 */
import { describe, expect, it } from 'vitest';
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

function roundTrip(archive: Record<string, unknown>, kmsKeyArn?: string) {
  const environment = handlerEnvironment({
    vendor: 'openathens',
    bucket: 'archive-bucket',
    kmsKeyArn,
    limits: ArchiveSettingsSchema.parse(archive),
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
    });
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
