// Ethernet II framing (IEEE 802.3 with EtherType). Pure functions over
// bytes: no sockets, no clocks.
import { type MacString, macFromBytes, macToBytes } from '../../net/mac.js';
import { type Decoded, dropped } from './drop-reason.js';

export const ETHERNET_HEADER_LENGTH = 14;
/** Shortest frame on the wire without the FCS; shorter frames are padded with zeros (IEEE 802.3 clause 3.2.8). */
export const ETHERNET_MIN_FRAME_LENGTH = 60;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

export interface EthernetFrame {
  destination: MacString;
  source: MacString;
  etherType: number;
  /** View into the original buffer, not a copy; may include trailing padding. */
  payload: Buffer;
}

export function decodeEthernet(frame: Buffer): Decoded<EthernetFrame> {
  if (frame.length < ETHERNET_HEADER_LENGTH) return dropped('truncated-ethernet');
  const etherType = frame.readUInt16BE(12);
  // Tagged frames belong to a VLAN interface; the speaker listens on the untagged one (the kernel strips tags for VLAN devices).
  if (etherType === ETHERTYPE_VLAN) return dropped('vlan-tagged');
  return {
    ok: true,
    value: {
      destination: macFromBytes(frame, 0),
      source: macFromBytes(frame, 6),
      etherType,
      payload: frame.subarray(ETHERNET_HEADER_LENGTH),
    },
  };
}

/** Builds a frame, padded to the Ethernet minimum so every NIC and bridge passes it unchanged. */
export function encodeEthernet(destination: MacString, source: MacString, etherType: number, payload: Uint8Array): Buffer {
  const length = Math.max(ETHERNET_MIN_FRAME_LENGTH, ETHERNET_HEADER_LENGTH + payload.length);
  const frame = Buffer.alloc(length);
  macToBytes(destination).copy(frame, 0);
  macToBytes(source).copy(frame, 6);
  frame.writeUInt16BE(etherType, 12);
  frame.set(payload, ETHERNET_HEADER_LENGTH);
  return frame;
}
