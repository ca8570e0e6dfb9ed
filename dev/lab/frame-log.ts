// A capture, told as a person reads it: one line per ARP or NDP frame, the
// time relative to a moment, who sent it and what it says. Used where a
// client-side judgement fails (two MACs at once in the chaos e2e) to put the
// frames around the failing moment into the assertion message, so a CI log
// alone says what happened on the wire.
import { decodeArpFrame } from '../../src/layer2/packet/arp.js';
import { decodeNdpFrame } from '../../src/layer2/packet/ndp.js';

export interface CapturedRecord {
  timeMs: number;
  data: Buffer;
}

/** One frame in words: "arp reply 192.0.2.200 is-at node-2 to node-client", "na S=1 O=1 2001:db8::1 is-at node-3". */
export function describeFrame(data: Buffer, name: (mac: string) => string = (m) => m): string {
  const arp = decodeArpFrame(data);
  if (arp.ok) {
    const a = arp.value;
    if (a.senderIp === a.targetIp) return `arp gratuitous ${a.operation} ${a.senderIp} is-at ${name(a.senderMac)}`;
    if (a.operation === 'request') return `arp who-has ${a.targetIp} from ${name(a.senderMac)} (${a.senderIp})`;
    return `arp reply ${a.senderIp} is-at ${name(a.senderMac)} to ${name(a.ethernetDestination)}`;
  }
  const ndp = decodeNdpFrame(data);
  if (ndp.ok) {
    const n = ndp.value;
    if (n.type === 'solicitation') return `ns who-has ${n.target} from ${name(n.ethernetSource)} (${n.source}) to ${n.destination}`;
    const flags = `S=${n.solicited ? 1 : 0} O=${n.override ? 1 : 0}`;
    return `na ${flags} ${n.target} is-at ${name(n.targetLinkLayer ?? n.ethernetSource)} to ${name(n.ethernetDestination)}`;
  }
  return `other frame of ${data.length} bytes (${ndp.reason})`;
}

/**
 * The frames of records within [atMs - beforeMs, atMs + afterMs] that concern ip (ARP for it, NS or NA
 * with it as target), one line each, "+1.234 ms" relative to atMs, in capture order.
 */
export function framesAround(
  records: readonly CapturedRecord[],
  ip: string,
  atMs: number,
  window: { beforeMs: number; afterMs: number },
  name?: (mac: string) => string,
): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.timeMs < atMs - window.beforeMs || r.timeMs > atMs + window.afterMs) continue;
    if (!concerns(r.data, ip)) continue;
    const dt = r.timeMs - atMs;
    out.push(`${dt >= 0 ? '+' : ''}${dt.toFixed(3)} ms ${describeFrame(r.data, name)}`);
  }
  return out;
}

function concerns(data: Buffer, ip: string): boolean {
  const arp = decodeArpFrame(data);
  if (arp.ok) return arp.value.senderIp === ip || arp.value.targetIp === ip;
  const ndp = decodeNdpFrame(data);
  return ndp.ok && ndp.value.target === ip;
}
