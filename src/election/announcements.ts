// The external IPs there are to announce, read from the caches: every
// address in the status of a Service Baton manages that lies in a pool the
// controller has published as ready (pools/published-pools.ts), with that
// pool's interface and, for Local Services, the nodes that have ready
// endpoints.

import { type EndpointSlice, objectKey, SERVICE_NAME_LABEL, type Service } from '../k8s/types.js';
import { canonicalIp, type IpAddress, parseIp } from '../net/ip.js';
import type { Pool } from '../pools/pool.js';
import { isManaged } from '../pools/service-class.js';

export interface Announcement {
  ip: string;
  pool: string;
  /** The pool's spec.interface: a name or can_reach:<ip>. */
  interfaceSpec: string;
  services: Service[];
  /** Nodes with a ready endpoint of every Local Service on this IP; undefined when none is Local. */
  endpointNodes: ReadonlySet<string> | undefined;
}

/** Finds the ready pool of an address (PublishedPools in the speaker). */
export interface PoolLookup {
  poolFor(ip: IpAddress): Pool | undefined;
}

export function announcements(
  services: readonly Service[],
  pools: PoolLookup,
  slices: readonly EndpointSlice[],
  loadBalancerClass: string,
): Map<string, Announcement> {
  const readyNodes = readyEndpointNodes(slices);
  const out = new Map<string, Announcement>();
  for (const svc of services) {
    if (!isManaged(svc, loadBalancerClass) || svc.metadata.deletionTimestamp !== undefined) continue;
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = ingress.ip === undefined ? undefined : parseIp(ingress.ip);
      // IPv6 addresses need NDP, which this speaker does not send yet; they are left to the IPAM status alone.
      if (ip === undefined || ip.family !== 4) continue;
      const pool = pools.poolFor(ip);
      if (pool === undefined || pool.interface === undefined) continue;
      const text = canonicalIp(ingress.ip as string) as string;
      let a = out.get(text);
      if (a === undefined) {
        a = { ip: text, pool: pool.name, interfaceSpec: pool.interface, services: [], endpointNodes: undefined };
        out.set(text, a);
      }
      a.services.push(svc);
      if (svc.spec.externalTrafficPolicy === 'Local') {
        const nodes = readyNodes.get(objectKey(svc)) ?? new Set<string>();
        a.endpointNodes = a.endpointNodes === undefined ? nodes : new Set([...a.endpointNodes].filter((n) => nodes.has(n)));
      }
    }
  }
  return out;
}

/** Service key -> nodes that run at least one ready endpoint of it. */
export function readyEndpointNodes(slices: readonly EndpointSlice[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const slice of slices) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = `${slice.metadata.namespace}/${svc}`;
    for (const ep of slice.endpoints ?? []) {
      // An absent ready condition means ready (EndpointSlice API semantics).
      if (ep.conditions?.ready === false || ep.nodeName === undefined) continue;
      let nodes = out.get(key);
      if (nodes === undefined) {
        nodes = new Set();
        out.set(key, nodes);
      }
      nodes.add(ep.nodeName);
    }
  }
  return out;
}
