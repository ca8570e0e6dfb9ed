// What the client saw while a fault was injected, and the two numbers every
// fault case is judged by:
//   - two-MAC moments: a reply for the IP from a MAC other than the latest
//     announcer after that announcer's gratuitous ARP, or two MACs replying
//     to one request (frames of a foreign host the test itself made claim
//     the IP are left out: they are the fault, not the speaker's doing);
//   - unanswered time: the longest page-load outage (the chaos analysis) and
//     the longest stretch in which nobody replied to the probe's ARP requests.
import { ArpCapture, type CapturedArp, claimViolations } from '../../dev/lab/arp-client.js';
import { lab } from '../../dev/lab/current.js';
import { waitFor } from '../../dev/lab/exec.js';
import type { ProbeEvent } from '../../src/chaos/probe-events.js';
import { ClientProbe, type ProbeSample } from './client-probe.js';

// Two replies this close together answer the same request: the probe asks every 20 ms.
const SAME_REQUEST_MS = 5;

export interface Seen {
  /** The capture's ARP frames. */
  frames: CapturedArp[];
  /** The same and every gratuitous ARP the probe heard, by time: what two-MAC moments are judged from. */
  claimFrames: CapturedArp[];
  /** Frames the capture's kernel buffer dropped (tcpdump's count), undefined if it did not say. */
  captureDropped: number | undefined;
  events: ProbeEvent[];
  samples: ProbeSample[];
  startedAt: number;
  endedAt: number;
}

/** A capture of every ARP frame on the client's wire plus the product's probe loading pages from the IPs. */
export class Observation {
  private constructor(
    readonly capture: ArpCapture,
    readonly probe: ClientProbe,
    readonly startedAt: number,
  ) {}

  /** Starts both; with waitForPages (default), resolves once every IP served a page. */
  static async start(label: string, ips: readonly string[], options: { waitForPages?: boolean } = {}): Promise<Observation> {
    const { lan, workDir } = lab();
    const capture = await ArpCapture.start(lan, lan.client, label, workDir);
    const probe = new ClientProbe(ips);
    const obs = new Observation(capture, probe, Date.now());
    if (options.waitForPages !== false) {
      try {
        await obs.waitForPages(ips, obs.startedAt);
      } catch (err) {
        await obs.stop();
        throw err;
      }
    }
    return obs;
  }

  /** Waits until each IP served a page started after `since`. */
  async waitForPages(ips: readonly string[], since: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      `a page from ${ips.join(', ')} (probe log ${this.probe.logFile})`,
      async () => {
        const ok = new Set(
          this.probe
            .snapshot()
            .filter((s) => s.ok && s.t >= since)
            .map((s) => s.ip),
        );
        return ips.every((ip) => ok.has(ip)) ? true : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** The first ARP reply to the probe for ip after `since` from one of `macs` (epoch ms), waiting up to timeoutMs. */
  async firstReplyFrom(ip: string, macs: ReadonlySet<string>, since: number, timeoutMs: number): Promise<number | undefined> {
    return waitFor(
      `an ARP reply for ${ip} from ${[...macs].join(' or ')}`,
      async () => this.probe.events().find((e) => e.kind === 'arp-reply' && e.ip === ip && e.t > since && macs.has(e.mac))?.t,
      { timeoutMs, intervalMs: 20 },
    ).catch(() => undefined);
  }

  /**
   * Stops both; endedAt is when the probe was told to stop (its last request went out just before). The
   * claim frames are the capture's plus every gratuitous ARP the probe's own socket heard: two observers, so a frame
   * one of them dropped under load (tcpdump starved of CPU on a 2-core machine) is still seen, and a take-over
   * is not mistaken for two MACs for want of the heir's announcement.
   */
  async stop(): Promise<Seen> {
    const endedAt = Date.now();
    const samples = await this.probe.stop();
    const captured = await this.capture.stop();
    const events = this.probe.events();
    const heard: CapturedArp[] = events.flatMap((e) => (e.kind === 'garp' ? [gratuitousFrame(e.ip, e.mac, e.t)] : []));
    const claimFrames = [...captured, ...heard].sort((a, b) => a.timeMs - b.timeMs);
    return { frames: captured, claimFrames, events, samples, startedAt: this.startedAt, endedAt, captureDropped: this.capture.dropped() };
  }
}

/** A gratuitous ARP (request form) the probe heard, as a captured frame. */
function gratuitousFrame(ip: string, mac: string, timeMs: number): CapturedArp {
  return {
    operation: 'request',
    ethernetSource: mac,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: mac,
    senderIp: ip,
    targetMac: '00:00:00:00:00:00',
    targetIp: ip,
    timeMs,
    gratuitous: true,
  };
}

export interface TwoMacMoment {
  timeMs: number;
  macs: [string, string];
}

/** Moments a client saw two MACs for ip (see the header), foreign MACs left out. */
export function twoMacMoments(frames: readonly CapturedArp[], ip: string, ignoreMacs: readonly string[] = []): TwoMacMoment[] {
  const ours = frames.filter((f) => !ignoreMacs.includes(f.senderMac));
  const out: TwoMacMoment[] = claimViolations(ours, ip).map((v) => ({ timeMs: v.timeMs, macs: [v.owner, v.mac] }));
  const replies = ours.filter((f) => f.senderIp === ip && f.operation === 'reply' && !f.gratuitous).sort((a, b) => a.timeMs - b.timeMs);
  for (let i = 1; i < replies.length; i++) {
    const [a, b] = [replies[i - 1] as CapturedArp, replies[i] as CapturedArp];
    if (a.senderMac !== b.senderMac && b.timeMs - a.timeMs <= SAME_REQUEST_MS && !out.some((m) => m.timeMs === b.timeMs))
      out.push({ timeMs: b.timeMs, macs: [a.senderMac, b.senderMac] });
  }
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

/**
 * The longest stretch in [from, to] with no ARP reply to the probe for ip
 * (ms): the time the IP was unanswered at the ARP level, whatever the page
 * loads did (a client with a fresh neighbour entry keeps reaching the old
 * node's data plane without asking).
 */
export function arpSilence(
  events: readonly ProbeEvent[],
  ip: string,
  from: number,
  to: number,
  ignoreMacs: readonly string[] = [],
): number {
  const times = events
    .filter((e) => e.kind === 'arp-reply' && e.ip === ip && !ignoreMacs.includes(e.mac) && e.t >= from && e.t <= to)
    .map((e) => e.t)
    .sort((a, b) => a - b);
  let worst = 0;
  let last = from;
  for (const t of [...times, to]) {
    worst = Math.max(worst, t - last);
    last = t;
  }
  return Math.round(worst);
}

/** Frames in which mac claimed ip (a reply or a gratuitous ARP) after `since`. */
export function claimsBy(frames: readonly CapturedArp[], ip: string, mac: string, since: number): CapturedArp[] {
  return frames.filter((f) => f.timeMs > since && f.senderIp === ip && f.senderMac === mac && (f.operation === 'reply' || f.gratuitous));
}

/** Gratuitous ARPs for ip in [from, to], per MAC. */
export function gratuitousCount(
  frames: readonly CapturedArp[],
  ip: string,
  mac: string,
  from: number,
  to = Number.POSITIVE_INFINITY,
): number {
  return frames.filter((f) => f.senderIp === ip && f.gratuitous && f.senderMac === mac && f.timeMs >= from && f.timeMs <= to).length;
}

export interface CaseNumbers {
  twoMac: number;
  outageMs: number;
  arpSilenceMs?: number;
  before: string;
  after: string;
  extra?: string;
}

/** One line per case with its numbers, printed before its assertions so a failing case still shows them. */
export function report(name: string, n: CaseNumbers): void {
  const arp = n.arpSilenceMs === undefined ? '' : `, ARP unanswered ${n.arpSilenceMs} ms`;
  console.log(
    `[faults] ${name}: two-MAC moments ${n.twoMac}, longest outage ${n.outageMs} ms${arp}, holder before ${n.before} after ${n.after}${n.extra === undefined ? '' : `; ${n.extra}`}`,
  );
}
