// A link is one interface as the speaker uses it: the AF_PACKET addon's
// socket and reader thread (native/af_packet.c), which alone decides what
// goes on the wire for the addresses this node holds. JavaScript never
// answers ARP itself and never sends a claim itself: it grants the reader a
// license per address, and asks the reader to send the gratuitous ARP,
// which the reader refuses when the license has lapsed.
//
// The license rule: the reader may put a claim for an address on the wire
// (a reply, a gratuitous ARP) only while all of these hold, checked at the
// moment of sending:
//   - the address is held at the generation JS granted (not yielded since);
//   - its answer deadline has not passed (a healthy renewal sets it; in
//     outage mode it does not expire with health);
//   - the event loop has sent a heartbeat within its alive window: a frozen
//     or blocked JavaScript loses the right to answer by itself.
// A foreign claim (another MAC announcing the address) makes the reader
// yield the address at once, unless JS marked it defended (this node's
// Lease for it is current and confirmed): then it keeps answering and
// reports a conflict, and JS re-announces.
//
// Two implementations: AfPacketLink (a real interface, needs CAP_NET_RAW)
// and VirtualLink (the same C rules in memory, frames in and out through
// JS, time from a Clock), so the simulation and unit tests run the
// decisions that ship.
import type { MacString } from '../net/mac.js';

/** What the reader did with one frame; counted, never acted on by JS. */
export type FrameVerdict =
  | 'answered' // a request for a licensed address: replied from the reader thread
  | 'not-held' // a request for an address this node does not hold
  | 'unlicensed' // a request for a held address whose license has lapsed (health deadline or heartbeat)
  | 'yielded' // a request for an address yielded to a claim (in this batch or before)
  | 'stale' // a request that waited in the socket longer than the stale limit (a stall): never answered late
  | 'claim' // another MAC claimed a held address; the reader yielded it
  | 'conflict' // another MAC claimed a defended address; the reader kept it
  | 'foreign' // an announcement or reply about an address this node does not hold
  | 'own-frame' // sent by this interface's MAC
  | 'other-host' // not addressed to this host (PACKET_OTHERHOST)
  | 'vlan' // carried a VLAN tag: it belongs to a VLAN interface, not this one
  | 'probe' // an ARP probe (sender 0.0.0.0) for an address not in the table: never a claim (a probe for a held address is a request: answered when licensed, as the kernel does)
  | 'malformed' // not IPv4-over-Ethernet ARP, or truncated
  | 'send-failed'; // a reply the kernel refused (full queue, link down); never retried late

/** Why a link stopped answering an address by itself. */
export type YieldReason = 'claim' | 'overrun';

export interface LinkEvents {
  /** Every frame read, with the reader's verdict. Under overload these may be dropped (counted in stats().eventsDropped). */
  frame?(frame: Buffer, verdict: FrameVerdict): void;
  /**
   * The reader stopped answering ip (held at gen): another MAC claimed it,
   * or a receive-buffer overrun may have hidden a claim. Never dropped. The
   * address stays yielded until a grant with a newer generation.
   */
  yielded(ip: string, gen: number, reason: YieldReason, mac: string | undefined): void;
  /** Another MAC claimed a defended address; the reader keeps answering. Never dropped. */
  conflict(ip: string, gen: number, mac: string): void;
  /** The socket failed for good (interface gone: ENODEV, ENXIO, ENETDOWN); reopen the link. */
  failed?(code: string): void;
}

export interface Grant {
  ip: string;
  /** Generation of this holding: bumped by JS each time it (re)confirms the address is its own. */
  gen: number;
}

export type AnnounceResult =
  | 'sent'
  | 'not-held' // no such grant, or revoked
  | 'yielded' // yielded at this or a later generation
  | 'stale-generation' // held, but at another generation than asked
  | 'unlicensed' // the answer deadline or the heartbeat has lapsed
  | string; // an errno name from sendto (ENOBUFS, EAGAIN, ENXIO, ENODEV, ENETDOWN)

export interface LinkStats {
  framesRead: number;
  /** Frame events not delivered to JS because its queue was full (the reader's verdicts still hold). */
  eventsDropped: number;
  /** Frames the kernel dropped before the reader read them (PACKET_STATISTICS tp_drops). */
  kernelDrops: number;
  repliesSent: number;
  /** Entries in the reader's address table (held and yielded). */
  entries: number;
}

export interface Link {
  /** Interface name, e.g. eth0. */
  readonly name: string;
  /** The interface's MAC when the link was opened: Ethernet source and ARP sender of everything it sends. */
  readonly mac: MacString;
  /** The interface index the socket is bound to (a re-created interface gets a new one: reopen). */
  readonly ifindex: number;
  /** The event loop is running: the reader may answer for aliveMs from now (whatever the grants say). */
  heartbeat(aliveMs: number): void;
  /**
   * Holds these addresses at their generations: answer for answerMs from now
   * (Infinity: no deadline but the heartbeat), defend against claims for
   * defendMs from now (0: yield to any claim). Sets both deadlines exactly
   * (it can shorten them). Returns the addresses refused because they were
   * yielded at the same or a later generation.
   */
  grant(grants: readonly Grant[], answerMs: number, defendMs: number): string[];
  /** Stops answering these addresses now and forgets them. */
  revoke(ips: readonly string[]): void;
  /** Sends the gratuitous pair (request and reply form) for ip, if it is licensed at gen now. */
  announce(ip: string, gen: number): AnnounceResult;
  stats(): LinkStats;
  close(): void;
}
