// The external IPs there are to announce, read from the caches: every
// address in the status of a Service Baton manages that lies in a pool the
// controller has published as ready (pools/published-pools.ts), with that
// pool's interface and, for Local Services, the nodes that have ready
// endpoints. IPv4 and IPv6 alike; the IPv6 address of a dual-stack Service
// follows its IPv4 address (one election, one owner for both, moving as one).

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
  /**
   * For the IPv6 address of a dual-stack Service: its IPv4 address, whose
   * election decides this one too (no Lease of its own). Undefined: elected
   * on its own.
   */
  follows: string | undefined;
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
      if (ip === undefined) continue;
      const pool = pools.poolFor(ip);
      if (pool === undefined || pool.interface === undefined) continue;
      const text = canonicalIp(ingress.ip as string) as string;
      let a = out.get(text);
      if (a === undefined) {
        a = { ip: text, pool: pool.name, interfaceSpec: pool.interface, services: [], endpointNodes: undefined, follows: undefined };
        out.set(text, a);
      }
      a.services.push(svc);
      if (svc.spec.externalTrafficPolicy === 'Local') {
        const nodes = readyNodes.get(objectKey(svc)) ?? new Set<string>();
        a.endpointNodes = a.endpointNodes === undefined ? nodes : new Set([...a.endpointNodes].filter((n) => nodes.has(n)));
      }
    }
  }
  linkDualStack(out);
  return out;
}

/**
 * The IPv6 address of a Service that also has an IPv4 address follows that
 * one. Several Services sharing an IPv6 address: the smallest of their IPv4
 * addresses leads, so every speaker picks the same leader.
 */
function linkDualStack(out: Map<string, Announcement>): void {
  for (const a of out.values()) {
    if (parseIp(a.ip)?.family !== 6) continue;
    const leaders = a.services.flatMap((svc) =>
      (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => {
        const v4 = i.ip === undefined ? undefined : canonicalIp(i.ip);
        return v4 !== undefined && parseIp(v4)?.family === 4 && out.get(v4)?.follows === undefined && out.has(v4) ? [v4] : [];
      }),
    );
    a.follows = leaders.sort(compareIpv4)[0];
  }
}

function compareIpv4(x: string, y: string): number {
  const a = parseIp(x)?.value ?? 0n;
  const b = parseIp(y)?.value ?? 0n;
  return a < b ? -1 : a > b ? 1 : 0;
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
