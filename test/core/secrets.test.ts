import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, VendorUnavailableError } from '../../lambdas/core/errors.ts';
import {
  clearSecretCache,
  resolveCredentials,
  type SecretSource,
  secretsManagerSource,
  staticSecretSource,
} from '../../lambdas/core/secrets.ts';

const secretsManager = mockClient(SecretsManagerClient);
// the mocks patch the SDK classes themselves: undo that for the next file in this worker
afterAll(() => {
  secretsManager.restore();
});

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

beforeEach(() => {
  secretsManager.reset();
  clearSecretCache();
});

describe('secretsManagerSource', () => {
  it('caches a secret until the TTL expires', async () => {
    // Prepare
    let clock = 1_000;
    secretsManager.on(GetSecretValueCommand, { SecretId: 'acme' }).resolves({ SecretString: 'v1' });
    const source = secretsManagerSource(new SecretsManagerClient({}), { ttlMs: 60_000, now: () => clock });

    // Act
    const first = await source.getSecretString('acme');
    clock += 59_999;
    const cached = await source.getSecretString('acme');
    const callsWhileFresh = secretsManager.commandCalls(GetSecretValueCommand).length;
    secretsManager.on(GetSecretValueCommand, { SecretId: 'acme' }).resolves({ SecretString: 'v2' });
    clock += 2;
    const refreshed = await source.getSecretString('acme');

    // Assess
    expect([first, cached, refreshed]).toEqual(['v1', 'v1', 'v2']);
    expect(callsWhileFresh).toBe(1);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares the cache across sources (warm invocations)', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'v1' });

    // Act
    await secretsManagerSource(new SecretsManagerClient({})).getSecretString('acme');
    const again = await secretsManagerSource(new SecretsManagerClient({})).getSecretString('acme');

    // Assess
    expect(again).toBe('v1');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('sends one request for concurrent callers', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { SecretString: 'v1' };
    });
    const source = secretsManagerSource(new SecretsManagerClient({}));

    // Act
    const values = await Promise.all([1, 2, 3].map(() => source.getSecretString('acme')));

    // Assess
    expect(values).toEqual(['v1', 'v1', 'v1']);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads a binary secret as UTF-8', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new TextEncoder().encode('{"a":1}') });

    // Act
    const value = await secretsManagerSource(new SecretsManagerClient({})).getSecretString('bin');

    // Assess
    expect(value).toBe('{"a":1}');
  });
});

describe('secretsManagerSource errors', () => {
  it('raises ConfigError naming a secret that does not exist', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the secret", $metadata: {} }));

    // Act
    const error = await rejectionOf(secretsManagerSource(new SecretsManagerClient({})).getSecretString('tenants/acme'));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('secret "tenants/acme" was not found; expected the name or ARN of an existing secret');
  });

  it('raises ConfigError when access is denied', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const error = await rejectionOf(secretsManagerSource(new SecretsManagerClient({})).getSecretString('acme'));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('secret "acme" could not be read: access denied');
  });

  it('raises VendorUnavailableError when throttled, and does not cache the failure', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    secretsManager.on(GetSecretValueCommand).rejectsOnce(throttled).resolves({ SecretString: 'v1' });
    const source = secretsManagerSource(new SecretsManagerClient({}));

    // Act
    const error = await rejectionOf(source.getSecretString('acme'));
    const value = await source.getSecretString('acme');

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error.message).toBe('secret "acme" could not be read: ThrottlingException (HTTP 400)');
    expect(value).toBe('v1');
  });

  it('raises VendorUnavailableError on a 5xx', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(
        Object.assign(new Error('internal'), { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }),
      );

    // Act
    const error = await rejectionOf(secretsManagerSource(new SecretsManagerClient({})).getSecretString('acme'));

    // Assess
    expect(error).toBeInstanceOf(VendorUnavailableError);
  });
});

describe('staticSecretSource', () => {
  it('returns a known secret and names a missing one', async () => {
    // Prepare
    const source = staticSecretSource({ acme: 'value' });

    // Act
    const value = await source.getSecretString('acme');
    const error = await rejectionOf(source.getSecretString('globex'));

    // Assess
    expect(value).toBe('value');
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('secret "globex" was not found; expected one of: acme');
  });
});

describe('resolveCredentials', () => {
  const ApiKeySchema = z.object({ apiKey: z.string() });
  const noSecrets: SecretSource = staticSecretSource({});
  const deps = (overrides: { secrets?: SecretSource; env?: Record<string, string | undefined> } = {}) => ({
    secrets: overrides.secrets ?? noSecrets,
    env: overrides.env ?? {},
    vendor: 'openathens',
  });

  it('uses inline credentials', async () => {
    // Act
    const credentials = await resolveCredentials({ id: 'acme', credentials: { apiKey: 'k' } }, ApiKeySchema, deps());

    // Assess
    expect(credentials).toEqual({ apiKey: 'k' });
  });

  it('reads JSON from the named environment variable', async () => {
    // Act
    const credentials = await resolveCredentials(
      { id: 'acme', credentialsEnv: 'ACME_CREDENTIALS' },
      ApiKeySchema,
      deps({ env: { ACME_CREDENTIALS: '{"apiKey":"k"}' } }),
    );

    // Assess
    expect(credentials).toEqual({ apiKey: 'k' });
  });

  it('raises ConfigError when the environment variable is not set', async () => {
    // Act
    const error = await rejectionOf(
      resolveCredentials({ id: 'acme', credentialsEnv: 'ACME_CREDENTIALS' }, ApiKeySchema, deps()),
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'credentials for openathens tenant "acme": environment variable ACME_CREDENTIALS is not set; expected credentials JSON',
    );
  });

  it('reads JSON from the secret', async () => {
    // Act
    const credentials = await resolveCredentials(
      { id: 'acme', secretName: 'tenants/acme' },
      ApiKeySchema,
      deps({ secrets: staticSecretSource({ 'tenants/acme': '{"apiKey":"k"}' }) }),
    );

    // Assess
    expect(credentials).toEqual({ apiKey: 'k' });
  });

  it.each(['plain-api-key', '12345678'])(
    'passes a non-JSON secret %s as a string when the schema takes one',
    async (raw) => {
      // Act
      const credentials = await resolveCredentials(
        { id: 'acme', secretName: 'tenants/acme' },
        z.string(),
        deps({ secrets: staticSecretSource({ 'tenants/acme': raw }) }),
      );

      // Assess
      expect(credentials).toBe(raw);
    },
  );

  it('refuses a non-JSON secret when the schema expects an object, without quoting it', async () => {
    // Act
    const error = await rejectionOf(
      resolveCredentials(
        { id: 'acme', secretName: 'tenants/acme' },
        ApiKeySchema,
        deps({ secrets: staticSecretSource({ 'tenants/acme': 'hunter2-not-json' }) }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'credentials for openathens tenant "acme": secret "tenants/acme" does not hold JSON; expected a JSON object',
    );
  });

  it('names the missing field', async () => {
    // Act
    const error = await rejectionOf(
      resolveCredentials({ id: 'acme', credentials: { apikey: 'typo' } }, ApiKeySchema, deps()),
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'credentials for openathens tenant "acme": field apiKey: expected string, received undefined',
    );
  });

  it('never echoes a value in a validation message', async () => {
    // Prepare: a refinement whose message repeats the value, and a too-short key
    const schema = z.object({
      clientId: z.string().superRefine((value, ctx) => {
        ctx.addIssue({ code: 'custom', message: `expected a client id starting with "ci_"; received "${value}"` });
      }),
      apiKey: z.string().min(32),
    });

    // Act
    const error = await rejectionOf(
      resolveCredentials(
        { id: 'acme', credentialsEnv: 'CREDS' },
        schema,
        deps({ env: { CREDS: '{"clientId":"zz-client-9","apiKey":"hunter2hunter2"}' } }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'credentials for openathens tenant "acme": field clientId: expected a client id starting with "ci_"; received "[redacted]"; field apiKey: expected string to have >=32 characters',
    );
    expect(error.message).not.toContain('hunter2');
  });

  it('raises ConfigError when the tenant has no credential source', async () => {
    // Act
    const error = await rejectionOf(resolveCredentials({ id: 'acme' }, ApiKeySchema, deps()));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('expected one of secretName, credentials or credentialsEnv');
  });
});

describe('resolveCredentials from one secret for the vendor', () => {
  const ApiKeySchema = z.object({ apiKey: z.string() });
  const VENDOR_SECRET = 'identity-report-archive/openathens';
  const deps = (secrets: SecretSource) => ({ secrets, env: {}, vendor: 'openathens', vendorSecretName: VENDOR_SECRET });
  const holding = (value: string) => staticSecretSource({ [VENDOR_SECRET]: value });
  const twoTenants = JSON.stringify({ acme: { apiKey: 'acme-key-1234' }, globex: { apiKey: 'globex-key-5678' } });

  it('gives each tenant its own entry, from one request to Secrets Manager', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: VENDOR_SECRET }).resolves({ SecretString: twoTenants });
    const source = secretsManagerSource(new SecretsManagerClient({}));

    // Act
    const acme = await resolveCredentials({ id: 'acme' }, ApiKeySchema, deps(source));
    const globex = await resolveCredentials({ id: 'globex' }, ApiKeySchema, deps(source));

    // Assess
    expect(acme).toEqual({ apiKey: 'acme-key-1234' });
    expect(globex).toEqual({ apiKey: 'globex-key-5678' });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('names the tenant and the secret when the secret has no entry for it, quoting nothing of it', async () => {
    // Act
    const error = await rejectionOf(resolveCredentials({ id: 'initech' }, ApiKeySchema, deps(holding(twoTenants))));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `credentials for openathens tenant "initech": secret "${VENDOR_SECRET}" has no entry "initech"; expected a JSON object keyed by tenant id, each holding that tenant's credentials`,
    );
    expect(error.message).not.toMatch(/acme|globex/);
  });

  it.each([
    ['not JSON', 'hunter2-not-json'],
    ['an array', '[{"apiKey":"hunter2hunter2"}]'],
    ['a string', '"hunter2hunter2"'],
  ])('refuses a secret that holds %s, without quoting it', async (_label, value) => {
    // Act
    const error = await rejectionOf(resolveCredentials({ id: 'acme' }, ApiKeySchema, deps(holding(value))));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `credentials for openathens tenant "acme": secret "${VENDOR_SECRET}" does not hold a JSON object; expected a JSON object keyed by tenant id, each holding that tenant's credentials`,
    );
  });

  it("names the field of the tenant's entry that is wrong, never a value", async () => {
    // Prepare: acme's entry has a typo, globex's value must not leak either
    const secret = JSON.stringify({ acme: { apikey: 'hunter2hunter2' }, globex: { apiKey: 'globex-key-5678' } });

    // Act
    const error = await rejectionOf(resolveCredentials({ id: 'acme' }, ApiKeySchema, deps(holding(secret))));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'credentials for openathens tenant "acme": field apiKey: expected string, received undefined',
    );
  });

  it('refuses a tenant that also names a source of its own, naming the tenant and the fields', async () => {
    // Act
    const error = await rejectionOf(
      resolveCredentials({ id: 'acme', secretName: 'tenants/acme' }, ApiKeySchema, deps(holding(twoTenants))),
    );

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `credentials for openathens tenant "acme": expected no secretName when the vendor names secretName "${VENDOR_SECRET}" for every tenant; received secretName`,
    );
  });
});
