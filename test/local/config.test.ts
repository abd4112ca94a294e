import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';

function problems(raw: unknown): string {
  try {
    parseConfig(raw, 'my-config.json', 'local');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('parseConfig: unknown keys', () => {
  it('names the vendors there are connectors for when a vendor is unknown', () => {
    const message = problems({ alerts: { topicName: 'a' }, vendors: { okta: { tenants: [] } } });
    expect(message).toContain('vendors: Unrecognized key: "okta"; expected one of: pingone, csp, rsa, openathens');
  });

  it('names the accepted fields for a typo in a vendor section, a tenant or a nested setting', () => {
    const message = problems({
      alerts: { topicName: 'a' },
      archive: { objectLock: { mode: 'COMPLIANCE', day: 3 } },
      vendors: {
        openathens: {
          baseURL: 'http://127.0.0.1:1',
          tenants: [
            { id: 'org', since: '2026-01-01', apiName: 'org.example', credentials: { apiKey: 'k' }, secret: 'x' },
          ],
        },
      },
    });
    expect(message).toMatch(/vendors\.openathens: Unrecognized key: "baseURL"; expected one of: .*\bbaseUrl\b/);
    expect(message).toMatch(
      /vendors\.openathens\.tenants\[0\]: Unrecognized key: "secret"; expected one of: .*credentialsEnv/,
    );
    expect(message).toContain(
      'archive.objectLock: Unrecognized key: "day"; expected one of: mode, days, allowWeakRetention',
    );
  });
});

describe('parseConfig: values', () => {
  it("refuses a download limit that does not fit the archive function's ephemeral storage", () => {
    const csp = { tenants: [{ id: 'u', since: '2026-01-01', label: 'u@example.com', credentials: { apiToken: 't' } }] };
    const tooBig = problems({
      alerts: { topicName: 'a' },
      archive: { maxDownloadBytes: 2 * 1024 ** 3 },
      vendors: { csp: { ...csp, functions: { archive: { ephemeralStorageMb: 2_048 } } } },
    });
    expect(tooBig).toContain(
      "archive.maxDownloadBytes: 2147483648 bytes do not fit the csp archive function's ephemeral storage (vendors.csp.functions.archive.ephemeralStorageMb 2048 MB, less 512 MB for other temporary files); expected at most 1610612736",
    );
    // the defaults fit: 9 GiB in 10,240 MB
    const config = parseConfig({ alerts: { topicName: 'a' }, vendors: { csp } }, 'my-config.json', 'local');
    expect(config.archive.maxDownloadBytes).toBe(9 * 1024 ** 3);
  });

  it('refuses a schedule time zone the runtime does not know, naming it', () => {
    const message = problems({
      alerts: { topicName: 'a' },
      vendors: {
        csp: {
          scheduleTimezone: 'Europe/Londn',
          tenants: [{ id: 'u', since: '2026-01-01', label: 'u@example.com', credentials: { apiToken: 't' } }],
        },
      },
    });
    expect(message).toContain(
      'vendors.csp.scheduleTimezone: expected an IANA time zone such as "UTC" or "Europe/London"; received "Europe/Londn"',
    );
  });

  it('accepts a known time zone', () => {
    const config = parseConfig(
      {
        alerts: { topicName: 'a' },
        vendors: {
          csp: {
            scheduleTimezone: 'Europe/London',
            tenants: [{ id: 'u', since: '2026-01-01', label: 'u@example.com', credentials: { apiToken: 't' } }],
          },
        },
      },
      'my-config.json',
      'local',
    );
    expect(config.vendors.csp?.scheduleTimezone).toBe('Europe/London');
  });
});

describe('parseConfig: one secret for a vendor', () => {
  const base = { alerts: { topicName: 'a' }, archive: { objectLock: { mode: 'COMPLIANCE' } } };
  const tenant = (id: string, own: Record<string, unknown> = {}) => ({
    id,
    since: '2026-01-01',
    label: `${id}@example.com`,
    ...own,
  });
  const refused = (raw: unknown, mode: 'deploy' | 'local') => {
    try {
      parseConfig(raw, 'my-config.json', mode);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the config to be refused');
  };

  it('deploys tenants that name no secret when their vendor section names one', () => {
    // Act
    const config = parseConfig(
      { ...base, vendors: { csp: { secretName: 'ira/csp', tenants: [tenant('alice'), tenant('bob')] } } },
      'my-config.json',
      'deploy',
    );

    // Assess
    expect(config.vendors.csp?.secretName).toBe('ira/csp');
    expect(config.vendors.csp?.tenants.map((t) => t.secretName)).toEqual([undefined, undefined]);
  });

  it.each([
    ['its own secretName', { secretName: 'ira/csp/bob' }, 'secretName'],
    ['inline credentials', { credentials: { apiToken: 't' } }, 'credentials'],
    ['credentialsEnv', { credentialsEnv: 'BOB_TOKEN' }, 'credentialsEnv'],
  ])('refuses a tenant that also gives %s, naming the tenant', (_label, own, field) => {
    // Act
    const message = refused(
      { ...base, vendors: { csp: { secretName: 'ira/csp', tenants: [tenant('alice'), tenant('bob', own)] } } },
      'local',
    );

    // Assess
    expect(message).toContain(
      `vendors.csp.tenants[1]: tenant "bob": expected no ${field}: the vendor section's secretName holds every tenant's credentials, under the tenant id; received ${field}`,
    );
    expect(message).not.toContain('tenants[0]');
  });

  it('names a tenant with no source, and one with two, when the section names none', () => {
    // Act
    const message = refused(
      {
        ...base,
        vendors: {
          csp: { tenants: [tenant('alice'), tenant('bob', { secretName: 's', credentials: { apiToken: 'hunter2' } })] },
        },
      },
      'local',
    );

    // Assess
    expect(message).toContain(
      'vendors.csp.tenants[0]: tenant "alice": expected exactly one of secretName, credentials or credentialsEnv (or a secretName for the whole vendor section); received none',
    );
    expect(message).toContain('vendors.csp.tenants[1]: tenant "bob": expected exactly one of');
    expect(message).toContain('received secretName, credentials');
    expect(message).not.toContain('hunter2');
  });

  it('keeps inline credentials for local runs and refuses them for a deployment, naming the tenant', () => {
    // Prepare
    const raw = { ...base, vendors: { csp: { tenants: [tenant('alice', { credentials: { apiToken: 't' } })] } } };

    // Act
    const local = parseConfig(raw, 'my-config.json', 'local');
    const message = refused(raw, 'deploy');

    // Assess
    expect(local.vendors.csp?.tenants[0]).toMatchObject({ credentials: { apiToken: 't' } });
    expect(message).toContain(
      'vendors.csp.tenants[0]: tenant "alice": expected secretName (a Secrets Manager secret), or one secretName for the vendor section',
    );
  });
});
