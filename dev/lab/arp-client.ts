// What a client on the LAN sees: which MACs answer ARP for an address (asked
// with iputils arping, a real client), its kernel's neighbour table, and
// every ARP frame on its wire (tcpdump into a pcap file, decoded with
// Baton's own codec).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArpFrame, decodeArpFrame, isGratuitous } from '../../src/layer2/packet/arp.js';
import { normalizeMac } from '../../src/net/mac.js';
import { LabError } from './errors.js';
import { runInNetns } from './exec.js';
import type { Lan, LanHost } from './lan.js';
import type { ManagedProcess } from './managed-process.js';
import { LINKTYPE_ETHERNET, parsePcap } from './pcap.js';

export interface ArpingResult {
  /** Distinct MACs that replied, lower case, in order of first reply. */
  macs: string[];
  replies: number;
  sent: number;
}

/**
 * Listens for `seconds` while asking who has `ip` once a second (arping's
 * fixed pace), every probe broadcast (-b) so that a second answering node
 * would be heard too, and collects every reply.
 */
export async function arping(from: LanHost, ip: string, options: { seconds?: number } = {}): Promise<ArpingResult> {
  const seconds = options.seconds ?? 2;
  // With -w, -c counts replies to wait for: set far above what can arrive, so the window alone ends the run.
  const res = await runInNetns(from.netns, 'arping', ['-b', '-I', from.iface, '-c', '10000', '-w', String(seconds), ip], {
    allowFailure: true,
    timeoutMs: (seconds + 10) * 1000,
  });
  return parseArping(res.stdout);
}

export function parseArping(output: string): ArpingResult {
  const macs: string[] = [];
  let replies = 0;
  for (const m of output.matchAll(/reply from \S+ \[([0-9A-Fa-f:]{17})\]/g)) {
    replies++;
    const mac = normalizeMac(m[1] as string);
    if (!macs.includes(mac)) macs.push(mac);
  }
  const sent = Number(/Sent (\d+) probe/.exec(output)?.[1] ?? 0);
  return { macs, replies, sent };
}

export interface NeighbourEntry {
  ip: string;
  mac: string | undefined;
  state: string[];
}

/** The client kernel's neighbour table for its LAN interface. */
export async function neighbours(host: LanHost): Promise<NeighbourEntry[]> {
  const res = await runInNetns(host.netns, 'ip', ['-j', 'neigh', 'show', 'dev', host.iface]);
  const rows = res.stdout.trim() === '' ? [] : (JSON.parse(res.stdout) as Array<{ dst: string; lladdr?: string; state?: string[] }>);
  return rows.map((r) => ({ ip: r.dst, mac: r.lladdr === undefined ? undefined : normalizeMac(r.lladdr), state: r.state ?? [] }));
}

export interface CapturedArp extends ArpFrame {
  timeMs: number;
  gratuitous: boolean;
}

/**
 * What the claim rules below read of a frame: an ARP frame, or an IPv6
 * Neighbour Advertisement put in the same terms (ndp-client.ts: a solicited
 * NA is a reply, an unsolicited one an announcement).
 */
export type ClaimFrame = Pick<CapturedArp, 'timeMs' | 'senderIp' | 'senderMac' | 'operation' | 'gratuitous'>;

/** tcpdump's kernel buffer, KiB: see ArpCapture.start. */
const CAPTURE_BUFFER_KIB = 65_536;

/** A running tcpdump on a host's interface that keeps every ARP frame. */
export class ArpCapture {
  private constructor(
    private readonly proc: ManagedProcess,
    private readonly file: string,
    private readonly output: () => string,
  ) {}

  /** Frames the kernel dropped before tcpdump read them (its exit summary); undefined while it runs. */
  dropped(): number | undefined {
    const m = /(\d+) packets? dropped by kernel/.exec(this.output());
    return m === null ? undefined : Number(m[1]);
  }

  /** options.filter: a tcpdump filter other than `arp` (e.g. `vlan 200 and arp`: then frames() decodes nothing, frameCount() counts). */
  static async start(lan: Lan, host: LanHost, label: string, workDir: string, options: { filter?: string } = {}): Promise<ArpCapture> {
    const file = join(workDir, `capture-${host.name}-${label}.pcap`);
    let listening = false;
    // --immediate-mode: hand each packet to tcpdump at once (not in 1 s batches); -U: write it at once;
    // -Z root: keep the right to write the file. -B: a 64 MiB kernel buffer (default 2 MiB): with 30 IPs probed
    // every 20 ms the client sees ~3,000 frames/s, and a tcpdump starved of CPU for a moment on the 2-core
    // machine dropped 7% of them, a new holder's first gratuitous ARP among them (CI, F14).
    let output = '';
    const proc = lan.spawn(
      host,
      `tcpdump-${label}`,
      'tcpdump',
      [
        '-i',
        host.iface,
        '-n',
        '--immediate-mode',
        '-U',
        '-B',
        String(CAPTURE_BUFFER_KIB),
        '-Z',
        'root',
        '-w',
        file,
        ...(options.filter ?? 'arp').split(' '),
      ],
      {
        onOutput: (chunk) => {
          output += chunk;
          if (chunk.includes('listening on')) listening = true;
        },
      },
    );
    const deadline = Date.now() + 10_000;
    while (!listening) {
      proc.assertRunning();
      if (Date.now() > deadline) throw new LabError('LAB_TIMEOUT', `tcpdump on ${host.name} did not start; see ${proc.logFile}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return new ArpCapture(proc, file, () => output);
  }

  /** Every frame captured so far, undecoded (the capture keeps running). */
  async records(): Promise<Array<{ timeMs: number; data: Buffer }>> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch {
      return [];
    }
    const { linkType, records } = parsePcap(bytes);
    if (linkType !== LINKTYPE_ETHERNET) throw new LabError('LAB_COMMAND_FAILED', `capture link type ${linkType}, expected Ethernet`);
    return records;
  }

  /** ARP frames captured so far (the capture keeps running). */
  async frames(): Promise<CapturedArp[]> {
    const out: CapturedArp[] = [];
    for (const r of await this.records()) {
      const d = decodeArpFrame(r.data);
      if (d.ok) out.push({ ...d.value, timeMs: r.timeMs, gratuitous: isGratuitous(d.value) });
    }
    return out;
  }

  /** How many frames were captured so far, decodable as ARP or not. */
  async frameCount(): Promise<number> {
    try {
      return parsePcap(await readFile(this.file)).records.length;
    } catch {
      return 0;
    }
  }

  /** Stops tcpdump and returns every ARP frame it captured. */
  async stop(): Promise<CapturedArp[]> {
    await this.halt();
    return this.frames();
  }

  /** Stops tcpdump; records() and frames() still read what it captured. */
  async halt(): Promise<void> {
    // Frames already on the wire must reach tcpdump before it stops reading; on a veth that takes well under this.
    await new Promise((r) => setTimeout(r, 200));
    await this.proc.stop('SIGTERM', 3_000);
  }
}

/**
 * The MACs that claimed `ip` in a capture (replies and gratuitous
 * announcements whose sender IP is ip), each with its first and last claim.
 */
export function claimants(frames: readonly ClaimFrame[], ip: string): Map<string, { first: number; last: number; count: number }> {
  const out = new Map<string, { first: number; last: number; count: number }>();
  for (const f of frames) {
    const claims = f.senderIp === ip && (f.operation === 'reply' || f.gratuitous);
    if (!claims) continue;
    const seen = out.get(f.senderMac);
    if (seen === undefined) out.set(f.senderMac, { first: f.timeMs, last: f.timeMs, count: 1 });
    else {
      seen.last = f.timeMs;
      seen.count++;
    }
  }
  return out;
}

export interface ClaimViolation {
  timeMs: number;
  mac: string;
  owner: string;
}

/**
 * Replies for `ip` from a MAC other than the latest announcer, after that
 * announcer's gratuitous ARP (or unsolicited NA): the "two MACs answer one
 * IP" a client must never see once a new holder has announced itself. An
 * heir's reply before its own announcement counts too: the reader answers a
 * holding only once its first announcement is on the wire, and frames of one
 * sender reach the client in the order sent.
 */
export function claimViolations(frames: readonly ClaimFrame[], ip: string, options: { inFlightMs?: number } = {}): ClaimViolation[] {
  const ordered = [...frames].filter((f) => f.senderIp === ip).sort((a, b) => a.timeMs - b.timeMs);
  const inFlightMs = options.inFlightMs ?? 0;
  let owner: string | undefined;
  let previous: { mac: string; claimAt: number } | undefined;
  const out: ClaimViolation[] = [];
  for (const f of ordered) {
    if (f.gratuitous) {
      if (f.senderMac !== owner) previous = owner === undefined ? undefined : { mac: owner, claimAt: f.timeMs };
      owner = f.senderMac;
    } else if (f.operation === 'reply' && owner !== undefined && f.senderMac !== owner) {
      const inFlight = previous !== undefined && f.senderMac === previous.mac && f.timeMs - previous.claimAt <= inFlightMs;
      if (!inFlight) out.push({ timeMs: f.timeMs, mac: f.senderMac, owner });
    }
  }
  return out;
}

/**
 * How long after a new holder's claim the previous holder may still send a
 * reply to a request it read before the claim reached it: the claim crosses
 * the LAN in microseconds, and a reader busy with (or preempted in) the batch
 * it read before sends that batch's replies just after. What no Layer 2
 * protocol closes (README, "The license rule"); 1 ms, thousands of times the
 * transit, still far below anything a client would keep: only the flood
 * cases (a request every millisecond) ever see one.
 */
export const CLAIM_IN_FLIGHT_MS = 1;

/**
 * Replies for `ip` from `mac` (from sinceMs on) that came before that MAC's
 * first announcement: a new holder must announce before it answers (the
 * addon's 'unannounced' rule), or a previous holder that has not heard its
 * claim yet could answer the same request beside it. Empty when it kept the rule.
 */
export function repliesBeforeAnnouncement(frames: readonly ClaimFrame[], ip: string, mac: string, sinceMs: number): ClaimFrame[] {
  const first = firstAnnouncement(frames, ip, mac, sinceMs);
  return frames.filter(
    (f) =>
      f.senderIp === ip &&
      f.senderMac === mac &&
      f.operation === 'reply' &&
      !f.gratuitous &&
      f.timeMs >= sinceMs &&
      (first === undefined || f.timeMs < first),
  );
}

/** The MACs that announced `ip` with gratuitous ARP from `sinceMs` on, in order, repeats folded. */
export function announcers(frames: readonly ClaimFrame[], ip: string, sinceMs = 0): string[] {
  const out: string[] = [];
  for (const f of [...frames].sort((a, b) => a.timeMs - b.timeMs)) {
    if (f.timeMs >= sinceMs && f.senderIp === ip && f.gratuitous && out.at(-1) !== f.senderMac) out.push(f.senderMac);
  }
  return out;
}

/** Time of the first gratuitous ARP for `ip` from `mac` (at or after sinceMs), or undefined. */
export function firstAnnouncement(frames: readonly ClaimFrame[], ip: string, mac: string, sinceMs = 0): number | undefined {
  return [...frames]
    .filter((f) => f.timeMs >= sinceMs && f.senderIp === ip && f.gratuitous && f.senderMac === mac)
    .reduce<number | undefined>((min, f) => (min === undefined || f.timeMs < min ? f.timeMs : min), undefined);
}
