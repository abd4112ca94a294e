/**
 * The built-in vendor simulators `npm start` runs against. Each follows its vendor's
 * documentation (see docs/vendors/); their clocks are shrunk so a whole run takes seconds.
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

interface Started {
  readonly section: Record<string, unknown>;
  close(): Promise<void>;
}

const SIMULATORS: Record<string, () => Promise<Started>> = {
  async rsa() {
    // the 8-hour and 15-minute windows and the generation time, shrunk
    const sim = await rsa.startRsaSimulator(rsa.LOCAL_SIMULATOR_OPTIONS);
    return { section: rsa.localVendorSection(sim), close: () => sim.close() };
  },
  async pingone() {
    // the 5-second rule, shrunk to 250 ms so a local run takes seconds
    const sim = await pingone.startPingOneSimulator({ rateLimitWindowMs: 250 });
    return { section: pingone.localVendorSection(sim), close: () => sim.close() };
  },
  async openathens() {
    const sim = await openathens.startOpenAthensSimulator();
    return { section: openathens.localVendorSection(sim), close: () => sim.close() };
  },
  async csp() {
    const sim = await csp.startCspSimulator();
    return { section: csp.localVendorSection(sim), close: () => sim.close() };
  },
};

export async function startLocalSimulators(options: { only?: readonly string[] } = {}): Promise<LocalSimulators> {
  const vendors = Object.keys(SIMULATORS).filter((v) => !options.only || options.only.includes(v));
  const started = await Promise.all(
    vendors.map(async (v) => [v, await (SIMULATORS[v] as () => Promise<Started>)()] as const),
  );
  return {
    config: {
      alerts: { topicName: 'local-alerts' },
      vendors: Object.fromEntries(started.map(([vendor, s]) => [vendor, s.section])),
    },
    fastWaitsMs: 20,
    async close() {
      await Promise.all(started.map(([, s]) => s.close()));
    },
  };
}
