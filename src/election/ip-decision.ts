// What this speaker should do about one external IP, decided from what it
// can see: the IP's Lease, who is alive, who is eligible. Pure: no clock,
// no I/O. The rules, in order:
//   1. The lease names me: hold it, unless I am no longer eligible (then
//      hand it over; but if no node at all is eligible and only the cluster's
//      view of me changed, keep it: see LAST_RESORT), or a better-ranked node has settled in and may take
//      it (rebalancing: then hand it over, with no gap, to spread the IPs
//      by rendezvous rank).
//   2. The lease names someone alive: follow, even if that holder is no
//      longer eligible (only the holder may give an IP away; taking it
//      from a live holder is how two nodes end up answering).
//   3. Otherwise the IP is free (no lease, released, or its holder is dead):
//      if I am eligible and healthy, try to take it after my rank's delay.
import type { LeaseRecord } from '../k8s/lease-store.js';
import type { Ineligibility } from './eligibility.js';
import { rank } from './rendezvous.js';

/**
 * Why a holder may stay, as the last resort, when no node at all is eligible: reasons that can hit every
 * node at once without the holder being unable to serve (every Node NotReady while kubelets re-post after
 * an API outage, a Local Service between rollouts with no ready endpoint anywhere). Releasing then only
 * darkens the IP; holding costs nothing and answers again the moment it matters. Not for an exclusion
 * label (an operator's explicit wish), a lost interface (it cannot answer) or a leaving speaker.
 */
const LAST_RESORT: ReadonlySet<Ineligibility> = new Set(['not-ready', 'network-unavailable', 'no-endpoints', 'no-node']);

export interface IpSituation {
  ip: string;
  me: string;
  lease: LeaseRecord | undefined;
  /** Whether the node the lease names is alive (false for no lease or an empty holder). */
  holderLive: boolean;
  /** Nodes that may announce this IP now: live, Ready, not excluded, with the pool's interface, with endpoints if Local. */
  eligible: readonly string[];
  /** My own liveness lease is renewed (I may take new IPs). */
  selfHealthy: boolean;
  /** Why I am not eligible, when I am not. */
  selfIneligible?: Ineligibility;
  /**
   * Eligible nodes that have been live long enough to be handed IPs, and
   * whether this speaker may hand one over now (rebalancing on, not rate
   * limited). Absent: never rebalance.
   */
  rebalance?: { settled: readonly string[]; allowed: boolean };
}

export type IpDecision =
  | { action: 'hold' }
  | { action: 'release'; reason: 'not-eligible' }
  | { action: 'release'; reason: 'rebalance'; to: string }
  | { action: 'follow'; holder: string }
  | { action: 'acquire'; rank: number; previousHolder: string | undefined }
  | { action: 'idle'; reason: 'not-eligible' | 'unhealthy' };

export function decide(s: IpSituation): IpDecision {
  const holder = s.lease?.holder ?? '';
  const iAmEligible = s.eligible.includes(s.me);
  if (holder === s.me) {
    if (!iAmEligible) {
      const lastResort = s.eligible.length === 0 && s.selfIneligible !== undefined && LAST_RESORT.has(s.selfIneligible);
      return lastResort ? { action: 'hold' } : { action: 'release', reason: 'not-eligible' };
    }
    const best = s.rebalance === undefined ? s.me : rank(s.ip, [s.me, ...s.rebalance.settled.filter((n) => s.eligible.includes(n))])[0];
    if (best !== undefined && best !== s.me && s.rebalance?.allowed === true && s.selfHealthy)
      return { action: 'release', reason: 'rebalance', to: best };
    return { action: 'hold' };
  }
  if (holder !== '' && s.holderLive) return { action: 'follow', holder };
  if (!s.selfHealthy) return { action: 'idle', reason: 'unhealthy' };
  if (!iAmEligible) return { action: 'idle', reason: 'not-eligible' };
  const order = rank(
    s.ip,
    s.eligible.filter((n) => n !== holder),
  );
  return { action: 'acquire', rank: order.indexOf(s.me), previousHolder: holder === '' ? undefined : holder };
}
