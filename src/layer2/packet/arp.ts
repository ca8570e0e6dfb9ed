// ARP for IPv4 over Ethernet (RFC 826), plus the two gratuitous forms of
// RFC 5227 section 3: a request and a reply whose sender and target protocol
// addresses are both the announced IP.
import { type Ipv4String, ipv4FromBytes, ipv4ToBytes } from '../../net/ipv4.js';
import { BROADCAST_MAC, MAC_LENGTH, type MacString, macFromBytes, macToBytes, ZERO_MAC } from '../../net/mac.js';
import { type Decoded, dropped } from './drop-reason.js';
import { decodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, encodeEthernet } from './ethernet.js';

/** htype 1, ptype 0x0800, hlen 6, plen 4, op 2 bytes, then 2 x (6 + 4) addresses. */
export const ARP_IPV4_LENGTH = 28;
export const ARP_HTYPE_ETHERNET = 1;
/** plen of IPv4: the only protocol address length this codec (and the reader) accepts. */
const IPV4_LENGTH = 4;

/**
 * Field offsets in the ARP payload (RFC 826, IPv4 over Ethernet). The reader
 * in C names the same fields from the start of the frame: RC_ARP_OFF_* in
 * native/responder_core.h are these plus the 14-byte Ethernet header.
 */
export const ARP_OFFSET = {
  htype: 0,
  ptype: 2,
  hlen: 4,
  plen: 5,
  op: 6,
  senderMac: 8,
  senderIp: 14,
  targetMac: 18,
  targetIp: 24,
} as const;

export type ArpOperation = 'request' | 'reply';
const OPCODES: Record<ArpOperation, number> = { request: 1, reply: 2 };

export interface ArpPacket {
  operation: ArpOperation;
  senderMac: MacString;
  senderIp: Ipv4String;
  targetMac: MacString;
  targetIp: Ipv4String;
}

export interface ArpFrame extends ArpPacket {
  ethernetSource: MacString;
  ethernetDestination: MacString;
}

export function decodeArp(payload: Buffer): Decoded<ArpPacket> {
  if (payload.length < ARP_IPV4_LENGTH) return dropped('truncated-arp');
  if (payload.readUInt16BE(ARP_OFFSET.htype) !== ARP_HTYPE_ETHERNET) return dropped('unsupported-hardware-type');
  if (payload.readUInt16BE(ARP_OFFSET.ptype) !== ETHERTYPE_IPV4) return dropped('unsupported-protocol-type');
  if (payload[ARP_OFFSET.hlen] !== MAC_LENGTH || payload[ARP_OFFSET.plen] !== IPV4_LENGTH) return dropped('bad-address-length');
  const opcode = payload.readUInt16BE(ARP_OFFSET.op);
  const operation = opcode === 1 ? 'request' : opcode === 2 ? 'reply' : undefined;
  if (operation === undefined) return dropped('unknown-opcode');
  return {
    ok: true,
    value: {
      operation,
      senderMac: macFromBytes(payload, ARP_OFFSET.senderMac),
      senderIp: ipv4FromBytes(payload, ARP_OFFSET.senderIp),
      targetMac: macFromBytes(payload, ARP_OFFSET.targetMac),
      targetIp: ipv4FromBytes(payload, ARP_OFFSET.targetIp),
    },
  };
}

export function encodeArp(packet: ArpPacket): Buffer {
  const b = Buffer.alloc(ARP_IPV4_LENGTH);
  b.writeUInt16BE(ARP_HTYPE_ETHERNET, ARP_OFFSET.htype);
  b.writeUInt16BE(ETHERTYPE_IPV4, ARP_OFFSET.ptype);
  b[ARP_OFFSET.hlen] = MAC_LENGTH;
  b[ARP_OFFSET.plen] = IPV4_LENGTH;
  b.writeUInt16BE(OPCODES[packet.operation], ARP_OFFSET.op);
  macToBytes(packet.senderMac).copy(b, ARP_OFFSET.senderMac);
  ipv4ToBytes(packet.senderIp).copy(b, ARP_OFFSET.senderIp);
  macToBytes(packet.targetMac).copy(b, ARP_OFFSET.targetMac);
  ipv4ToBytes(packet.targetIp).copy(b, ARP_OFFSET.targetIp);
  return b;
}

/** Decodes a whole frame: Ethernet, then ARP. Frames of other EtherTypes are dropped as not-arp. */
export function decodeArpFrame(frame: Buffer): Decoded<ArpFrame> {
  const eth = decodeEthernet(frame);
  if (!eth.ok) return eth;
  if (eth.value.etherType !== ETHERTYPE_ARP) return dropped('not-arp');
  const arp = decodeArp(eth.value.payload);
  if (!arp.ok) return arp;
  return { ok: true, value: { ...arp.value, ethernetSource: eth.value.source, ethernetDestination: eth.value.destination } };
}

export function encodeArpFrame(frame: ArpFrame): Buffer {
  return encodeEthernet(frame.ethernetDestination, frame.ethernetSource, ETHERTYPE_ARP, encodeArp(frame));
}

/** The unicast reply to `request`, claiming `ip` for `mac` (both the Ethernet source and the ARP sender). */
export function arpReplyFor(request: ArpPacket & { ethernetSource: MacString }, mac: MacString): ArpFrame {
  return {
    operation: 'reply',
    ethernetSource: mac,
    ethernetDestination: request.senderMac,
    senderMac: mac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  };
}

/**
 * A gratuitous ARP announcing ip at mac, broadcast. The request form
 * (target MAC zero) is what RFC 5227 recommends; the reply form (target MAC
 * broadcast) is what some older stacks only accept, so speakers send both.
 */
export function gratuitousArp(ip: Ipv4String, mac: MacString, operation: ArpOperation): ArpFrame {
  return {
    operation,
    ethernetSource: mac,
    ethernetDestination: BROADCAST_MAC,
    senderMac: mac,
    senderIp: ip,
    targetMac: operation === 'request' ? ZERO_MAC : BROADCAST_MAC,
    targetIp: ip,
  };
}

/** True for announcements: sender and target protocol address are the same (RFC 5227 section 3). */
export function isGratuitous(packet: ArpPacket): boolean {
  return packet.senderIp === packet.targetIp;
}
