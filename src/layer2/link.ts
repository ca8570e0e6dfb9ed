// A link is one interface as the speaker uses it: the AF_PACKET addon's
// sockets and reader thread (native/af_packet.c), which alone decides what
// goes on the wire for the addresses this node holds. JavaScript never
// answers ARP or NDP itself and never sends a claim itself: it grants the
// reader a license per address, and asks the reader to send the gratuitous
// ARP or unsolicited NA, which the reader refuses when the license has
// lapsed. IPv4 addresses are answered with ARP, IPv6 addresses with
// Neighbour Discovery (RFC 4861), under the same rule and in the same drains.
//
// The license rule: the reader may put a claim for an address on the wire
// (an ARP reply, a gratuitous ARP, a Neighbour Advertisement) only while all
// of these hold, checked at the moment of sending:
//   - the address is held at the generation JS granted (not yielded since);
//   - its answer deadline has not passed (a healthy renewal sets it; in
//     outage mode it does not expire with health);
//   - the event loop has sent a heartbeat within its alive window: a frozen
//     or blocked JavaScript loses the right to answer by itself;
//   - for a request, the holding's first announcement is on the wire: an
//     address granted afresh (new to the table, or yielded before) is
//     answered only after announce() sent it. A takeover's heir that
//     answered first would hand a client its MAC while the old holder, which
//     yields only when it hears the heir (outage mode, a hand-over's
//     window), still answers that client too. The announcement answers any
//     request it overtakes: a client waiting for the address takes its MAC
//     from the gratuitous ARP or unsolicited NA (Linux arp_process and
//     ndisc_recv_na update an INCOMPLETE entry).
// A foreign claim (another MAC announcing the address) makes the reader
// yield the address at once, unless JS marked it defended (this node's
// Lease for it is current and confirmed): then it keeps answering and
// reports a conflict, and JS re-announces.
//
// IPv6 (Neighbour Discovery), as the reader does it:
//   - Reception: a second packet socket per interface, bound to the IPv6
//     EtherType behind a kernel filter that keeps only ICMPv6 type 135/136
//     with no extension headers. It is not a transmit tap, so the host's own
//     NS (a node with IPv6 forwarding resolves VIPs itself) never reaches
//     the reader; frames with our MAC as Ethernet source or link-layer
//     option are own-frame. Both sockets feed one drain: claims of either
//     protocol are honoured before requests of either.
//   - Validation (RFC 4861 7.1.1 and 7.1.2): hop limit 255, ICMPv6 code 0,
//     checksum, length >= 24, no multicast source or target, no option of
//     length 0, link-layer options of one Ethernet unit, no Source option
//     from '::', no Solicited flag to a multicast destination, and an NS sent
//     to its target's solicited-node group ff02::1:ffXX:XXXX or (not for
//     DAD) to the target itself. A frame that fails is 'malformed', with the
//     rule it broke as the frame event's reason (a DropReason).
//   - Answers, from the reader thread: an NS for a licensed address gets an
//     NA with S=1, O=1 (O so that a takeover replaces the previous holder's
//     MAC in caches that still hold it) and a Target link-layer option with
//     our MAC, unicast to the NS's Source option MAC, else its Ethernet
//     source; multicast and unicast (NUD) solicitations alike. A DAD probe
//     (source '::') for a held address is defended as RFC 4861 7.2.4 says:
//     an NA with S=0, O=1 to all-nodes ff02::1 (33:33:00:00:00:01).
//   - Claims: an NA whose target is held, from another MAC (its Target
//     option's, else its Ethernet source), whatever its flags; and an NS
//     from a held address (not '::'). A DAD probe claims nothing.
//   - announce(ip) sends one unsolicited NA: all-nodes, S=0, O=1, Target
//     link-layer option, hop limit 255, source ip.
//
// What JavaScript must do for IPv6 (the reader does not, and needs no
// privilege beyond CAP_NET_RAW for it):
//   - Join the solicited-node group of every IPv6 address it grants on the
//     interface, e.g. dgram.createSocket({ type: 'udp6', reuseAddr: true })
//     .addMembership(solicitedNodeAddress(ip), `::%${name}`) (ndp.ts), and
//     keep that socket open while the address is held. The join makes the
//     kernel program the NIC's multicast filter (else NICs with L2 filters
//     drop multicast NS: Cilium #41678) and send MLD reports (else switches
//     with MLD snooping never forward the NS: Cilium #46274). Groups collide
//     on the low 24 bits: count references per group, and drop membership
//     when the last address of a group is revoked.
//   - Nothing for unicast NUD: the reader sees it on the packet socket
//     before the IP layer refuses it.
//   - Know that a node with net.ipv6.conf.*.forwarding=1 also routes NDP and
//     traffic for VIPs it does not own (redirects, its own NS, "address
//     unreachable"); only an nftables rule in prerouting (CAP_NET_ADMIN)
//     stops that. Packet sockets see frames before netfilter, so such a rule
//     does not hide them from the reader.
//
// Two implementations: AfPacketLink (a real interface, needs CAP_NET_RAW)
// and VirtualLink (the same C rules in memory, frames in and out through
// JS, time from a Clock), so the simulation and unit tests run the
// decisions that ship.
import type { MacString } from '../net/mac.js';
import type { DropReason } from './packet/drop-reason.js';

/** What the reader did with one frame; counted, never acted on by JS. */
export type FrameVerdict =
  | 'answered' // a request (ARP request, NS, DAD probe) for a licensed address: replied from the reader thread
  | 'not-held' // a request for an address this node does not hold
  | 'unlicensed' // a request for a held address whose license has lapsed (health deadline or heartbeat)
  | 'unannounced' // a request for an address held afresh (new, or after a yield) before its first announcement went out
  | 'yielded' // a request for an address yielded to a claim (in this batch or before)
  | 'stale' // a request that waited in the socket longer than the stale limit (a stall): never answered late
  | 'claim' // another MAC claimed a held address (ARP from it, an NA for it, an NS from it); the reader yielded it
  | 'conflict' // another MAC claimed a defended address; the reader kept it
  | 'foreign' // an announcement or reply (ARP, NA) about an address this node does not hold
  | 'own-frame' // sent by this interface's MAC, or naming it as ARP sender or NDP link-layer option
  | 'other-host' // not addressed to this host (PACKET_OTHERHOST)
  | 'vlan' // carried a VLAN tag: it belongs to a VLAN interface, not this one
  | 'probe' // an ARP probe (sender 0.0.0.0) or DAD NS (source ::) for an address not in the table: never a claim (a probe for a held address is a request: answered when licensed, as the kernel does)
  | 'malformed' // not IPv4-over-Ethernet ARP nor a valid NS/NA, or truncated: the frame event's reason says which rule
  | 'send-failed'; // a reply the kernel refused (full queue, link down); never retried late

/** Why a link stopped answering an address by itself. */
export type YieldReason = 'claim' | 'overrun';

export interface LinkEvents {
  /**
   * Every frame read, with the reader's verdict and, for 'malformed', the rule it broke (the same
   * DropReason the TS decoders give). Under overload these may be dropped (counted in stats().eventsDropped).
   */
  frame?(frame: Buffer, verdict: FrameVerdict, reason?: DropReason): void;
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
  /** The interface's MAC when the link was opened: Ethernet source, ARP sender and NA target link-layer address of everything it sends. */
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
  /**
   * Announces ip, if it is licensed at gen now: for IPv4 the gratuitous ARP pair (request and reply
   * form), for IPv6 one unsolicited Neighbour Advertisement (see the top of this file).
   */
  announce(ip: string, gen: number): AnnounceResult;
  stats(): LinkStats;
  close(): void;
}
