// Who watches whom in the LAN heartbeats (docs/heartbeats.md), from
// the rendezvous order alone: the standbys of an IP are the nodes that would
// take it over, best first, so a holder beats to the first few standbys of
// each IP it holds, and each node knows, from the same views, which holders
// to expect beats from. No message agrees on it; both sides compute it.
// Pure; beat-exchange.ts uses it from both ends.
import { rank, score } from './rendezvous.js';

/**
 * How many standbys of each IP hear its holder: the first takes over, the second after its rank delay if
 * the first cannot (dead itself, or its write failed). The second sign of a silence is the holder's Lease
 * going quiet (fast liveness) or the other standby's witness (slow liveness, beat-witness.ts): with two,
 * a takeover needs both standbys, and one standby that stops acking does not end the holder's promise.
 */
export const DEFAULT_FANOUT = 2;

export interface HeldIp {
  ip: string;
  /** The nodes that may announce the IP (eligible, live), the holder among them or not. */
  candidates: Iterable<string>;
}

/** The standbys of ip held by holder: the best-ranked candidates other than the holder. */
export function standbysOf(ip: string, holder: string, candidates: Iterable<string>, fanout = DEFAULT_FANOUT): string[] {
  return rank(
    ip,
    [...candidates].filter((n) => n !== holder),
  ).slice(0, fanout);
}

/**
 * Whether me is a standby of ip held by holder: standbysOf(...).includes(me), without ranking. Fewer than
 * fanout candidates outrank me (higher score, or an equal one and an earlier name: rank's order). A node
 * asks this of every IP held by others on each plan refresh, so it counts rather than sorts.
 */
export function isStandby(me: string, ip: string, holder: string, candidates: Iterable<string>, fanout = DEFAULT_FANOUT): boolean {
  if (me === holder) return false;
  const mine = score(me, ip);
  let listed = false;
  let above = 0;
  for (const n of new Set(candidates)) {
    if (n === me) listed = true;
    else if (n !== holder) {
      const s = score(n, ip);
      if (s > mine || (s === mine && n < me)) above++;
    }
  }
  return listed && above < fanout;
}

/** The nodes holder sends beats to: every standby of every IP it holds, once each, sorted. */
export function watchersOf(holder: string, held: Iterable<HeldIp>, fanout = DEFAULT_FANOUT): string[] {
  const out = new Set<string>();
  for (const h of held) for (const s of standbysOf(h.ip, holder, h.candidates, fanout)) out.add(s);
  return [...out].sort();
}

/** The holders me expects beats from, each with the IPs me stands by for, from the same view of who holds what. */
export function holdersToWatch(me: string, ips: Iterable<HeldIp & { holder: string }>, fanout = DEFAULT_FANOUT): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const h of ips) {
    if (!isStandby(me, h.ip, h.holder, h.candidates, fanout)) continue;
    out.set(h.holder, [...(out.get(h.holder) ?? []), h.ip]);
  }
  return out;
}
