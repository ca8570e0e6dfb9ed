// What an IPv6 client on the LAN sees, the counterpart of arp-client.ts:
// which MACs answer a Neighbour Solicitation for an address (asked with
// ndisc6 from Debian's ndisc6 package, a real client; or with an NS frame
// of the test's own, unicast, as a neighbour cache's reachability probe
// sends it), its kernel's IPv6 neighbour table, and the Neighbour
// Advertisements of a capture, put in the terms of the ARP claim rules.

import { decodeEthernet, ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV6, encodeEthernet } from '../../src/layer2/packet/ethernet.js';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  fixIcmpv6Checksum,
  IPPROTO_ICMPV6,
  IPV6_HEADER_LENGTH,
  IPV6_OFFSET,
  IPV6_VERSION,
  ipv6FromBytes,
  ipv6ToBytes,
  neighborSolicitation,
} from '../../src/layer2/packet/ndp.js';
import { macFromBytes, normalizeMac } from '../../src/net/mac.js';
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

/** ICMPv6 types a router may send about an address it forwards for (RFC 4443 3.1, RFC 4861 4.5). */
export const ICMPV6_DESTINATION_UNREACHABLE = 1;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_REDIRECT = 137;
/** The Target link-layer address option of a Redirect (RFC 4861 4.6.1). */
const OPTION_TARGET_LINK_LAYER = 2;
/** Ordinary traffic's hop limit (Linux's default), unlike NDP's 255. */
const HOP_LIMIT = 64;
/** A Redirect's fixed part: type, code, checksum, reserved, target, destination (RFC 4861 4.5). */
const REDIRECT_FIXED_LENGTH = 40;

/**
 * An ICMPv6 echo request from `from` to `ip`, sent to `mac`: traffic for an
 * address put on the wire towards a node that does not hold it (a client
 * with a stale neighbour entry), to see what that node's kernel does with it.
 */
export function echoRequestFrame(from: LanHost, ip: string, mac: string): Buffer {
  const message = Buffer.alloc(8 + 5); // type, code, checksum, identifier, sequence; then "baton"
  message[0] = ICMPV6_ECHO_REQUEST;
  message.writeUInt16BE(0xba70, 4);
  message.writeUInt16BE(1, 6);
  message.write('baton', 8);
  const header = Buffer.alloc(IPV6_HEADER_LENGTH);
  header[IPV6_OFFSET.version] = IPV6_VERSION << 4;
  header.writeUInt16BE(message.length, IPV6_OFFSET.payloadLength);
  header[IPV6_OFFSET.nextHeader] = IPPROTO_ICMPV6;
  header[IPV6_OFFSET.hopLimit] = HOP_LIMIT;
  ipv6ToBytes(from.ip6).copy(header, IPV6_OFFSET.source);
  ipv6ToBytes(ip).copy(header, IPV6_OFFSET.destination);
  return fixIcmpv6Checksum(encodeEthernet(mac, from.mac, ETHERTYPE_IPV6, Buffer.concat([header, message])));
}

export interface CapturedIcmpv6 {
  timeMs: number;
  ethernetSource: string;
  ethernetDestination: string;
  source: string;
  destination: string;
  type: number;
  code: number;
  /** A Redirect's target (where to send instead) and destination (what for); its Target link-layer option. */
  redirect?: { target: string; destination: string; targetLinkLayer: string | undefined };
}

/** Every ICMPv6 message of a capture (started with filter `icmp6`), with Redirects decoded. */
export async function icmpv6Messages(capture: Pick<ArpCapture, 'records'>): Promise<CapturedIcmpv6[]> {
  const out: CapturedIcmpv6[] = [];
  for (const r of await capture.records()) {
    const f = r.data;
    const eth = decodeEthernet(f);
    if (!eth.ok || eth.value.etherType !== ETHERTYPE_IPV6 || f.length < ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + 4) continue;
    const ip = ETHERNET_HEADER_LENGTH;
    if (f[ip + IPV6_OFFSET.nextHeader] !== IPPROTO_ICMPV6) continue;
    const icmp = ip + IPV6_HEADER_LENGTH;
    const m: CapturedIcmpv6 = {
      timeMs: r.timeMs,
      ethernetSource: eth.value.source,
      ethernetDestination: eth.value.destination,
      source: ipv6FromBytes(f, ip + IPV6_OFFSET.source),
      destination: ipv6FromBytes(f, ip + IPV6_OFFSET.destination),
      type: f[icmp] as number,
      code: f[icmp + 1] as number,
    };
    if (m.type === ICMPV6_REDIRECT && f.length >= icmp + REDIRECT_FIXED_LENGTH) {
      let tll: string | undefined;
      for (let o = icmp + REDIRECT_FIXED_LENGTH; o + 2 <= f.length; ) {
        const units = f[o + 1] ?? 0;
        if (units === 0) break;
        if (f[o] === OPTION_TARGET_LINK_LAYER && o + 8 <= f.length) tll = macFromBytes(f, o + 2);
        o += units * 8;
      }
      // Target at 8, destination at 24 (RFC 4861 4.5).
      m.redirect = { target: ipv6FromBytes(f, icmp + 8), destination: ipv6FromBytes(f, icmp + 24), targetLinkLayer: tll };
    }
    out.push(m);
  }
  return out;
}
