// Whether a node may announce an IP, from what every speaker can see the
// same way: the Node object (Ready, NetworkUnavailable, the exclusion
// label), the pools its speaker says it can serve, and, for Services with
// externalTrafficPolicy Local, where their ready endpoints are.
import type { Node } from '../k8s/types.js';

/** Kubernetes' label for nodes that must not carry load-balancer traffic. */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export type Ineligibility = 'not-live' | 'no-node' | 'not-ready' | 'network-unavailable' | 'excluded' | 'no-interface' | 'no-endpoints';

export interface EligibilityInput {
  node: Node | undefined;
  live: boolean;
  /** Pools this node's speaker can announce (it has their interface). */
  pools: ReadonlySet<string>;
  pool: string;
  /** For Local Services: nodes with a ready endpoint; undefined for Cluster. */
  endpointNodes: ReadonlySet<string> | undefined;
}

/** Why the node may not announce the IP, or undefined if it may. */
export function ineligibility(name: string, input: EligibilityInput): Ineligibility | undefined {
  if (!input.live) return 'not-live';
  if (input.node === undefined) return 'no-node';
  const conditions = input.node.status?.conditions ?? [];
  if (conditions.find((c) => c.type === 'Ready')?.status !== 'True') return 'not-ready';
  if (conditions.find((c) => c.type === 'NetworkUnavailable')?.status === 'True') return 'network-unavailable';
  if (input.node.metadata.labels?.[EXCLUDE_LABEL] !== undefined) return 'excluded';
  if (!input.pools.has(input.pool)) return 'no-interface';
  if (input.endpointNodes !== undefined && !input.endpointNodes.has(name)) return 'no-endpoints';
  return undefined;
}
