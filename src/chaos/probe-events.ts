// What a client-side probe records, one JSON line per event, so a probe can
// run in another process (inside the lab's client namespace) and be read back.
// Times are epoch milliseconds with sub-millisecond precision.

export type ProbeEvent =
  /** An ARP reply to one of the probe's own requests: who answers for ip now. */
  | { t: number; kind: 'arp-reply'; ip: string; mac: string }
  /** A gratuitous ARP for ip seen on the wire (a holder announcing itself). */
  | { t: number; kind: 'garp'; ip: string; mac: string }
  /** One page load from ip: who served it, or why it failed. */
  | { t: number; kind: 'http'; ip: string; ok: boolean; from: string; ms: number };

export function encodeEvent(e: ProbeEvent): string {
  return JSON.stringify(e);
}

export function decodeEvents(text: string): ProbeEvent[] {
  const out: ProbeEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as ProbeEvent);
    } catch {
      // a line cut by a kill: ignore
    }
  }
  return out;
}
