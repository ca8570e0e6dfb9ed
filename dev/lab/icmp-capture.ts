// ICMP (IPv4) messages of a capture, for what a node's kernel sends about
// an address it does not hold: a Redirect (type 5) or a Destination
// Unreachable (type 3). The IPv6 counterpart is ndp-client.ts's
// icmpv6Messages.
import { decodeEthernet, ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4 } from '../../src/layer2/packet/ethernet.js';
import type { ArpCapture } from './arp-client.js';

export const ICMP_DESTINATION_UNREACHABLE = 3;
export const ICMP_REDIRECT = 5;
/** The IPv4 header's protocol number of ICMP (RFC 792). */
const IPPROTO_ICMP = 1;
/** Version 4 in the high nibble; the low nibble is the header length in 32-bit words (RFC 791). */
const IPV4_VERSION = 4;

export interface CapturedIcmp {
  timeMs: number;
  ethernetSource: string;
  source: string;
  destination: string;
  type: number;
  code: number;
}

const ipv4At = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** Every ICMP message of a capture (started with a filter that lets `icmp` through). */
export async function icmpMessages(capture: Pick<ArpCapture, 'records'>): Promise<CapturedIcmp[]> {
  const out: CapturedIcmp[] = [];
  for (const r of await capture.records()) {
    const f = r.data;
    const eth = decodeEthernet(f);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV4) continue;
    const ip = ETHERNET_HEADER_LENGTH;
    const first = f[ip] ?? 0;
    if (first >> 4 !== IPV4_VERSION) continue;
    const headerLength = (first & 0x0f) * 4;
    // Protocol at byte 9, addresses at 12 and 16; ICMP type and code right after the header.
    if (f[ip + 9] !== IPPROTO_ICMP || f.length < ip + headerLength + 2) continue;
    out.push({
      timeMs: r.timeMs,
      ethernetSource: eth.value.source,
      source: ipv4At(f, ip + 12),
      destination: ipv4At(f, ip + 16),
      type: f[ip + headerLength] as number,
      code: f[ip + headerLength + 1] as number,
    });
  }
  return out;
}
