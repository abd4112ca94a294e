/**
 * The built-in vendor simulators `npm start` runs against. Each follows its vendor's
 * documentation (see docs/vendors/); their clocks are shrunk so a whole run takes seconds.
 * A tenant can be made to fail (`npm start -- --inject-failure`): its simulator then refuses that
 * tenant's credentials on every request, as the vendor documents such a refusal.
 */
import * as csp from './csp/server.ts';
import * as openathens from './openathens/server.ts';
import * as pingone from './pingone/server.ts';
import * as rsa from './rsa/server.ts';

export interface LocalSimulators {
  /** a configuration (local mode) pointing every vendor at its simulator */
  readonly config: Record<string, unknown>;
  /** Wait states and retry pauses shrink to this, matching the simulators' clocks */
  readonly fastWaitsMs: number;
  close(): Promise<void>;
}

/** A tenant whose simulator refuses it, so its items fail with the vendor's permanent error. */
export interface InjectedFailure {
  readonly vendor: string;
  readonly tenant: string;
}

export interface LocalSimulatorOptions {
  /** only these vendors (default every one) */
  readonly only?: readonly string[];
  readonly failures?: readonly InjectedFailure[];
  /** each vendor's tenants' `since` (default the fixed LOCAL_SINCE of each section) */
  readonly since?: Readonly<Record<string, string>>;
}

interface Started {
  readonly section: Record<string, unknown>;
  close(): Promise<void>;
}

interface SimulatorEntry {
  /** the tenant ids of its config section, in order */
  readonly tenants: readonly string[];
  /** `refused`: the tenant ids whose credentials it refuses */
  start(refused: ReadonlySet<string>): Promise<Started>;
}

const SIMULATORS: Record<string, SimulatorEntry> = {
  rsa: {
    tenants: rsa.DEFAULT_TENANTS.map((t) => t.id),
    async start(refused) {
      // the 8-hour and 15-minute windows and the generation time, shrunk; a refused tenant's key
      // was regenerated in the console, so RSA no longer knows the key file's accessID (403)
      const tenants = rsa.DEFAULT_TENANTS.map((t) => ({ ...t, keyRegenerated: refused.has(t.id) }));
      const sim = await rsa.startRsaSimulator({ ...rsa.LOCAL_SIMULATOR_OPTIONS, tenants });
      return { section: rsa.localVendorSection(sim), close: () => sim.close() };
    },
  },
  pingone: {
    tenants: pingone.DEFAULT_ENVIRONMENTS.map((e) => e.tenantId),
    async start(refused) {
      // the 5-second rule, shrunk to 250 ms so a local run takes seconds; a refused environment's
      // worker app lacks the role for reports (403 INSUFFICIENT_PERMISSIONS)
      const environments = pingone.DEFAULT_ENVIRONMENTS.map((e) => ({ ...e, forbidden: refused.has(e.tenantId) }));
      const sim = await pingone.startPingOneSimulator({ rateLimitWindowMs: 250, environments });
      return { section: pingone.localVendorSection(sim), close: () => sim.close() };
    },
  },
  openathens: {
    tenants: openathens.DEFAULT_ORGANISATIONS.map((o) => o.tenantId),
    async start(refused) {
      // a refused organisation does not have the reports API enabled (403)
      const organisations = openathens.DEFAULT_ORGANISATIONS.map((o) => ({
        ...o,
        reportsEnabled: !refused.has(o.tenantId),
      }));
      const sim = await openathens.startOpenAthensSimulator({ organisations });
      return { section: openathens.localVendorSection(sim), close: () => sim.close() };
    },
  },
  csp: {
    // the users that are tenants: a service account or a deleted user is not one by default
    tenants: csp.DEFAULT_USERS.filter((u) => (u.kind ?? 'user') === 'user').map((u) => u.id),
    async start(refused) {
      // a refused tenant's API token is a service account's, which the MFA audit refuses (403)
      const users = csp.DEFAULT_USERS.map((u) =>
        refused.has(u.id) ? { ...u, kind: 'service-account' as const, tenant: true } : u,
      );
      const sim = await csp.startCspSimulator({ users });
      return { section: csp.localVendorSection(sim), close: () => sim.close() };
    },
  },
};

/** The tenants the built-in simulator of `vendor` serves, in config order; undefined for no simulator. */
export function simulatedTenants(vendor: string): readonly string[] | undefined {
  return Object.hasOwn(SIMULATORS, vendor) ? SIMULATORS[vendor]?.tenants : undefined;
}

export async function startLocalSimulators(options: LocalSimulatorOptions = {}): Promise<LocalSimulators> {
  const failures = options.failures ?? [];
  for (const f of failures) {
    if (!simulatedTenants(f.vendor)?.includes(f.tenant)) throw new Error(`no simulated tenant ${f.vendor}/${f.tenant}`);
  }
  const vendors = Object.entries(SIMULATORS).filter(([v]) => !options.only || options.only.includes(v));
  const started = await Promise.all(
    vendors.map(async ([v, entry]) => {
      const refused = new Set(failures.filter((f) => f.vendor === v).map((f) => f.tenant));
      return [v, await entry.start(refused)] as const;
    }),
  );
  const section = (vendor: string, started: Started) => {
    const since = options.since?.[vendor];
    if (since === undefined) return started.section;
    const tenants = started.section.tenants as Record<string, unknown>[];
    return { ...started.section, tenants: tenants.map((tenant) => ({ ...tenant, since })) };
  };
  return {
    config: {
      alerts: { topicName: 'local-alerts' },
      vendors: Object.fromEntries(started.map(([vendor, s]) => [vendor, section(vendor, s)])),
    },
    fastWaitsMs: 20,
    async close() {
      await Promise.all(started.map(([, s]) => s.close()));
    },
  };
}
