// Every frame the speaker does not act on is counted under one of these
// names, in logs and in the baton_speaker_arp_dropped_total metric. The
// strings are part of the observable interface: rename none.
//
//   own-frame    sent by this interface (the kernel may loop our frames back)
//   not-held     a request for an address this node does not announce
//   reply        an ARP reply that claims no address of ours
//   gratuitous   another host announcing an address that is not ours
//   not-ready    a request for an address we hold on a link that cannot send
//   yielded      a request the link's fast path left unanswered: another MAC
//                claimed the address in the same read (its gratuitous ARP
//                arrived with the request), or the link was not yet told
//
// The Ethernet, ARP and NDP names are also the reason the reader gives with
// a 'malformed' verdict (LinkEvents.frame's third argument), so a frame the
// TS decoders refuse and the reader refuses carry the same name.
export const DROP_REASONS = [
  // Ethernet
  'truncated-ethernet',
  'vlan-tagged',
  'not-arp',
  // ARP header
  'truncated-arp',
  'unsupported-hardware-type',
  'unsupported-protocol-type',
  'bad-address-length',
  'unknown-opcode',
  // Responder: well-formed ARP that is not ours to answer
  'own-frame',
  'not-held',
  'reply',
  'gratuitous',
  'not-ready',
  'yielded',
  // IPv6 and Neighbour Discovery (ndp.ts, and the reader's reason for a malformed NS or NA: the C core
  // names these same strings, rc_detail_name() in native/responder_core.c)
  'not-ipv6',
  'truncated-ipv6',
  'bad-ip-version',
  'not-icmpv6',
  'not-ndp',
  'truncated-ndp',
  'bad-hop-limit',
  'bad-icmp-code',
  'bad-checksum',
  'multicast-source',
  'multicast-target',
  'bad-option-length',
  'bad-link-layer-option',
  'source-lla-from-unspecified',
  'bad-destination',
  'solicited-to-multicast',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason };

export function dropped<T>(reason: DropReason): Decoded<T> {
  return { ok: false, reason };
}
