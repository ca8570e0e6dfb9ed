// ARP frames in hex, each with what the reader (native/responder_core.c)
// must make of it for one fixed table, and what the TS decoder makes of it.
// src/layer2/arp-vectors.test.ts runs every vector through a VirtualLink (the
// C) and through decodeArpFrame, so the two layers cannot drift apart on
// what a frame is. Fields are written one by one, as on the wire.
import type { FrameVerdict } from '../link.js';
import type { DropReason } from './drop-reason.js';

/** The table every vector is judged against. */
export const VECTOR_TABLE = {
  ourMac: '02:ba:70:00:00:0b',
  /** Held, licensed, not defended: a claim yields it. */
  held: '192.0.2.200',
  /** Held, licensed and defended: a claim is a conflict. */
  defended: '192.0.2.201',
  /** Yielded to a claim at generation 1. */
  yielded: '192.0.2.202',
  /** Held, but its answer deadline has passed. */
  expired: '192.0.2.203',
  /** Granted, but not announced yet: silent until its first announcement is on the wire. */
  unannounced: '192.0.2.204',
} as const;

const OURS = '02ba7000000b';
const CLIENT = '02ba70000064'; // 192.0.2.100
const RIVAL = '02ba7000000c'; // 192.0.2.12's MAC, claiming our addresses
const BCAST = 'ffffffffffff';
const ZERO = '000000000000';
const ARP = '0806';
const HEADER = '0001' + '0800' + '06' + '04'; // htype Ethernet, ptype IPv4, hlen, plen
const REQUEST = '0001';
const REPLY = '0002';
const PAD = '00'.repeat(18); // 42 bytes of header and ARP, padded to the 60-byte minimum
const TAG_VLAN_200 = '810000c8'; // 802.1Q in the frame: TPID 0x8100, TCI 200 (4 bytes, so 4 fewer of padding)

const IP = {
  client: 'c0000264', // 192.0.2.100
  held: 'c00002c8', // .200
  defended: 'c00002c9', // .201
  yielded: 'c00002ca', // .202
  expired: 'c00002cb', // .203
  unannounced: 'c00002cc', // .204
  free: 'c000024d', // .77, not in the table
  zero: '00000000',
};

export interface ArpVector {
  name: string;
  hex: string;
  pktType?: 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing';
  vlan?: number;
  /** How long the frame waited in the socket. */
  ageMs?: number;
  verdict: FrameVerdict;
  /** The event the frame raises, if any. */
  event?: 'yielded' | 'conflict';
  /** The reply the reader sends, byte for byte, if it answers. */
  reply?: string;
  /** decodeArpFrame's result: 'ok' or the drop reason. */
  decoder: 'ok' | DropReason;
}

function whoHas(target: string, from = CLIENT, fromIp = IP.client, dst = BCAST): string {
  return dst + from + ARP + HEADER + REQUEST + from + fromIp + ZERO + target + PAD;
}

function garp(ip: string, op: string, from = RIVAL): string {
  return BCAST + from + ARP + HEADER + op + from + ip + (op === REQUEST ? ZERO : BCAST) + ip + PAD;
}

/** The reply the reader owes CLIENT for ip: unicast to the asker, our MAC as Ethernet source and ARP sender. */
function replyTo(ip: string, asker = CLIENT, askerIp = IP.client): string {
  return asker + OURS + ARP + HEADER + REPLY + OURS + ip + asker + askerIp + PAD;
}

function withByte(hex: string, byteOffset: number, byteHex: string): string {
  return hex.slice(0, byteOffset * 2) + byteHex + hex.slice(byteOffset * 2 + byteHex.length);
}

export const ARP_VECTORS: readonly ArpVector[] = [
  { name: 'request for a held address', hex: whoHas(IP.held), verdict: 'answered', reply: replyTo(IP.held), decoder: 'ok' },
  { name: 'request for a defended address', hex: whoHas(IP.defended), verdict: 'answered', reply: replyTo(IP.defended), decoder: 'ok' },
  {
    name: 'unicast request to our MAC',
    hex: whoHas(IP.held, CLIENT, IP.client, OURS),
    verdict: 'answered',
    reply: replyTo(IP.held),
    decoder: 'ok',
  },
  { name: 'request for a yielded address', hex: whoHas(IP.yielded), verdict: 'yielded', decoder: 'ok' },
  { name: 'request for an address past its answer deadline', hex: whoHas(IP.expired), verdict: 'unlicensed', decoder: 'ok' },
  { name: 'request for an address granted but not yet announced', hex: whoHas(IP.unannounced), verdict: 'unannounced', decoder: 'ok' },
  { name: 'request for an address not in the table', hex: whoHas(IP.free), verdict: 'not-held', decoder: 'ok' },
  { name: 'request that waited 300 ms', hex: whoHas(IP.held), ageMs: 300, verdict: 'stale', decoder: 'ok' },
  { name: 'request that waited 249 ms', hex: whoHas(IP.held), ageMs: 249, verdict: 'answered', reply: replyTo(IP.held), decoder: 'ok' },
  { name: 'request not for this host (OTHERHOST)', hex: whoHas(IP.held, CLIENT, IP.client, RIVAL), verdict: 'other-host', decoder: 'ok' },
  { name: 'request with an offloaded VLAN tag', hex: whoHas(IP.held), vlan: 200, verdict: 'vlan', decoder: 'ok' },
  {
    name: 'request with an in-band 802.1Q tag',
    hex: BCAST + CLIENT + TAG_VLAN_200 + ARP + HEADER + REQUEST + CLIENT + IP.client + ZERO + IP.held + PAD.slice(8),
    verdict: 'vlan',
    decoder: 'vlan-tagged',
  },
  { name: 'gratuitous request for a held address', hex: garp(IP.held, REQUEST), verdict: 'claim', event: 'yielded', decoder: 'ok' },
  { name: 'gratuitous reply for a held address', hex: garp(IP.held, REPLY), verdict: 'claim', event: 'yielded', decoder: 'ok' },
  {
    name: 'multicast gratuitous reply for a held address',
    hex: garp(IP.held, REPLY),
    pktType: 'multicast',
    verdict: 'claim',
    event: 'yielded',
    decoder: 'ok',
  },
  {
    name: 'unicast reply from another MAC for a held address',
    hex: OURS + RIVAL + ARP + HEADER + REPLY + RIVAL + IP.held + OURS + IP.client + PAD,
    verdict: 'claim',
    event: 'yielded',
    decoder: 'ok',
  },
  {
    name: 'request from another MAC using a held address',
    hex: whoHas(IP.free, RIVAL, IP.held),
    verdict: 'claim',
    event: 'yielded',
    decoder: 'ok',
  },
  { name: 'gratuitous ARP for a defended address', hex: garp(IP.defended, REQUEST), verdict: 'conflict', event: 'conflict', decoder: 'ok' },
  { name: 'gratuitous ARP for a yielded address', hex: garp(IP.yielded, REPLY), verdict: 'foreign', decoder: 'ok' },
  { name: 'gratuitous ARP for an address not in the table', hex: garp(IP.free, REQUEST), verdict: 'foreign', decoder: 'ok' },
  {
    name: 'gratuitous ARP for a held address, OTHERHOST',
    hex: garp(IP.held, REQUEST),
    pktType: 'otherhost',
    verdict: 'other-host',
    decoder: 'ok',
  },
  { name: 'gratuitous ARP for a held address, VLAN-tagged', hex: garp(IP.held, REQUEST), vlan: 200, verdict: 'vlan', decoder: 'ok' },
  {
    name: 'op 3 with a held address as sender',
    hex: withByte(garp(IP.held, REQUEST), 21, '03'),
    verdict: 'malformed',
    decoder: 'unknown-opcode',
  },
  { name: 'probe for an address not in the table', hex: whoHas(IP.free, RIVAL, IP.zero), verdict: 'probe', decoder: 'ok' },
  {
    name: 'probe for a held address (answered as the kernel does)',
    hex: whoHas(IP.held, RIVAL, IP.zero),
    verdict: 'answered',
    reply: replyTo(IP.held, RIVAL, IP.zero),
    decoder: 'ok',
  },
  {
    name: 'our MAC as Ethernet source',
    hex: BCAST + OURS + ARP + HEADER + REQUEST + RIVAL + IP.held + ZERO + IP.held + PAD,
    verdict: 'own-frame',
    decoder: 'ok',
  },
  {
    name: 'our MAC as ARP sender',
    hex: BCAST + RIVAL + ARP + HEADER + REQUEST + OURS + IP.held + ZERO + IP.held + PAD,
    verdict: 'own-frame',
    decoder: 'ok',
  },
  { name: 'a frame this host sent (OUTGOING)', hex: garp(IP.held, REQUEST), pktType: 'outgoing', verdict: 'own-frame', decoder: 'ok' },
  { name: 'ARP cut at 27 bytes', hex: whoHas(IP.held).slice(0, (14 + 27) * 2), verdict: 'malformed', decoder: 'truncated-arp' },
  { name: '13-byte frame', hex: whoHas(IP.held).slice(0, 13 * 2), verdict: 'malformed', decoder: 'truncated-ethernet' },
  { name: 'IPv4 EtherType', hex: withByte(whoHas(IP.held), 13, '00'), verdict: 'malformed', decoder: 'not-arp' },
  { name: 'token ring htype', hex: withByte(whoHas(IP.held), 15, '06'), verdict: 'malformed', decoder: 'unsupported-hardware-type' },
  { name: 'IPv6 ptype', hex: withByte(whoHas(IP.held), 16, '86dd'), verdict: 'malformed', decoder: 'unsupported-protocol-type' },
  { name: 'hlen 8', hex: withByte(whoHas(IP.held), 18, '08'), verdict: 'malformed', decoder: 'bad-address-length' },
];
