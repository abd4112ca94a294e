/**
 * The connector registry: the one place that lists vendors. Adding a vendor means adding its
 * folder under `lambdas/connectors/` and one line here.
 */
import type { Connector } from '../core/types.ts';
import { cspConnector } from './csp/index.ts';
import { openathensConnector } from './openathens/index.ts';
import { pingOneConnector } from './pingone/index.ts';
import { rsaConnector } from './rsa/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: connectors differ in tenant, credential and settings types
export type AnyConnector = Connector<any, any, any>;

export const connectors: readonly AnyConnector[] = [pingOneConnector, cspConnector, rsaConnector, openathensConnector];

export function connectorFor(vendor: string): AnyConnector {
  const connector = connectors.find((c) => c.vendor === vendor);
  if (!connector) {
    throw new Error(`unknown vendor "${vendor}"; expected one of: ${connectors.map((c) => c.vendor).join(', ')}`);
  }
  return connector;
}
