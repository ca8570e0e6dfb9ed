// What an IPv6 client on the LAN sees, the counterpart of arp-client.ts:
// which MACs answer a Neighbour Solicitation for an address (asked with
// ndisc6 from Debian's ndisc6 package, a real client; or with an NS frame
// of the test's own, unicast, as a neighbour cache's reachability probe
// sends it), its kernel's IPv6 neighbour table, and the Neighbour
// Advertisements of a capture, put in the terms of the ARP claim rules.
import { decodeNdpFrame, encodeNdpFrame, neighborSolicitation } from '../../src/layer2/packet/ndp.js';
import { normalizeMac } from '../../src/net/mac.js';
import type { ArpCapture, ClaimFrame } from './arp-client.js';
import { runInNetns } from './exec.js';
import type { LanHost } from './lan.js';

/** tcpdump's filter for the NDP half of a capture: Neighbour Solicitations and Advertisements (ICMPv6 types 135, 136). */
export const NDP_CAPTURE_FILTER = 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)';

export interface NdiscResult {
  /** Distinct MACs that advertised the target, lower case, in order of first answer. */
  macs: string[];
  answers: number;
}

/**
 * Asks who has `ip` the way a host resolves an address: ndisc6 sends its NS
 * to the solicited-node group and, with -m, reports every advertisement it
 * gets within its wait, so a second answering node would be heard too.
 */
export async function ndisc(from: LanHost, ip: string, options: { tries?: number; waitMs?: number } = {}): Promise<NdiscResult> {
  const tries = options.tries ?? 3;
  const waitMs = options.waitMs ?? 1_000;
  const res = await runInNetns(from.netns, 'ndisc6', ['-m', '-n', '-r', String(tries), '-w', String(waitMs), ip, from.iface], {
    allowFailure: true,
    timeoutMs: tries * waitMs + 10_000,
  });
  return parseNdisc(res.stdout);
}

export function parseNdisc(output: string): NdiscResult {
  const macs: string[] = [];
  let answers = 0;
  for (const m of output.matchAll(/Target link-layer address:\s*([0-9A-Fa-f:]{17})/g)) {
    answers++;
    const mac = normalizeMac(m[1] as string);
    if (!macs.includes(mac)) macs.push(mac);
  }
  return { macs, answers };
}

/**
 * A unicast NS for ip from `from` straight to `mac` (RFC 4861 7.3.1: how a
 * neighbour cache confirms an entry it already has). Only a node that holds
 * ip may answer it; a node that does not must stay silent even though the
 * frame is addressed to its MAC.
 */
export function unicastSolicitation(ip: string, from: LanHost, mac: string): Buffer {
  return encodeNdpFrame(neighborSolicitation(ip, { mac: from.mac, ip: from.ip6 }, { unicastTo: mac }));
}

export interface Neighbour6 {
  ip: string;
  mac: string | undefined;
  state: string[];
}

/** The client kernel's IPv6 neighbour table for its LAN interface. */
export async function neighbours6(host: LanHost): Promise<Neighbour6[]> {
  const res = await runInNetns(host.netns, 'ip', ['-6', '-j', 'neigh', 'show', 'dev', host.iface]);
  const rows = res.stdout.trim() === '' ? [] : (JSON.parse(res.stdout) as Array<{ dst: string; lladdr?: string; state?: string[] }>);
  return rows.map((r) => ({ ip: r.dst, mac: r.lladdr === undefined ? undefined : normalizeMac(r.lladdr), state: r.state ?? [] }));
}

const UDP6_NUDGE = `
const s = require('node:dgram').createSocket('udp6');
s.send(Buffer.from('baton'), 9, process.argv[1], () => setTimeout(() => s.close(), 200));
`;

/** One datagram to ip's discard port, so the sender's kernel resolves ip by NDP and fills its neighbour table. */
export async function udpNudge6(from: LanHost, ip: string): Promise<void> {
  await runInNetns(from.netns, process.execPath, ['-e', UDP6_NUDGE, ip]);
}

/** A captured Neighbour Advertisement, as a claim: its target is the claimed IP. */
export interface CapturedNa extends ClaimFrame {
  solicited: boolean;
  override: boolean;
  /** The Ethernet destination: the asker of a solicited NA, all-nodes for an unsolicited one. */
  ethernetDestination: string;
}

/**
 * The Neighbour Advertisements of a capture (started with
 * NDP_CAPTURE_FILTER) in the claim rules' terms: the MAC is the Target
 * link-layer option's (what a neighbour cache takes), else the Ethernet
 * source; an unsolicited NA with Override is an announcement (the
 * gratuitous ARP of IPv6), a solicited one a reply.
 */
export async function advertisements(capture: Pick<ArpCapture, 'records'>): Promise<CapturedNa[]> {
  const out: CapturedNa[] = [];
  for (const r of await capture.records()) {
    const d = decodeNdpFrame(r.data);
    if (!d.ok || d.value.type !== 'advertisement') continue;
    const na = d.value;
    out.push({
      timeMs: r.timeMs,
      senderIp: na.target,
      senderMac: na.targetLinkLayer ?? na.ethernetSource,
      operation: na.solicited ? 'reply' : 'request',
      gratuitous: !na.solicited && na.override,
      solicited: na.solicited,
      override: na.override,
      ethernetDestination: na.ethernetDestination,
    });
  }
  return out;
}

/** Solicitations for ip in a capture sent by mac (the client asking on its own). */
export async function solicitationsFrom(capture: Pick<ArpCapture, 'records'>, ip: string, mac: string, sinceMs = 0): Promise<number[]> {
  const out: number[] = [];
  for (const r of await capture.records()) {
    const d = decodeNdpFrame(r.data);
    if (d.ok && d.value.type === 'solicitation' && d.value.target === ip && d.value.ethernetSource === mac && r.timeMs >= sinceMs)
      out.push(r.timeMs);
  }
  return out;
}
