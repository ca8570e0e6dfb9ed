// IPv6 Neighbour Discovery over Ethernet (RFC 4861): Neighbour Solicitations
// and Advertisements, the ICMPv6 checksum over the IPv6 pseudo-header, and
// the solicited-node group and multicast MAC of an address. Pure functions
// over bytes: no sockets, no clocks.
//
// decodeNdpFrame() validates exactly as the reader does (parse_ndp() in
// native/responder_core.c): the same rules in the same order, with the same
// drop reasons, so a frame the reader calls malformed is one this decoder
// refuses for the same reason (src/layer2/ndp-vectors.test.ts holds the two
// together). Only NDP without IPv6 extension headers is accepted: valid NDP
// carries none, and the reader's kernel filter passes none.
import { formatIp, parseIp } from '../../net/ip.js';
import { type MacString, macFromBytes, macToBytes } from '../../net/mac.js';
import { type Decoded, dropped } from './drop-reason.js';
import { decodeEthernet, ETHERTYPE_IPV6, encodeEthernet } from './ethernet.js';

export const IPV6_ADDRESS_LENGTH = 16;
export const IPV6_HEADER_LENGTH = 40;
export const IPV6_VERSION = 6;
export const IPPROTO_ICMPV6 = 58;
/** RFC 4861 7.1.1: a router never forwards with hop limit 255, so 255 proves the sender is on-link. */
export const ND_HOP_LIMIT = 255;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** An NS or NA without options: type, code, checksum (4), flags or reserved (4), target (16). RFC 4861 7.1.1: at least this. */
export const NDP_MIN_LENGTH = 24;
/** Option lengths count units of 8 octets, type and length bytes included (RFC 4861 4.6). */
export const ND_OPTION_UNIT = 8;
export const ND_OPTION_SOURCE_LINK_LAYER = 1;
export const ND_OPTION_TARGET_LINK_LAYER = 2;
/** An Ethernet link-layer address option is one unit: type, length, 6-byte MAC (RFC 2464 section 8). */
const LINK_LAYER_OPTION_UNITS = 1;
const OPTION_ADDRESS_OFFSET = 2;

/** Offsets in the IPv6 fixed header (RFC 8200 3). The reader names them from the frame's start: RC_IP6_OFF_* = these + 14. */
export const IPV6_OFFSET = { version: 0, payloadLength: 4, nextHeader: 6, hopLimit: 7, source: 8, destination: 24 } as const;
/** Offsets in the ICMPv6 message (RFC 4861 4.3, 4.4). The reader's RC_ICMP6_OFF_* and RC_NDP_OFF_* = these + 54. */
export const NDP_OFFSET = { type: 0, code: 1, checksum: 2, flags: 4, target: 8, options: 24 } as const;
/** The NA's R, S and O flags: the top three bits of the byte after the checksum. */
export const NA_FLAG = { router: 0x80, solicited: 0x40, override: 0x20 } as const;

/** The source of a Duplicate Address Detection probe (RFC 4862 5.4.2). */
export const UNSPECIFIED = '::';
/** All-nodes, where unsolicited NAs and the answer to a DAD probe go (RFC 4861 7.2.4, 7.2.6). */
export const ALL_NODES = 'ff02::1';
/** ff02::1:ff00:0/104 (RFC 4291 2.7.1): the first 13 bytes of every solicited-node group. */
const SOLICITED_NODE_PREFIX = Buffer.from(`ff02${'0000'.repeat(4)}0001ff`, 'hex'); // ff02:0:0:0:0:1:ff
/** IPv6 multicast over Ethernet: 33:33 and the group's low 32 bits (RFC 2464 7). */
const IPV6_MULTICAST_MAC_PREFIX = [0x33, 0x33] as const;
const MULTICAST_MAC_SUFFIX_LENGTH = 4;

interface NdpCommon {
  ethernetSource: MacString;
  ethernetDestination: MacString;
  /** IPv6 source: '::' for a DAD probe. */
  source: string;
  destination: string;
  target: string;
}

export interface NeighborSolicitation extends NdpCommon {
  type: 'solicitation';
  /** The Source link-layer address option; absent in DAD probes, optional in unicast NUD probes. */
  sourceLinkLayer?: MacString;
}

export interface NeighborAdvertisement extends NdpCommon {
  type: 'advertisement';
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** The Target link-layer address option: the MAC the target is at. */
  targetLinkLayer?: MacString;
}

export type NdpFrame = NeighborSolicitation | NeighborAdvertisement;

// ---- Addresses ----

/** 16 bytes of an IPv6 address in text form; throws on anything else. */
export function ipv6ToBytes(text: string): Buffer {
  const ip = parseIp(text);
  if (ip === undefined || ip.family !== 6) throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return Buffer.from(ip.value.toString(16).padStart(IPV6_ADDRESS_LENGTH * 2, '0'), 'hex');
}

/** The canonical text (RFC 5952) of the 16 bytes at offset. */
export function ipv6FromBytes(bytes: Uint8Array, offset = 0): string {
  const hex = Buffer.from(bytes.subarray(offset, offset + IPV6_ADDRESS_LENGTH)).toString('hex');
  return formatIp({ family: 6, value: BigInt(`0x${hex}`) });
}

function isMulticastBytes(bytes: Uint8Array, offset: number): boolean {
  return bytes[offset] === 0xff; // ff00::/8 (RFC 4291 2.7)
}

function isUnspecified(text: string): boolean {
  const ip = parseIp(text);
  return ip?.family === 6 && ip.value === 0n;
}

function isUnspecifiedBytes(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < IPV6_ADDRESS_LENGTH; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/** The solicited-node group of ip: ff02::1:ff and its low 24 bits. An NS for ip goes there; the speaker joins it. */
export function solicitedNodeAddress(ip: string): string {
  const bytes = ipv6ToBytes(ip);
  SOLICITED_NODE_PREFIX.copy(bytes, 0);
  return ipv6FromBytes(bytes);
}

/** The Ethernet group of an IPv6 multicast address: 33:33 and its low 32 bits (RFC 2464 7). */
export function ipv6MulticastMac(group: string): MacString {
  const bytes = ipv6ToBytes(group);
  if (!isMulticastBytes(bytes, 0)) throw new RangeError(`not an IPv6 multicast address: ${group}`);
  return macFromBytes(Buffer.from([...IPV6_MULTICAST_MAC_PREFIX, ...bytes.subarray(IPV6_ADDRESS_LENGTH - MULTICAST_MAC_SUFFIX_LENGTH)]));
}

// ---- Checksum ----

/**
 * The ICMPv6 checksum (RFC 4443 2.3) of message under the IPv6 pseudo-header
 * (RFC 8200 8.1: source, destination, 32-bit upper-layer length, three zero
 * bytes, next header 58). Over a message whose checksum field is zero it is
 * the value to put there; over a message with a correct checksum it is 0.
 */
export function icmpv6Checksum(source: Uint8Array, destination: Uint8Array, message: Uint8Array): number {
  let sum = 0;
  const add = (bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length; i += 2) {
      // An odd last byte counts as if followed by a zero byte (RFC 1071).
      sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
      if (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16); // fold as we go: the sum stays a small integer
    }
  };
  add(source);
  add(destination);
  sum += Math.floor(message.length / 0x10000) & 0xffff;
  sum += message.length & 0xffff;
  sum += IPPROTO_ICMPV6;
  add(message);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Recomputes the ICMPv6 checksum of an IPv6-over-Ethernet frame in place (for frames built by hand); returns it. */
export function fixIcmpv6Checksum(frame: Buffer): Buffer {
  const ip = 14;
  const icmp = ip + IPV6_HEADER_LENGTH;
  const length = frame.readUInt16BE(ip + IPV6_OFFSET.payloadLength);
  frame.writeUInt16BE(0, icmp + NDP_OFFSET.checksum);
  const sum = icmpv6Checksum(
    frame.subarray(ip + IPV6_OFFSET.source, ip + IPV6_OFFSET.source + IPV6_ADDRESS_LENGTH),
    frame.subarray(ip + IPV6_OFFSET.destination, ip + IPV6_OFFSET.destination + IPV6_ADDRESS_LENGTH),
    frame.subarray(icmp, icmp + length),
  );
  frame.writeUInt16BE(sum, icmp + NDP_OFFSET.checksum);
  return frame;
}

// ---- Codec ----

/** Encodes an NS or NA frame: hop limit 255, code 0, its link-layer option if given, checksum computed. */
export function encodeNdpFrame(frame: NdpFrame): Buffer {
  const lla = frame.type === 'solicitation' ? frame.sourceLinkLayer : frame.targetLinkLayer;
  const message = Buffer.alloc(NDP_MIN_LENGTH + (lla === undefined ? 0 : ND_OPTION_UNIT));
  message[NDP_OFFSET.type] = frame.type === 'solicitation' ? ICMPV6_NEIGHBOR_SOLICITATION : ICMPV6_NEIGHBOR_ADVERTISEMENT;
  if (frame.type === 'advertisement') {
    message[NDP_OFFSET.flags] =
      (frame.router ? NA_FLAG.router : 0) | (frame.solicited ? NA_FLAG.solicited : 0) | (frame.override ? NA_FLAG.override : 0);
  }
  ipv6ToBytes(frame.target).copy(message, NDP_OFFSET.target);
  if (lla !== undefined) {
    message[NDP_OFFSET.options] = frame.type === 'solicitation' ? ND_OPTION_SOURCE_LINK_LAYER : ND_OPTION_TARGET_LINK_LAYER;
    message[NDP_OFFSET.options + 1] = LINK_LAYER_OPTION_UNITS;
    macToBytes(lla).copy(message, NDP_OFFSET.options + OPTION_ADDRESS_OFFSET);
  }
  const source = ipv6ToBytes(frame.source);
  const destination = ipv6ToBytes(frame.destination);
  message.writeUInt16BE(icmpv6Checksum(source, destination, message), NDP_OFFSET.checksum);
  const header = Buffer.alloc(IPV6_HEADER_LENGTH);
  header[IPV6_OFFSET.version] = IPV6_VERSION << 4; // traffic class and flow label zero
  header.writeUInt16BE(message.length, IPV6_OFFSET.payloadLength);
  header[IPV6_OFFSET.nextHeader] = IPPROTO_ICMPV6;
  header[IPV6_OFFSET.hopLimit] = ND_HOP_LIMIT;
  source.copy(header, IPV6_OFFSET.source);
  destination.copy(header, IPV6_OFFSET.destination);
  return encodeEthernet(frame.ethernetDestination, frame.ethernetSource, ETHERTYPE_IPV6, Buffer.concat([header, message]));
}

/**
 * Decodes and validates an NS or NA frame: RFC 4861 7.1.1 (NS) and 7.1.2
 * (NA), what Linux's IPv6 input and ndisc also refuse (a multicast source, a
 * link-layer option that is not one Ethernet unit), and Baton's rule that an
 * NS goes to its target's solicited-node group or, unless it is a DAD probe,
 * to the target itself (NUD).
 */
export function decodeNdpFrame(frame: Buffer): Decoded<NdpFrame> {
  const eth = decodeEthernet(frame);
  if (!eth.ok) return eth;
  if (eth.value.etherType !== ETHERTYPE_IPV6) return dropped('not-ipv6');
  const p = eth.value.payload;
  if (p.length < IPV6_HEADER_LENGTH) return dropped('truncated-ipv6');
  if ((p[IPV6_OFFSET.version] ?? 0) >> 4 !== IPV6_VERSION) return dropped('bad-ip-version');
  if (p[IPV6_OFFSET.nextHeader] !== IPPROTO_ICMPV6) return dropped('not-icmpv6');
  const length = p.readUInt16BE(IPV6_OFFSET.payloadLength);
  // Beyond the payload is Ethernet padding; a payload beyond the frame was cut: its checksum cannot be verified.
  if (length > p.length - IPV6_HEADER_LENGTH) return dropped('truncated-ipv6');
  if (length === 0) return dropped('truncated-ndp');
  const m = p.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + length);
  const type = m[NDP_OFFSET.type];
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) return dropped('not-ndp');
  if (length < NDP_MIN_LENGTH) return dropped('truncated-ndp');
  if (p[IPV6_OFFSET.hopLimit] !== ND_HOP_LIMIT) return dropped('bad-hop-limit');
  if (m[NDP_OFFSET.code] !== 0) return dropped('bad-icmp-code');
  const sourceBytes = p.subarray(IPV6_OFFSET.source, IPV6_OFFSET.source + IPV6_ADDRESS_LENGTH);
  const destinationBytes = p.subarray(IPV6_OFFSET.destination, IPV6_OFFSET.destination + IPV6_ADDRESS_LENGTH);
  if (icmpv6Checksum(sourceBytes, destinationBytes, m) !== 0) return dropped('bad-checksum');
  if (isMulticastBytes(sourceBytes, 0)) return dropped('multicast-source');
  if (isMulticastBytes(m, NDP_OFFSET.target)) return dropped('multicast-target');
  // Every option must fit and have a length (a zero length would never end the walk: RFC 4861 4.6 says
  // drop). The first link-layer option of the kind the message uses counts, as in Linux's
  // ndisc_parse_options(); others are ignored.
  const wanted = type === ICMPV6_NEIGHBOR_SOLICITATION ? ND_OPTION_SOURCE_LINK_LAYER : ND_OPTION_TARGET_LINK_LAYER;
  let lla: { at: number; units: number } | undefined;
  for (let at = NDP_OFFSET.options; at < m.length; ) {
    if (m.length - at < 2) return dropped('bad-option-length');
    const units = m[at + 1] ?? 0;
    if (units === 0 || units * ND_OPTION_UNIT > m.length - at) return dropped('bad-option-length');
    if (m[at] === wanted && lla === undefined) lla = { at, units };
    at += units * ND_OPTION_UNIT;
  }
  if (lla !== undefined && lla.units !== LINK_LAYER_OPTION_UNITS) return dropped('bad-link-layer-option');
  const linkLayer = lla === undefined ? undefined : macFromBytes(m, lla.at + OPTION_ADDRESS_OFFSET);
  const common = {
    ethernetSource: eth.value.source,
    ethernetDestination: eth.value.destination,
    source: ipv6FromBytes(sourceBytes),
    destination: ipv6FromBytes(destinationBytes),
    target: ipv6FromBytes(m, NDP_OFFSET.target),
  };
  const flags = m[NDP_OFFSET.flags] ?? 0;
  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    const dad = isUnspecifiedBytes(sourceBytes, 0);
    if (dad && linkLayer !== undefined) return dropped('source-lla-from-unspecified');
    const targetBytes = m.subarray(NDP_OFFSET.target, NDP_OFFSET.target + IPV6_ADDRESS_LENGTH);
    const toGroup =
      destinationBytes.subarray(0, SOLICITED_NODE_PREFIX.length).equals(SOLICITED_NODE_PREFIX) &&
      destinationBytes.subarray(SOLICITED_NODE_PREFIX.length).equals(targetBytes.subarray(SOLICITED_NODE_PREFIX.length));
    const toTarget = !dad && destinationBytes.equals(targetBytes);
    if (!toGroup && !toTarget) return dropped('bad-destination');
    return { ok: true, value: { type: 'solicitation', ...common, ...(linkLayer !== undefined ? { sourceLinkLayer: linkLayer } : {}) } };
  }
  const solicited = (flags & NA_FLAG.solicited) !== 0;
  if (isMulticastBytes(destinationBytes, 0) && solicited) return dropped('solicited-to-multicast');
  return {
    ok: true,
    value: {
      type: 'advertisement',
      ...common,
      router: (flags & NA_FLAG.router) !== 0,
      solicited,
      override: (flags & NA_FLAG.override) !== 0,
      ...(linkLayer !== undefined ? { targetLinkLayer: linkLayer } : {}),
    },
  };
}

// ---- The frames Baton and its test clients send ----

/**
 * The NS a host sends for target: to its solicited-node group (address
 * resolution), or with unicastTo to that MAC and the target itself (NUD,
 * RFC 4861 7.3.1). From '::' it is a DAD probe, without a Source option.
 */
export function neighborSolicitation(
  target: string,
  from: { mac: MacString; ip: string },
  options: { unicastTo?: MacString; sourceLinkLayer?: boolean } = {},
): NeighborSolicitation {
  const dad = isUnspecified(from.ip);
  const group = solicitedNodeAddress(target);
  const withOption = options.sourceLinkLayer ?? !dad;
  return {
    type: 'solicitation',
    ethernetSource: from.mac,
    ethernetDestination: options.unicastTo ?? ipv6MulticastMac(group),
    source: from.ip,
    destination: options.unicastTo !== undefined ? target : group,
    target,
    ...(withOption ? { sourceLinkLayer: from.mac } : {}),
  };
}

/**
 * The NA the reader owes ns, from mac: to the asker (its Source option's
 * MAC, else its Ethernet source) with S=1, O=1; for a DAD probe to
 * all-nodes with S=0, O=1 (RFC 4861 7.2.4). Source address: the target.
 */
export function neighborAdvertisementFor(ns: NeighborSolicitation, mac: MacString): NeighborAdvertisement {
  const dad = isUnspecified(ns.source);
  return {
    type: 'advertisement',
    ethernetSource: mac,
    ethernetDestination: dad ? ipv6MulticastMac(ALL_NODES) : (ns.sourceLinkLayer ?? ns.ethernetSource),
    source: ns.target,
    destination: dad ? ALL_NODES : ns.source,
    target: ns.target,
    router: false,
    solicited: !dad,
    override: true,
    targetLinkLayer: mac,
  };
}

/**
 * The unsolicited NA announcing ip at mac (RFC 4861 7.2.6): to all-nodes,
 * S=0, O=1 so caches holding another MAC take this one, with the Target
 * link-layer option (Cilium #46079 sent a Source option; hosts ignored it).
 */
export function unsolicitedAdvertisement(ip: string, mac: MacString): NeighborAdvertisement {
  return {
    type: 'advertisement',
    ethernetSource: mac,
    ethernetDestination: ipv6MulticastMac(ALL_NODES),
    source: ip,
    destination: ALL_NODES,
    target: ip,
    router: false,
    solicited: false,
    override: true,
    targetLinkLayer: mac,
  };
}

/** True for a Duplicate Address Detection probe: an NS from '::' (RFC 4862 5.4.2). */
export function isDadProbe(ns: NeighborSolicitation): boolean {
  return isUnspecified(ns.source);
}
