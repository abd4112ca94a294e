/**
 * The connector registry: the one place that lists vendors. Adding a vendor is its folder under
 * `lambdas/connectors/`, an import of its definition and one line in `connectors` below.
 *
 * Definitions are imported here; each runtime is loaded on first use with `import()`, so synth,
 * the Glue catalog, the local catalog, the plan step and the backfill command never load runtime
 * code (HTTP client, JWT signing). A runtime is loaded once and reused, as its module-scope
 * caches (tokens, call spacing) are meant to be for the life of a Lambda container.
 *
 * The list holds the connectors with their vendor types erased. That is safe because a runtime
 * only ever receives a context the pipeline step built from the same connector's definition
 * (`sectionSchema` re-parses the settings and the tenant), see `lambdas/pipeline/steps.ts`.
 */
import { type Connector, type ConnectorDefinition, registerConnector } from '../core/types.ts';
import { cspDefinition } from './csp/definition.ts';
import { openAthensDefinition } from './openathens/definition.ts';
import { pingOneDefinition } from './pingone/definition.ts';
import { rsaDefinition } from './rsa/definition.ts';

export const connectors: readonly Connector[] = [
  registerConnector(pingOneDefinition, async () => (await import('./pingone/runtime.ts')).createPingOneRuntime()),
  registerConnector(cspDefinition, async () => (await import('./csp/runtime.ts')).createCspRuntime()),
  registerConnector(rsaDefinition, async () => (await import('./rsa/runtime.ts')).createRsaRuntime()),
  registerConnector(openAthensDefinition, async () =>
    (await import('./openathens/runtime.ts')).createOpenAthensRuntime(),
  ),
];

export const definitions: readonly ConnectorDefinition[] = connectors.map((c) => c.definition);

/** The registered connector of `vendor`: its definition and its runtime loader. */
export function connectorFor(vendor: string): Connector {
  const connector = connectors.find((c) => c.definition.vendor === vendor);
  if (!connector) {
    throw new Error(`unknown vendor "${vendor}"; expected one of: ${definitions.map((d) => d.vendor).join(', ')}`);
  }
  return connector;
}

/** The pure definition of `vendor` (what lib/, scripts and the plan step need). */
export function definitionFor(vendor: string): ConnectorDefinition {
  return connectorFor(vendor).definition;
}
