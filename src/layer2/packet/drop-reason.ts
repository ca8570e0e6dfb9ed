// Every frame the speaker does not act on is counted under one of these
// names, in logs and in the baton_speaker_arp_dropped_total metric. The
// strings are part of the observable interface: rename none.
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
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason };

export function dropped<T>(reason: DropReason): Decoded<T> {
  return { ok: false, reason };
}
