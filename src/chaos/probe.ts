// The client's view, measured: every interval it asks who has each external
// IP (ARP, on a raw socket of the client's interface), loads a page from it
// over a new TCP connection, and notes every gratuitous ARP it hears. This is
// what "downtime as a client saw it" and "two MACs" are computed from.
import { request } from 'node:http';
import { decodeArpFrame, encodeArpFrame, isGratuitous } from '../layer2/packet/arp.js';
import { PacketSocket } from '../layer2/packet-socket.js';
import type { ProbeEvent } from './probe-events.js';

export interface ProbeOptions {
  interface: string;
  /** The probe's own IPv4 address (the sender address of its ARP requests). */
  sourceIp: string;
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
    this.targets = new Set(o.ips);
    this.link = PacketSocket.open(o.interface);
    this.link.onFrame((frame) => {
      const d = decodeArpFrame(frame);
      if (!d.ok || !this.targets.has(d.value.senderIp)) return;
      const a = d.value;
      if (isGratuitous(a)) o.emit({ t: now(), kind: 'garp', ip: a.senderIp, mac: a.senderMac });
      else if (a.operation === 'reply' && a.targetMac === this.link.mac)
        o.emit({ t: now(), kind: 'arp-reply', ip: a.senderIp, mac: a.senderMac });
    });
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
    try {
      this.link.send(
        encodeArpFrame({
          operation: 'request',
          ethernetSource: this.link.mac,
          ethernetDestination: 'ff:ff:ff:ff:ff:ff',
          senderMac: this.link.mac,
          senderIp: this.options.sourceIp,
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
