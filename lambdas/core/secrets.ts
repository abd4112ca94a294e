/**
 * Tenant credentials: where they come from and how they are checked.
 *
 * 1. A `SecretSource` returns a secret's string: Secrets Manager in deployed runs (cached at
 *    module scope across warm invocations, one request per name at a time), a static map for
 *    local runs and tests.
 * 2. `resolveCredentials` takes the tenant's one credential source (inline, an environment
 *    variable, its own secret, or its entry in the vendor's one secret for every tenant), parses it
 *    with the connector's schema, and reports problems by field name without ever echoing a value.
 */
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { z } from 'zod';
import { ConfigError, VendorUnavailableError } from './errors.ts';
import { redact } from './logging.ts';
import { ownCredentialFields } from './settings.ts';

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
  /**
   * The vendor section's `secretName`: one secret whose JSON object holds every tenant's
   * credentials under its tenant id. Its tenants then have no source of their own.
   * @default - each tenant names its own source
   */
  readonly vendorSecretName?: string;
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

/** Parses credentials for one tenant; every message starts with `label` and never holds a value. */
class CredentialParser<T> {
  constructor(
    private readonly schema: z.ZodType<T>,
    readonly label: string,
  ) {}

  validate(input: unknown): T {
    const result = this.schema.safeParse(input);
    if (result.success) return result.data;
    throw new ConfigError(`${this.label}: ${describeIssues(result.error, input)}`);
  }

  /** JSON, or for schemas that accept one, a plain string (an API key stored as-is). */
  fromText(text: string, where: string): T {
    const parsed = parseJson(text);
    if (parsed.ok) {
      const result = this.schema.safeParse(parsed.value);
      if (result.success) return result.data;
    }
    const asString = this.schema.safeParse(text);
    if (asString.success) return asString.data;
    // Never quote the text or JSON.parse's message: both would echo the secret.
    if (!parsed.ok) throw new ConfigError(`${this.label}: ${where} does not hold JSON; expected a JSON object`);
    return this.validate(parsed.value);
  }

  /** The tenant's entry of a vendor secret: `{ "<tenant id>": <its credentials>, ... }`. */
  fromVendorSecret(text: string, name: string, tenantId: string): T {
    const parsed = parseJson(text);
    const expected = `expected a JSON object keyed by tenant id, each holding that tenant's credentials`;
    if (!parsed.ok || parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
      throw new ConfigError(`${this.label}: secret "${name}" does not hold a JSON object; ${expected}`);
    }
    if (!Object.hasOwn(parsed.value, tenantId)) {
      throw new ConfigError(`${this.label}: secret "${name}" has no entry "${tenantId}"; ${expected}`);
    }
    return this.validate((parsed.value as Record<string, unknown>)[tenantId]);
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * The tenant's credentials from its one source: the vendor's secret (its entry under the tenant
 * id), or the tenant's own inline credentials, environment variable or secret.
 */
export async function resolveCredentials<T>(
  tenant: CredentialTenant,
  schema: z.ZodType<T>,
  deps: ResolveCredentialsDeps,
): Promise<T> {
  const parser = new CredentialParser(schema, `credentials for ${deps.vendor} tenant "${tenant.id}"`);
  const own = ownCredentialFields(tenant);

  if (deps.vendorSecretName !== undefined) {
    if (own.length > 0) {
      throw new ConfigError(
        `${parser.label}: expected no ${own.join(' or ')} when the vendor names secretName "${deps.vendorSecretName}" for every tenant; received ${own.join(', ')}`,
      );
    }
    const text = await deps.secrets.getSecretString(deps.vendorSecretName);
    return parser.fromVendorSecret(text, deps.vendorSecretName, tenant.id);
  }

  if (tenant.credentials !== undefined) return parser.validate(tenant.credentials);

  if (tenant.credentialsEnv !== undefined) {
    const text = deps.env[tenant.credentialsEnv];
    if (text === undefined || text === '') {
      throw new ConfigError(
        `${parser.label}: environment variable ${tenant.credentialsEnv} is not set; expected credentials JSON`,
      );
    }
    return parser.fromText(text, `environment variable ${tenant.credentialsEnv}`);
  }

  if (tenant.secretName !== undefined) {
    const text = await deps.secrets.getSecretString(tenant.secretName);
    return parser.fromText(text, `secret "${tenant.secretName}"`);
  }

  throw new ConfigError(
    `${parser.label}: expected one of secretName, credentials or credentialsEnv, or a secretName for the vendor; received none`,
  );
}
