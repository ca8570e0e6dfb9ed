// The responders of this node's interfaces: one per interface some pool
// needs, opened on first use, closed when no pool needs it any more or
// when the interface changed under it (a re-created interface, a new MAC),
// so the next use opens a fresh socket on the interface as it is now. Also
// which pools this node can serve: those whose interface it has, with
// carrier (published with every liveness renewal).
import type { Clock } from '../clock.js';
import type { SpeakerMetrics } from '../election/speaker-metrics.js';
import { errorCode } from '../errors.js';
import type { Eip } from '../k8s/types.js';
import { type InterfaceProbe, resolveInterface } from '../layer2/interface-resolver.js';
import type { Link, LinkEvents, YieldReason } from '../layer2/link.js';
import { ArpResponder } from '../layer2/responder.js';
import type { Logger } from '../observability/logger.js';

export interface ResponderPoolEvents {
  yielded(ip: string, gen: number, reason: YieldReason, mac: string | undefined): void;
  conflict(ip: string, gen: number, mac: string): void;
  /** The interface's socket failed for good; its responder has been closed. */
  failed(ifname: string, code: string): void;
}

export interface ResponderPoolOptions {
  clock: Clock;
  log: Logger;
  metrics: SpeakerMetrics;
  interfaces: InterfaceProbe;
  open: (ifname: string, events: LinkEvents) => Link;
  eips: () => readonly Eip[];
  events: ResponderPoolEvents;
  refreshIntervalMs: number;
  /** A new socket gets a heartbeat at once, so the first grant on it is not refused for want of one. */
  aliveMs: number;
}

export class ResponderPool {
  private readonly responders = new Map<string, ArpResponder>();
  private pools: Set<string> | undefined;

  constructor(private readonly options: ResponderPoolOptions) {}

  /** The responder for a pool's interface spec (opened on first use), or undefined if this node lacks the interface. */
  forPool(spec: string): ArpResponder | undefined {
    const ifname = resolveInterface(spec, this.options.interfaces);
    return ifname === undefined ? undefined : (this.responders.get(ifname) ?? this.openResponder(ifname));
  }

  byName(ifname: string): ArpResponder | undefined {
    return this.responders.get(ifname);
  }

  all(): ArpResponder[] {
    return [...this.responders.values()];
  }

  /** Pools this node can serve: those whose interface it has, with carrier. */
  selfPools(): ReadonlySet<string> {
    this.pools ??= new Set(
      this.options
        .eips()
        .flatMap((e) =>
          e.spec.interface !== undefined && resolveInterface(e.spec.interface, this.options.interfaces) !== undefined
            ? [e.metadata.name]
            : [],
        ),
    );
    return this.pools;
  }

  /** Pools or carrier changed: judge selfPools again on next use. */
  invalidatePools(): void {
    this.pools = undefined;
  }

  /** "eth0=02:..:0b" per open interface, for the liveness Lease (people and Events read it). */
  interfacesAnnotation(): string {
    return this.all()
      .map((r) => `${r.link.name}=${r.link.mac}`)
      .join(',');
  }

  /** Closes an interface's responder; the next use opens it afresh. */
  close(ifname: string): void {
    const r = this.responders.get(ifname);
    if (r === undefined) return;
    this.responders.delete(ifname);
    r.close();
    this.options.log.info({ interface: ifname }, 'closed the packet socket');
  }

  /** Closes responders of interfaces no pool of this node's announcements uses any more (no thread or socket leaks). */
  closeUnused(needed: ReadonlySet<string>): void {
    for (const [name, r] of [...this.responders]) if (!needed.has(name) && r.addresses().length === 0) this.close(name);
  }

  closeAll(): void {
    for (const name of [...this.responders.keys()]) this.close(name);
  }

  private openResponder(ifname: string): ArpResponder | undefined {
    const { clock, log, metrics, events } = this.options;
    try {
      const r = new ArpResponder({
        open: (linkEvents) => this.options.open(ifname, linkEvents),
        clock,
        log: log.child({ interface: ifname }),
        metrics: metrics.forResponder(),
        refreshIntervalMs: this.options.refreshIntervalMs,
        events: {
          yielded: events.yielded,
          conflict: events.conflict,
          failed: (code) => {
            log.warn({ interface: ifname, code }, 'packet socket failed: closing it');
            this.close(ifname);
            events.failed(ifname, code);
          },
        },
      });
      this.responders.set(ifname, r);
      r.link.heartbeat(this.options.aliveMs);
      log.info({ interface: ifname, mac: r.link.mac, ifindex: r.link.ifindex }, 'listening for ARP');
      return r;
    } catch (err) {
      log.error({ err, interface: ifname, code: errorCode(err) }, 'cannot open a packet socket (is CAP_NET_RAW granted?)');
      return undefined;
    }
  }
}
