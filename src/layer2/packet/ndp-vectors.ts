// Neighbour Discovery frames in hex, each with what the reader
// (native/responder_core.c) must make of it for one fixed table, and what the
// TS decoder (decodeNdpFrame) makes of it. src/layer2/ndp-vectors.test.ts
// runs every vector through a VirtualLink (the C) and through the decoder, so
// the two cannot drift apart on what a valid NS or NA is, and for a
// malformed frame the reader's reason must be the decoder's. Fields are
// written one by one, as on the wire; checksums are filled in by
// fixIcmpv6Checksum (a vector about a bad checksum breaks it afterwards).
import type { FrameVerdict } from '../link.js';
import type { DropReason } from './drop-reason.js';
import { fixIcmpv6Checksum } from './ndp.js';

/** The table every vector is judged against (the same roles as the ARP vectors' table). */
export const NDP_VECTOR_TABLE = {
  ourMac: '02:ba:70:00:00:0b',
  /** Held, licensed, not defended: a claim yields it. */
  held: '2001:db8::c8',
  /** Held, licensed and defended: a claim is a conflict. */
  defended: '2001:db8::c9',
  /** Yielded to a claim at generation 1. */
  yielded: '2001:db8::ca',
  /** Held, but its answer deadline has passed. */
  expired: '2001:db8::cb',
  /** Granted, but not announced yet: silent until its first announcement is on the wire. */
  unannounced: '2001:db8::cc',
} as const;

const OURS = '02ba7000000b';
const CLIENT = '02ba70000064';
const RIVAL = '02ba7000000c';
const OTHER_MAC = '02ba70000099'; // a Source option naming another MAC than the Ethernet source
const ALL_NODES_MAC = '333300000001';
const IPV6 = '86dd';

export const ADDR = {
  client: '20010db8000000000000000000000064', // 2001:db8::64
  held: '20010db80000000000000000000000c8',
  defended: '20010db80000000000000000000000c9',
  yielded: '20010db80000000000000000000000ca',
  expired: '20010db80000000000000000000000cb',
  unannounced: '20010db80000000000000000000000cc',
  free: '20010db800000000000000000000004d', // not in the table
  unspecified: '00000000000000000000000000000000',
  allNodes: 'ff020000000000000000000000000001',
  linkLocalMulticast: 'ff020000000000000000000000000002', // all-routers: a multicast source or target
} as const;

const NS = '87'; // 135
const NA = '88'; // 136
const CODE = '00';
const CHECKSUM = '0000'; // filled in by fixIcmpv6Checksum
const RESERVED = '00000000';
const FLAGS = { none: '00000000', override: '20000000', solicited: '40000000', solicitedOverride: '60000000' } as const;
const SLLA = (mac: string): string => `0101${mac}`; // type 1, one unit, MAC
const TLLA = (mac: string): string => `0201${mac}`; // type 2, one unit, MAC

/** ff02::1:ff and the address's low 24 bits (RFC 4291 2.7.1). */
function solicitedNode(addr: string): string {
  return `ff0200000000000000000001ff${addr.slice(26)}`;
}

/** Its Ethernet group: 33:33 and the group's low 32 bits (RFC 2464 7). */
function solicitedNodeMac(addr: string): string {
  return `3333ff${addr.slice(26)}`;
}

/** The IPv6 fixed header: version 6, traffic class and flow label 0, payload length, next header, hop limit. */
function ipv6(payloadHex: string, src: string, dst: string, hopLimit = 'ff', nextHeader = '3a'): string {
  const length = (payloadHex.length / 2).toString(16).padStart(4, '0');
  return `60000000${length}${nextHeader}${hopLimit}${src}${dst}`;
}

interface Fields {
  ethDst: string;
  ethSrc: string;
  src: string;
  dst: string;
  /** ICMPv6 message from the type on (checksum zero). */
  icmp: string;
  hopLimit?: string;
  nextHeader?: string;
}

/** A frame with its checksum computed over what it carries. */
function frame(f: Fields): string {
  const hex = f.ethDst + f.ethSrc + IPV6 + ipv6(f.icmp, f.src, f.dst, f.hopLimit, f.nextHeader) + f.icmp;
  return fixIcmpv6Checksum(Buffer.from(hex, 'hex')).toString('hex');
}

/** An NS for target from the client: to its solicited-node group, with the client's Source option. */
function solicit(target: string, o: Partial<Fields> & { options?: string } = {}): string {
  return frame({
    ethDst: solicitedNodeMac(target),
    ethSrc: CLIENT,
    src: ADDR.client,
    dst: solicitedNode(target),
    icmp: NS + CODE + CHECKSUM + RESERVED + target + (o.options ?? SLLA(CLIENT)),
    ...o,
  });
}

/** A DAD probe for target from RIVAL: source ::, no options, to the target's solicited-node group. */
function dadProbe(target: string, o: Partial<Fields> & { options?: string } = {}): string {
  return frame({
    ethDst: solicitedNodeMac(target),
    ethSrc: RIVAL,
    src: ADDR.unspecified,
    dst: solicitedNode(target),
    icmp: NS + CODE + CHECKSUM + RESERVED + target + (o.options ?? ''),
    ...o,
  });
}

/** An NA for target from RIVAL: unsolicited to all-nodes, O=1, RIVAL's Target option (what a takeover sends). */
function advertise(target: string, o: Partial<Fields> & { flags?: string; options?: string } = {}): string {
  return frame({
    ethDst: ALL_NODES_MAC,
    ethSrc: RIVAL,
    src: target,
    dst: ADDR.allNodes,
    icmp: NA + CODE + CHECKSUM + (o.flags ?? FLAGS.override) + target + (o.options ?? TLLA(RIVAL)),
    ...o,
  });
}

/** The NA the reader owes an asker: from our MAC, the target as source, S=1 O=1, our Target option. */
function replyTo(target: string, askerMac = CLIENT, askerIp: string = ADDR.client): string {
  return frame({
    ethDst: askerMac,
    ethSrc: OURS,
    src: target,
    dst: askerIp,
    icmp: NA + CODE + CHECKSUM + FLAGS.solicitedOverride + target + TLLA(OURS),
  });
}

/** The NA that defends target against a DAD probe: to all-nodes, S=0 O=1 (RFC 4861 7.2.4). */
function defend(target: string): string {
  return frame({
    ethDst: ALL_NODES_MAC,
    ethSrc: OURS,
    src: target,
    dst: ADDR.allNodes,
    icmp: NA + CODE + CHECKSUM + FLAGS.override + target + TLLA(OURS),
  });
}

function withByte(hex: string, byteOffset: number, byteHex: string): string {
  return hex.slice(0, byteOffset * 2) + byteHex + hex.slice(byteOffset * 2 + byteHex.length);
}

const OFF = { nextHeader: 20, hopLimit: 21, icmpCode: 55, checksum: 56 } as const;

export interface NdpVector {
  name: string;
  hex: string;
  pktType?: 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing';
  vlan?: number;
  ageMs?: number;
  verdict: FrameVerdict;
  /** The event the frame raises, and for which address (text). */
  event?: { kind: 'yielded' | 'conflict'; ip: string; mac: string };
  /** The frame the reader sends, byte for byte, if it answers. */
  reply?: string;
  /** decodeNdpFrame's result: 'ok' or the drop reason (for malformed frames, also the reader's reason). */
  decoder: 'ok' | DropReason;
}

const T = NDP_VECTOR_TABLE;
const rivalMac = '02:ba:70:00:00:0c';

export const NDP_VECTORS: readonly NdpVector[] = [
  // Requests
  { name: 'NS for a held address', hex: solicit(ADDR.held), verdict: 'answered', reply: replyTo(ADDR.held), decoder: 'ok' },
  { name: 'NS for a defended address', hex: solicit(ADDR.defended), verdict: 'answered', reply: replyTo(ADDR.defended), decoder: 'ok' },
  {
    name: 'unicast NUD NS to the held address itself (MetalLB #2920)',
    hex: solicit(ADDR.held, { ethDst: OURS, dst: ADDR.held }),
    verdict: 'answered',
    reply: replyTo(ADDR.held),
    decoder: 'ok',
  },
  {
    name: 'unicast NUD NS without a Source option: answered to the Ethernet source',
    hex: solicit(ADDR.held, { ethDst: OURS, dst: ADDR.held, options: '' }),
    verdict: 'answered',
    reply: replyTo(ADDR.held),
    decoder: 'ok',
  },
  {
    name: 'NS whose Source option names another MAC: answered to the option',
    hex: solicit(ADDR.held, { options: SLLA(OTHER_MAC) }),
    verdict: 'answered',
    reply: replyTo(ADDR.held, OTHER_MAC),
    decoder: 'ok',
  },
  {
    name: 'NS with Ethernet padding after the payload',
    hex: `${solicit(ADDR.held)}00000000`,
    verdict: 'answered',
    reply: replyTo(ADDR.held),
    decoder: 'ok',
  },
  {
    name: 'NS with an unknown option before the Source option',
    hex: solicit(ADDR.held, { options: `0e01${'00'.repeat(6)}${SLLA(CLIENT)}` }),
    verdict: 'answered',
    reply: replyTo(ADDR.held),
    decoder: 'ok',
  },
  {
    name: 'NS with two Source options: the first counts (as in Linux)',
    hex: solicit(ADDR.held, { options: SLLA(CLIENT) + SLLA(OTHER_MAC) }),
    verdict: 'answered',
    reply: replyTo(ADDR.held),
    decoder: 'ok',
  },
  { name: 'NS for a yielded address', hex: solicit(ADDR.yielded), verdict: 'yielded', decoder: 'ok' },
  { name: 'NS for an address past its answer deadline', hex: solicit(ADDR.expired), verdict: 'unlicensed', decoder: 'ok' },
  { name: 'NS for an address granted but not yet announced', hex: solicit(ADDR.unannounced), verdict: 'unannounced', decoder: 'ok' },
  { name: 'NS for an address not in the table', hex: solicit(ADDR.free), verdict: 'not-held', decoder: 'ok' },
  { name: 'NS that waited 300 ms', hex: solicit(ADDR.held), ageMs: 300, verdict: 'stale', decoder: 'ok' },
  { name: 'NS that waited 249 ms', hex: solicit(ADDR.held), ageMs: 249, verdict: 'answered', reply: replyTo(ADDR.held), decoder: 'ok' },
  {
    name: 'NS not for this host (OTHERHOST)',
    hex: solicit(ADDR.held, { ethDst: RIVAL, dst: ADDR.held }),
    verdict: 'other-host',
    decoder: 'ok',
  },
  { name: 'NS with an offloaded VLAN tag', hex: solicit(ADDR.held), vlan: 200, verdict: 'vlan', decoder: 'ok' },
  // DAD
  {
    name: 'DAD probe for a held address: defended to all-nodes',
    hex: dadProbe(ADDR.held),
    verdict: 'answered',
    reply: defend(ADDR.held),
    decoder: 'ok',
  },
  { name: 'DAD probe for an address not in the table', hex: dadProbe(ADDR.free), verdict: 'probe', decoder: 'ok' },
  { name: 'DAD probe for a yielded address', hex: dadProbe(ADDR.yielded), verdict: 'yielded', decoder: 'ok' },
  {
    name: 'DAD probe with a nonce option (RFC 7527)',
    hex: dadProbe(ADDR.held, { options: `0e01${'a1b2c3d4e5f6'}` }),
    verdict: 'answered',
    reply: defend(ADDR.held),
    decoder: 'ok',
  },
  // Claims
  {
    name: 'unsolicited NA (O=1) for a held address',
    hex: advertise(ADDR.held),
    verdict: 'claim',
    event: { kind: 'yielded', ip: T.held, mac: rivalMac },
    decoder: 'ok',
  },
  {
    name: 'NA without Override for a held address (a leftover MetalLB speaker)',
    hex: advertise(ADDR.held, { flags: FLAGS.none }),
    verdict: 'claim',
    event: { kind: 'yielded', ip: T.held, mac: rivalMac },
    decoder: 'ok',
  },
  {
    name: 'solicited NA unicast to us for a held address',
    hex: advertise(ADDR.held, { ethDst: OURS, dst: ADDR.client, flags: FLAGS.solicitedOverride }),
    verdict: 'claim',
    event: { kind: 'yielded', ip: T.held, mac: rivalMac },
    decoder: 'ok',
  },
  {
    name: 'NA without a Target option: the Ethernet source is blamed',
    hex: advertise(ADDR.held, { options: '' }),
    verdict: 'claim',
    event: { kind: 'yielded', ip: T.held, mac: rivalMac },
    decoder: 'ok',
  },
  {
    name: 'NA whose Target option names another MAC than its sender: the option is blamed',
    hex: advertise(ADDR.held, { options: TLLA(OTHER_MAC) }),
    verdict: 'claim',
    event: { kind: 'yielded', ip: T.held, mac: '02:ba:70:00:00:99' },
    decoder: 'ok',
  },
  {
    name: 'NS from another MAC using a held address as its source',
    hex: solicit(ADDR.free, { ethSrc: RIVAL, src: ADDR.held, options: SLLA(RIVAL) }),
    verdict: 'claim',
    event: { kind: 'yielded', ip: T.held, mac: rivalMac },
    decoder: 'ok',
  },
  {
    name: 'NA for a defended address',
    hex: advertise(ADDR.defended),
    verdict: 'conflict',
    event: { kind: 'conflict', ip: T.defended, mac: rivalMac },
    decoder: 'ok',
  },
  { name: 'NA for a yielded address', hex: advertise(ADDR.yielded), verdict: 'foreign', decoder: 'ok' },
  { name: 'NA for an address not in the table', hex: advertise(ADDR.free), verdict: 'foreign', decoder: 'ok' },
  { name: 'NA for a held address, OTHERHOST', hex: advertise(ADDR.held, { ethDst: RIVAL }), verdict: 'other-host', decoder: 'ok' },
  { name: 'NA for a held address, VLAN-tagged', hex: advertise(ADDR.held), vlan: 200, verdict: 'vlan', decoder: 'ok' },
  // Our own
  { name: 'NA with our MAC as Ethernet source', hex: advertise(ADDR.held, { ethSrc: OURS }), verdict: 'own-frame', decoder: 'ok' },
  { name: 'NA with our MAC as Target option', hex: advertise(ADDR.held, { options: TLLA(OURS) }), verdict: 'own-frame', decoder: 'ok' },
  {
    name: "our kernel's NS for a held address (our MAC as Ethernet source)",
    hex: solicit(ADDR.held, { ethSrc: OURS, options: SLLA(OURS) }),
    verdict: 'own-frame',
    decoder: 'ok',
  },
  { name: 'NS with our MAC as Source option', hex: solicit(ADDR.held, { options: SLLA(OURS) }), verdict: 'own-frame', decoder: 'ok' },
  { name: 'an NS this host sent (OUTGOING)', hex: solicit(ADDR.held), pktType: 'outgoing', verdict: 'own-frame', decoder: 'ok' },
  // Malformed: one rule each (RFC 4861 7.1.1, 7.1.2, and the kernel's and Baton's own)
  { name: 'cut inside the IPv6 header', hex: solicit(ADDR.held).slice(0, 50 * 2), verdict: 'malformed', decoder: 'truncated-ipv6' },
  {
    name: 'payload length beyond the frame (cut by a snapshot)',
    hex: solicit(ADDR.held).slice(0, 80 * 2),
    verdict: 'malformed',
    decoder: 'truncated-ipv6',
  },
  { name: 'IP version 4 in an IPv6 frame', hex: withByte(solicit(ADDR.held), 14, '40'), verdict: 'malformed', decoder: 'bad-ip-version' },
  {
    name: 'a hop-by-hop extension header before ICMPv6',
    hex: solicit(ADDR.held, { nextHeader: '00' }),
    verdict: 'malformed',
    decoder: 'not-icmpv6',
  },
  {
    name: 'ICMPv6 echo request',
    hex: frame({ ethDst: OURS, ethSrc: CLIENT, src: ADDR.client, dst: ADDR.held, icmp: `8000${CHECKSUM}00010001${'00'.repeat(16)}` }),
    verdict: 'malformed',
    decoder: 'not-ndp',
  },
  {
    name: 'NS of 16 octets (shorter than 24)',
    hex: frame({
      ethDst: OURS,
      ethSrc: CLIENT,
      src: ADDR.client,
      dst: ADDR.held,
      icmp: NS + CODE + CHECKSUM + RESERVED + ADDR.held.slice(0, 16),
    }),
    verdict: 'malformed',
    decoder: 'truncated-ndp',
  },
  { name: 'hop limit 64 (routed)', hex: solicit(ADDR.held, { hopLimit: '40' }), verdict: 'malformed', decoder: 'bad-hop-limit' },
  {
    name: 'hop limit 254',
    hex: advertise(ADDR.held, { hopLimit: 'fe' }),
    verdict: 'malformed',
    decoder: 'bad-hop-limit',
  },
  {
    name: 'ICMPv6 code 1',
    hex: fixIcmpv6Checksum(Buffer.from(withByte(solicit(ADDR.held), OFF.icmpCode, '01'), 'hex')).toString('hex'),
    verdict: 'malformed',
    decoder: 'bad-icmp-code',
  },
  {
    name: 'bad checksum on an NS',
    hex: withByte(solicit(ADDR.held), OFF.checksum, '0000'),
    verdict: 'malformed',
    decoder: 'bad-checksum',
  },
  {
    name: 'bad checksum on an NA for a held address (never a claim)',
    hex: withByte(advertise(ADDR.held), OFF.checksum + 1, 'ff'),
    verdict: 'malformed',
    decoder: 'bad-checksum',
  },
  {
    name: 'multicast source',
    hex: solicit(ADDR.held, { src: ADDR.linkLocalMulticast }),
    verdict: 'malformed',
    decoder: 'multicast-source',
  },
  {
    name: 'multicast target in an NS',
    hex: solicit(ADDR.linkLocalMulticast, { dst: solicitedNode(ADDR.linkLocalMulticast) }),
    verdict: 'malformed',
    decoder: 'multicast-target',
  },
  {
    name: 'multicast target in an NA',
    hex: advertise(ADDR.linkLocalMulticast, { src: ADDR.client }),
    verdict: 'malformed',
    decoder: 'multicast-target',
  },
  {
    name: 'an option of length 0',
    hex: solicit(ADDR.held, { options: `0100${'00'.repeat(6)}` }),
    verdict: 'malformed',
    decoder: 'bad-option-length',
  },
  {
    name: 'an option running past the message',
    hex: solicit(ADDR.held, { options: `0102${CLIENT}` }),
    verdict: 'malformed',
    decoder: 'bad-option-length',
  },
  {
    name: 'one stray byte after the options',
    hex: solicit(ADDR.held, { options: `${SLLA(CLIENT)}01` }),
    verdict: 'malformed',
    decoder: 'bad-option-length',
  },
  {
    name: 'a Source option of two units (not Ethernet)',
    hex: solicit(ADDR.held, { options: `0102${CLIENT}${'00'.repeat(8)}` }),
    verdict: 'malformed',
    decoder: 'bad-link-layer-option',
  },
  {
    name: 'a Target option of two units in an NA for a held address',
    hex: advertise(ADDR.held, { options: `0202${RIVAL}${'00'.repeat(8)}` }),
    verdict: 'malformed',
    decoder: 'bad-link-layer-option',
  },
  {
    name: 'DAD probe with a Source option',
    hex: dadProbe(ADDR.held, { options: SLLA(RIVAL) }),
    verdict: 'malformed',
    decoder: 'source-lla-from-unspecified',
  },
  { name: 'NS to all-nodes', hex: solicit(ADDR.held, { dst: ADDR.allNodes }), verdict: 'malformed', decoder: 'bad-destination' },
  {
    name: "NS to another address's solicited-node group",
    hex: solicit(ADDR.held, { dst: solicitedNode(ADDR.defended) }),
    verdict: 'malformed',
    decoder: 'bad-destination',
  },
  {
    name: 'NS unicast to another address than its target',
    hex: solicit(ADDR.held, { ethDst: OURS, dst: ADDR.defended }),
    verdict: 'malformed',
    decoder: 'bad-destination',
  },
  {
    name: 'DAD probe unicast to its target',
    hex: dadProbe(ADDR.held, { ethDst: OURS, dst: ADDR.held }),
    verdict: 'malformed',
    decoder: 'bad-destination',
  },
  {
    name: 'NA with the Solicited flag to all-nodes',
    hex: advertise(ADDR.held, { flags: FLAGS.solicitedOverride }),
    verdict: 'malformed',
    decoder: 'solicited-to-multicast',
  },
];
