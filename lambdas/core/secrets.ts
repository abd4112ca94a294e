/**
 * Tenant credentials: where they come from and how they are checked.
 *
 * 1. A `SecretSource` returns a secret's string: Secrets Manager in deployed runs (cached at
 *    module scope across warm invocations, one request per name at a time), a static map for
 *    local runs and tests.
 * 2. `resolveCredentials` takes the tenant's one credential source (inline, an environment
 *    variable or a secret), parses it with the connector's schema, and reports problems by field
 *    name without ever echoing a value.
 */
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { z } from 'zod';
import { ConfigError, VendorUnavailableError } from './errors.ts';
import { redact } from './logging.ts';

export interface SecretSource {
  getSecretString(name: string): Promise<string>;
}

interface CacheEntry {
  readonly value: Promise<string>;
  /** undefined while the request is in flight */
  expiresAt?: number;
}

// Module scope: survives warm invocations, like the SDK client.
const cache = new Map<string, CacheEntry>();

/** Empties the Secrets Manager cache (tests, or after rotating a secret in a long-lived process). */
export function clearSecretCache(): void {
  cache.clear();
}

const CONFIG_ERROR_NAMES: Readonly<Record<string, string>> = {
  ResourceNotFoundException: 'was not found; expected the name or ARN of an existing secret',
  AccessDeniedException: 'could not be read: access denied; expected secretsmanager:GetSecretValue (and kms:Decrypt)',
  DecryptionFailure: 'could not be decrypted; expected kms:Decrypt on its key',
  InvalidRequestException: 'could not be read (is it scheduled for deletion?)',
  InvalidParameterException: 'could not be read: invalid request',
};

function toSecretError(name: string, error: unknown): Error {
  const { name: errorName, $metadata } = (error ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number } };
  const known = errorName === undefined ? undefined : CONFIG_ERROR_NAMES[errorName];
  if (known) return new ConfigError(`secret "${name}" ${known}`);
  const status = $metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429 && !/Throttl/i.test(errorName ?? '')) {
    return new ConfigError(`secret "${name}" could not be read: ${errorName ?? `HTTP ${status}`}`);
  }
  // Throttling, 5xx, network and timeout errors: worth retrying.
  return new VendorUnavailableError(
    `secret "${name}" could not be read: ${errorName ?? 'unknown error'}${status ? ` (HTTP ${status})` : ''}`,
  );
}

export function secretsManagerSource(
  client: SecretsManagerClient = new SecretsManagerClient({}),
  { ttlMs = 5 * 60_000, now = Date.now }: { ttlMs?: number; now?: () => number } = {},
): SecretSource {
  async function fetchSecret(name: string): Promise<string> {
    let output: GetSecretValueCommandOutput;
    try {
      output = await client.send(new GetSecretValueCommand({ SecretId: name }));
    } catch (error) {
      throw toSecretError(name, error);
    }
    if (output.SecretString !== undefined) return output.SecretString;
    if (output.SecretBinary !== undefined) return Buffer.from(output.SecretBinary).toString('utf8');
    throw new ConfigError(`secret "${name}" has no value; expected a SecretString`);
  }

  return {
    getSecretString(name) {
      const cached = cache.get(name);
      if (cached && (cached.expiresAt === undefined || cached.expiresAt > now())) return cached.value;
      const entry: CacheEntry = { value: fetchSecret(name) };
      cache.set(name, entry);
      entry.value.then(
        () => {
          entry.expiresAt = now() + ttlMs;
        },
        () => {
          // Failures are not cached: the next call asks again.
          if (cache.get(name) === entry) cache.delete(name);
        },
      );
      return entry.value;
    },
  };
}

export function staticSecretSource(
  secrets: Readonly<Record<string, string>> | ReadonlyMap<string, string>,
): SecretSource {
  const map = secrets instanceof Map ? secrets : new Map(Object.entries(secrets));
  return {
    async getSecretString(name) {
      const value = map.get(name);
      if (value === undefined) {
        throw new ConfigError(
          `secret "${name}" was not found; expected one of: ${[...map.keys()].join(', ') || '(no secrets configured)'}`,
        );
      }
      return value;
    },
  };
}

export interface CredentialTenant {
  readonly id: string;
  readonly secretName?: string;
  readonly credentials?: Record<string, unknown>;
  readonly credentialsEnv?: string;
}

export interface ResolveCredentialsDeps {
  readonly secrets: SecretSource;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly vendor: string;
}

/** String values of the input, so a validation message can never repeat one. */
function stringLeaves(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) stringLeaves(item, into);
  return into;
}

function describeIssues(error: z.ZodError, input: unknown): string {
  // Short values ("a", "1") would shred the message and are not secrets worth hiding.
  const values = stringLeaves(input).filter((v) => v.length >= 4);
  return error.issues
    .map((issue) => {
      const message = redact(issue.message.replace(/^(Invalid \w+|Too \w+): /, ''), values);
      return issue.path.length > 0 ? `field ${issue.path.map(String).join('.')}: ${message}` : message;
    })
    .join('; ');
}

export async function resolveCredentials<T>(
  tenant: CredentialTenant,
  schema: z.ZodType<T>,
  deps: ResolveCredentialsDeps,
): Promise<T> {
  const label = `credentials for ${deps.vendor} tenant "${tenant.id}"`;

  const validate = (input: unknown): T => {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    throw new ConfigError(`${label}: ${describeIssues(result.error, input)}`);
  };

  /** JSON, or for schemas that accept one, a plain string (an API key stored as-is). */
  const fromText = (text: string, where: string): T => {
    let parsed: unknown;
    let isJson = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      isJson = false;
    }
    if (isJson) {
      const result = schema.safeParse(parsed);
      if (result.success) return result.data;
    }
    const asString = schema.safeParse(text);
    if (asString.success) return asString.data;
    // Never quote the text or JSON.parse's message: both would echo the secret.
    if (!isJson) throw new ConfigError(`${label}: ${where} does not hold JSON; expected a JSON object`);
    return validate(parsed);
  };

  if (tenant.credentials !== undefined) return validate(tenant.credentials);

  if (tenant.credentialsEnv !== undefined) {
    const text = deps.env[tenant.credentialsEnv];
    if (text === undefined || text === '') {
      throw new ConfigError(
        `${label}: environment variable ${tenant.credentialsEnv} is not set; expected credentials JSON`,
      );
    }
    return fromText(text, `environment variable ${tenant.credentialsEnv}`);
  }

  if (tenant.secretName !== undefined) {
    const text = await deps.secrets.getSecretString(tenant.secretName);
    return fromText(text, `secret "${tenant.secretName}"`);
  }

  throw new ConfigError(`${label}: expected one of secretName, credentials or credentialsEnv; received none`);
}
