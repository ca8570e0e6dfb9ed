// The client's view, measured: every interval it asks who has each external
// IP (ARP for IPv4, a Neighbour Solicitation to the solicited-node group for
// IPv6, on a raw socket of the client's interface), loads a page from it
// over a new TCP connection, and notes every gratuitous ARP or unsolicited
// Neighbour Advertisement it hears. This is what "downtime as a client saw
// it" and "two MACs" are computed from, for both families alike.
import { request } from 'node:http';
import { decodeArpFrame, encodeArpFrame, isGratuitous } from '../layer2/packet/arp.js';
import { decodeNdpFrame, encodeNdpFrame, neighborSolicitation } from '../layer2/packet/ndp.js';
import { PacketSocket } from '../layer2/packet-socket.js';
import { canonicalIp, parseIp } from '../net/ip.js';
import type { ProbeEvent } from './probe-events.js';

export interface ProbeOptions {
  interface: string;
  /** The probe's own IPv4 address (the sender address of its ARP requests); needed for IPv4 targets. */
  sourceIp: string | undefined;
  /** The probe's own IPv6 address (the source of its Neighbour Solicitations); needed for IPv6 targets. */
  sourceIp6?: string | undefined;
  ips: readonly string[];
  httpPort: number;
  intervalMs: number;
  /** A page load slower than this counts as failed. */
  timeoutMs: number;
  emit: (e: ProbeEvent) => void;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

export class ClientProbe {
  private readonly link: PacketSocket;
  private timer: NodeJS.Timeout | undefined;
  private readonly targets: Set<string>;

  constructor(private readonly options: ProbeOptions) {
    const o = options;
    this.targets = new Set(o.ips.map((ip) => canonicalIp(ip) ?? ip));
    this.link = PacketSocket.open(o.interface);
    this.link.onFrame((frame) => {
      const d = decodeArpFrame(frame);
      if (d.ok) {
        const a = d.value;
        if (!this.targets.has(a.senderIp)) return;
        if (isGratuitous(a)) o.emit({ t: now(), kind: 'garp', ip: a.senderIp, mac: a.senderMac });
        else if (a.operation === 'reply' && a.targetMac === this.link.mac)
          o.emit({ t: now(), kind: 'arp-reply', ip: a.senderIp, mac: a.senderMac });
        return;
      }
      this.onNdp(frame);
    });
  }

  /**
   * IPv6's counterparts, reported as the same events so that one analysis
   * serves both families: a solicited NA to this probe is the answer to its
   * NS ('arp-reply'), an unsolicited NA with Override is a node announcing
   * itself ('garp'). The MAC is the Target link-layer option's (what a
   * client's neighbour cache takes), else the Ethernet source.
   */
  private onNdp(frame: Buffer): void {
    const d = decodeNdpFrame(frame);
    if (!d.ok || d.value.type !== 'advertisement' || !this.targets.has(d.value.target)) return;
    const na = d.value;
    const mac = na.targetLinkLayer ?? na.ethernetSource;
    if (!na.solicited && na.override) this.options.emit({ t: now(), kind: 'garp', ip: na.target, mac });
    else if (na.solicited && na.ethernetDestination === this.link.mac)
      this.options.emit({ t: now(), kind: 'arp-reply', ip: na.target, mac });
  }

  start(): void {
    const tick = (): void => {
      for (const ip of this.options.ips) {
        this.askArp(ip);
        this.loadPage(ip);
      }
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.link.close();
  }

  private askArp(ip: string): void {
    const { sourceIp, sourceIp6 } = this.options;
    try {
      if (parseIp(ip)?.family === 6) {
        // The probe config refuses IPv6 targets without a source address (probe-command.ts).
        if (sourceIp6 !== undefined) this.link.send(encodeNdpFrame(neighborSolicitation(ip, { mac: this.link.mac, ip: sourceIp6 })));
        return;
      }
      if (sourceIp === undefined) return;
      this.link.send(
        encodeArpFrame({
          operation: 'request',
          ethernetSource: this.link.mac,
          ethernetDestination: 'ff:ff:ff:ff:ff:ff',
          senderMac: this.link.mac,
          senderIp: sourceIp,
          targetMac: '00:00:00:00:00:00',
          targetIp: ip,
        }),
      );
    } catch {
      // the link is down: the page load below fails and says so
    }
  }

  private loadPage(ip: string): void {
    const t = now();
    let done = false;
    const finish = (ok: boolean, from: string): void => {
      if (done) return;
      done = true;
      this.options.emit({ t, kind: 'http', ip, ok, from, ms: now() - t });
    };
    const req = request({ host: ip, port: this.options.httpPort, path: '/', agent: false, timeout: this.options.timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish(res.statusCode === 200, body.trim().slice(0, 64)));
      res.on('error', () => finish(false, 'reset'));
    });
    req.on('timeout', () => {
      req.destroy();
      finish(false, 'timeout');
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? 'error'));
    req.end();
  }
}
