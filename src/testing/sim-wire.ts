// The simulated LAN: a learning switch between ports (the speakers' virtual
// links, a client, a foreign host), and a client that keeps asking who has
// each external IP. Every frame is logged with its time, as a capture on
// the LAN would show it; the invariants (sim-invariants.ts) are computed
// from that log, from the client's side, never from the speakers' insides.
import { type ArpFrame, decodeArpFrame, encodeArpFrame, gratuitousArp } from '../layer2/packet/arp.js';
import { macFromBytes } from '../net/mac.js';
import type { FakeClock } from './fake-clock.js';

export interface WirePort {
  readonly name: string;
  readonly mac: string;
  /** A frame reaches this port (arrival time on the shared clock). */
  deliver(frame: Buffer, atMs: number): void;
}

export interface WireFrame {
  t: number;
  /** Order among everything the simulation logs (frames and lease changes): finer than time, which ties. */
  seq: number;
  from: string;
  frame: Buffer;
}

const decodedLog = new WeakMap<WireFrame, ArpFrame | null>();

/**
 * The logged frame as ARP (undefined: not ARP), decoded once: the invariants
 * walk the whole log once per IP, and a minute of simulated probing logs
 * tens of thousands of frames.
 */
export function arpOf(f: WireFrame): ArpFrame | undefined {
  let d = decodedLog.get(f);
  if (d === undefined) {
    const r = decodeArpFrame(f.frame);
    d = r.ok ? r.value : null;
    decodedLog.set(f, d);
  }
  return d ?? undefined;
}

export class Wire {
  private readonly ports = new Set<WirePort>();
  private readonly learned = new Map<string, WirePort>();
  readonly log: WireFrame[] = [];
  /** ARP frames in the log by sender IP, indexed up to `indexed` (see framesAbout). */
  private readonly bySenderIp = new Map<string, WireFrame[]>();
  private indexed = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly nextSeq: () => number,
  ) {}

  attach(port: WirePort): void {
    this.ports.add(port);
  }

  detach(port: WirePort): void {
    this.ports.delete(port);
    for (const [mac, p] of this.learned) if (p === port) this.learned.delete(mac);
  }

  attached(port: WirePort): boolean {
    return this.ports.has(port);
  }

  /** The logged ARP frames whose sender IP is ip, in log order; the log is indexed once, as it grows. */
  framesAbout(ip: string): readonly WireFrame[] {
    for (; this.indexed < this.log.length; this.indexed++) {
      const f = this.log[this.indexed] as WireFrame;
      const a = arpOf(f);
      if (a === undefined) continue;
      const list = this.bySenderIp.get(a.senderIp);
      if (list === undefined) this.bySenderIp.set(a.senderIp, [f]);
      else list.push(f);
    }
    return this.bySenderIp.get(ip) ?? [];
  }

  /** A port sends a frame: logged, the source learned, then delivered (broadcast, or to the learned port, else flooded). */
  send(from: WirePort, frame: Buffer): void {
    if (!this.ports.has(from)) return;
    const t = this.clock.now();
    this.log.push({ t, seq: this.nextSeq(), from: from.name, frame: Buffer.from(frame) });
    const src = macAt(frame, 6);
    this.learned.set(src, from);
    const dst = macAt(frame, 0);
    const known = dst === 'ff:ff:ff:ff:ff:ff' ? undefined : this.learned.get(dst);
    const targets = known !== undefined ? [known] : [...this.ports].filter((p) => p !== from);
    // Delivered after the current call returns, as a switch would: no port hears a frame inside its own send.
    queueMicrotask(() => {
      for (const p of targets) if (this.ports.has(p)) p.deliver(frame, t);
    });
  }
}

function macAt(frame: Buffer, offset: number): string {
  return macFromBytes(frame, offset);
}

/** What the client saw about one IP: who answered its requests, who announced the IP. */
export interface ClientSighting {
  t: number;
  ip: string;
  mac: string;
  kind: 'reply' | 'garp';
}

/** A client on the LAN asking who has each IP every intervalMs, recording every answer and announcement it hears. */
export class SimClient implements WirePort {
  readonly name = 'client';
  readonly sightings: ClientSighting[] = [];
  private timer: ReturnType<FakeClock['setTimeout']> | undefined;

  constructor(
    private readonly wire: Wire,
    private readonly clock: FakeClock,
    readonly mac: string,
    readonly ip: string,
  ) {
    wire.attach(this);
  }

  deliver(frame: Buffer, atMs: number): void {
    const d = decodeArpFrame(frame);
    if (!d.ok) return;
    const a = d.value;
    if (a.senderIp === a.targetIp) this.sightings.push({ t: atMs, ip: a.senderIp, mac: a.senderMac, kind: 'garp' });
    else if (a.operation === 'reply' && a.targetMac === this.mac)
      this.sightings.push({ t: atMs, ip: a.senderIp, mac: a.senderMac, kind: 'reply' });
  }

  /** One broadcast who-has. */
  ask(ip: string): void {
    this.wire.send(
      this,
      encodeArpFrame({
        operation: 'request',
        ethernetSource: this.mac,
        ethernetDestination: 'ff:ff:ff:ff:ff:ff',
        senderMac: this.mac,
        senderIp: this.ip,
        targetMac: '00:00:00:00:00:00',
        targetIp: ip,
      }),
    );
  }

  /** Asks for every IP every intervalMs until stop(). */
  probe(ips: () => readonly string[], intervalMs: number): void {
    const tick = (): void => {
      for (const ip of ips()) this.ask(ip);
      this.timer = this.clock.setTimeout(tick, intervalMs);
    };
    tick();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }
}

/** A host that is not a speaker: a duplicate static IP, a leftover OpenELB speaker, `arping -U`. */
export class ForeignHost implements WirePort {
  readonly name = 'foreign';

  constructor(
    private readonly wire: Wire,
    readonly mac: string,
  ) {
    wire.attach(this);
  }

  deliver(): void {}

  /** One gratuitous announcement of ip as its own. */
  claim(ip: string, form: 'request' | 'reply' = 'reply'): void {
    this.wire.send(this, encodeArpFrame(gratuitousArp(ip, this.mac, form)));
  }
}
