// Who beats to whom, from the speaker's views: the BeatPlan of
// beat-exchange.ts built on the announcer (which IPs this node answers,
// who may announce each) and the Leases (who holds the others). Both ends
// compute it from the same objects, so no message has to agree on it.
import type { LeaseRecord } from '../k8s/lease-store.js';
import { parseUdpEndpoint } from '../net/udp-socket.js';
import type { BeatPlan, Endpoint } from './beat-exchange.js';
import type { HeldIp } from './beat-watchers.js';

export interface BeatPlanSources {
  me: string;
  /** The IPs announced in the cluster (Services with an address of a pool). */
  ips(): Iterable<string>;
  lease(ip: string): LeaseRecord | undefined;
  answeringIps(): Iterable<string>;
  /** The candidates of each IP, for one pass over the IPs (IpAnnouncer.candidatesLookup). */
  candidatesLookup(): (ip: string) => readonly string[];
  /** "host:port" from the node's liveness Lease, if it takes beats. */
  heartbeatEndpoint(node: string): string | undefined;
}

export function beatPlan(s: BeatPlanSources): BeatPlan {
  return {
    held: (): HeldIp[] => {
      const candidatesOf = s.candidatesLookup();
      return [...s.answeringIps()].map((ip) => ({ ip, candidates: candidatesOf(ip) }));
    },
    heldByOthers: () => {
      const candidatesOf = s.candidatesLookup();
      const out: Array<HeldIp & { holder: string }> = [];
      for (const ip of s.ips()) {
        const holder = s.lease(ip)?.holder ?? '';
        if (holder === '' || holder === s.me) continue;
        out.push({ ip, holder, candidates: candidatesOf(ip) });
      }
      return out;
    },
    endpoint: (node): Endpoint | undefined => {
      const text = s.heartbeatEndpoint(node);
      if (text === undefined) return undefined;
      try {
        return parseUdpEndpoint(text);
      } catch {
        // A peer that wrote nonsense takes no beats: its standbys judge it by its Lease.
        return undefined;
      }
    },
  };
}
