// From the probe's events to what an operator wants to know about one IP
// during one experiment: how long the client could not load a page, how long
// until a new holder answered, which gratuitous ARPs it saw, and whether two
// MACs ever answered at once. Pure functions.
import type { ProbeEvent } from './probe-events.js';

export interface Segment {
  from: number;
  to: number;
}

export interface IpAnalysis {
  ip: string;
  /** Longest stretch of failed page loads that started after the injection (first failure to next success), ms. */
  downtimeMs: number;
  /** When the client first saw a MAC other than the one answering before the injection, ms after it; undefined if none. */
  newHolderAfterMs: number | undefined;
  macBefore: string | undefined;
  macAfter: string | undefined;
  garps: Array<{ t: number; mac: string }>;
  /**
   * Moments two MACs answered: a reply from another MAC once one announced itself (macs: the announcer,
   * then the other), replies to one request from two MACs, or two MACs taking turns (A, B, A, B) where
   * a turn began without its MAC's announcement or both middle turns were shorter than the rebalance
   * settle time (a garp war). Moves that each open with the new holder's announcement are not one,
   * when at least one of the returns waited out the settle time (a takeover, then rebalancing home).
   */
  twoMacMoments: Array<{ t: number; macs: string[] }>;
  /** Who answered ARP for the IP, as contiguous stretches. */
  holders: Array<Segment & { mac: string }>;
  /** Stretches of failed page loads. */
  outages: Segment[];
  pageLoads: { ok: number; failed: number };
}

// Replies this close together answer the same request (requests go out every interval, 10 ms or more apart).
const SAME_REQUEST_MS = 5;

/** The chart's speaker.rebalanceSettle (chaos runs against any cluster, so it cannot read the speaker's config). */
export const DEFAULT_REBALANCE_SETTLE_MS = 10_000;

export interface AnalysisOptions {
  /** The speakers' rebalance settle time: a holder keeps an IP at least this long before rebalancing moves it. */
  rebalanceSettleMs?: number;
}

export function analyseIp(
  events: readonly ProbeEvent[],
  ip: string,
  injectedAt: number,
  endedAt: number,
  options: AnalysisOptions = {},
): IpAnalysis {
  const settleMs = options.rebalanceSettleMs ?? DEFAULT_REBALANCE_SETTLE_MS;
  const mine = events.filter((e) => e.ip === ip).sort((a, b) => a.t - b.t);
  const answers = mine.filter((e) => e.kind === 'arp-reply' || e.kind === 'garp') as Array<Extract<ProbeEvent, { mac: string }>>;
  const pages = mine.filter((e) => e.kind === 'http') as Array<Extract<ProbeEvent, { kind: 'http' }>>;

  const macBefore = [...answers].reverse().find((a) => a.t < injectedAt)?.mac;
  const firstOther = answers.find((a) => a.t >= injectedAt && a.mac !== macBefore);
  const lastAnswer = answers.at(-1);

  const holders: IpAnalysis['holders'] = [];
  // Whether each run opened with its MAC's own announcement (a gratuitous ARP or unsolicited NA).
  const announced: boolean[] = [];
  for (const a of answers) {
    const cur = holders.at(-1);
    if (cur !== undefined && cur.mac === a.mac) cur.to = a.t;
    else {
      holders.push({ from: a.t, to: a.t, mac: a.mac });
      announced.push(a.kind === 'garp');
    }
  }

  const outages: Segment[] = [];
  let failingSince: number | undefined;
  for (const p of pages) {
    if (!p.ok) failingSince ??= p.t;
    else if (failingSince !== undefined) {
      outages.push({ from: failingSince, to: p.t });
      failingSince = undefined;
    }
  }
  if (failingSince !== undefined) outages.push({ from: failingSince, to: endedAt });
  // Only outages that end after the injection count, from the later of their start and the injection.
  const downtimeMs = outages.filter((o) => o.to > injectedAt).reduce((m, o) => Math.max(m, o.to - Math.max(o.from, injectedAt)), 0);

  const twoMacMoments: IpAnalysis['twoMacMoments'] = [];
  const flag = (t: number, macs: [string, string]): void => {
    if (!twoMacMoments.some((m) => m.t === t && m.macs[0] === macs[0] && m.macs[1] === macs[1])) twoMacMoments.push({ t, macs });
  };
  // Once a MAC announced itself, a reply from any other is two MACs (once per owner and replier: a
  // frozen holder that comes back announcing is one moment, not one per reply of the heir after it).
  // An heir's reply before its own announcement counts too: the reader answers a holding only once
  // announced, and one sender's frames reach the client in order.
  let owner: string | undefined;
  const flagged = new Set<string>();
  // Two replies from two MACs this close together answer the same request, unless the later MAC
  // announced itself between them (the old holder's last answer, then a clean move).
  let prevReply: { t: number; mac: string } | undefined;
  let announcedSincePrev = new Set<string>();
  for (const a of answers) {
    if (a.kind === 'garp') {
      if (a.mac !== owner) flagged.clear();
      owner = a.mac;
      announcedSincePrev.add(a.mac);
      continue;
    }
    if (owner !== undefined && a.mac !== owner && !flagged.has(a.mac)) {
      flagged.add(a.mac);
      flag(a.t, [owner, a.mac]);
    }
    if (prevReply !== undefined && prevReply.mac !== a.mac && a.t - prevReply.t <= SAME_REQUEST_MS && !announcedSincePrev.has(a.mac))
      flag(a.t, [prevReply.mac, a.mac]);
    prevReply = { t: a.t, mac: a.mac };
    announcedSincePrev = new Set();
  }
  // Taking turns: the runs of one MAC's answers (gratuitous ARPs included) alternate A, B, A, B. Clean
  // moves can look like that too: a fault moves the IP, the node comes back and rebalancing returns it,
  // and a settling move from the experiment before comes first. They differ from two claimants in two
  // ways: each clean move opens with the new holder's announcement, and rebalancing moves an IP only
  // from a holder that kept it the settle time, so of the two middle turns at most one (a takeover by
  // a fault) is short. Two claimants defending (re-announce at once, then after 1 s, 2 s, ...) take
  // short turns, and a claimant that answers without announcing takes unannounced ones.
  for (let i = 3; i < holders.length; i++) {
    const [a, b, c, d] = holders.slice(i - 3, i + 1) as [
      Segment & { mac: string },
      Segment & { mac: string },
      Segment & { mac: string },
      Segment & { mac: string },
    ];
    if (a.mac !== c.mac || b.mac !== d.mac) continue;
    const unannounced = !announced[i - 2] || !announced[i - 1] || !announced[i];
    const shortTurns = c.from - b.from < settleMs && d.from - c.from < settleMs;
    if (unannounced || shortTurns) flag(d.from, [c.mac, d.mac]);
  }
  twoMacMoments.sort((x, y) => x.t - y.t);

  return {
    ip,
    downtimeMs: Math.round(downtimeMs),
    newHolderAfterMs: firstOther === undefined ? undefined : Math.round(firstOther.t - injectedAt),
    macBefore,
    macAfter: lastAnswer?.mac,
    garps: answers.filter((a) => a.kind === 'garp' && a.t >= injectedAt).map((a) => ({ t: a.t, mac: a.mac })),
    twoMacMoments,
    holders,
    outages,
    pageLoads: { ok: pages.filter((p) => p.ok).length, failed: pages.filter((p) => !p.ok).length },
  };
}
