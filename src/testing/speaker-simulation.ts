// An in-memory cluster of speakers for unit tests of the election: one
// shared MemoryLeaseStore as the API server, FakeLinks joined by a wire that
// delivers every frame to every other link, and a client on the wire that
// asks who has an IP and records who answers. Time is a FakeClock, so a
// crash-and-takeover that takes seconds runs in milliseconds, exactly.
//
// Each speaker sees the store through its own "watch": a periodic sync that
// stops while the speaker is partitioned (as its informer would), and its
// writes fail while partitioned (as its API calls would).

import type { Announcement } from '../election/announcements.js';
import { IpAnnouncer } from '../election/ip-announcer.js';
import { LivenessRenewer } from '../election/liveness-renewer.js';
import { LivenessTracker } from '../election/liveness-tracker.js';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import { ApiError } from '../k8s/api-error.js';
import { LEASE_IP_ANNOTATION, POOLS_ANNOTATION } from '../k8s/lease-names.js';
import type { LeaseRecord, LeaseStore } from '../k8s/lease-store.js';
import type { Node, Service } from '../k8s/types.js';
import { decodeArpFrame, encodeArpFrame } from '../layer2/packet/arp.js';
import { ArpResponder } from '../layer2/responder.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { FakeClock } from './fake-clock.js';
import { FakeLink } from './fake-link.js';
import type { MemoryLeaseStore } from './memory-lease-store.js';

export const TIMING = { durationMs: 1_500, renewIntervalMs: 500, renewDeadlineMs: 1_000, rankDelayMs: 200, handoverTimeoutMs: 3_000 };
/** How often a simulated speaker's cache catches up with the store (a watch delivers within ms; 20 ms is conservative). */
const SYNC_MS = 20;

export class Wire {
  private readonly links = new Set<FakeLink>();
  /** Every frame in order, with its time: what a capture on the LAN would show. */
  readonly log: Array<{ t: number; from: string; frame: Buffer }> = [];

  constructor(private readonly clock: FakeClock) {}

  attach(link: FakeLink): void {
    this.links.add(link);
    const send = link.send.bind(link);
    link.send = (frame: Buffer) => {
      if (!this.links.has(link)) throw Object.assign(new Error('link is down'), { code: 'ENETDOWN' });
      send(frame);
      this.log.push({ t: this.clock.now(), from: link.mac, frame });
      for (const other of this.links)
        if (other !== link)
          queueMicrotask(() => {
            if (this.links.has(other)) other.inject(frame);
          });
    };
  }

  detach(link: FakeLink): void {
    this.links.delete(link);
  }
}

/** A store view that fails while its speaker is cut from the API server. */
class ReachableStore implements LeaseStore {
  reachable = true;
  constructor(private readonly inner: MemoryLeaseStore) {}
  private check(): void {
    if (!this.reachable) throw new ApiError('K8S_CONNECTION_FAILED', 0, 'partitioned (simulated)');
  }
  async get(name: string) {
    this.check();
    return this.inner.get(name);
  }
  async create(r: LeaseRecord) {
    this.check();
    return this.inner.create(r);
  }
  async update(r: LeaseRecord) {
    this.check();
    return this.inner.update(r);
  }
  async delete(r: LeaseRecord) {
    this.check();
    return this.inner.delete(r);
  }
}

export class SimSpeaker {
  readonly link: FakeLink;
  readonly responder: ArpResponder;
  readonly announcer: IpAnnouncer;
  readonly renewer: LivenessRenewer;
  readonly tracker: LivenessTracker;
  readonly store: ReachableStore;
  private cache = new Map<string, LeaseRecord>();
  private timer: ReturnType<FakeClock['setTimeout']> | undefined;
  alive = true;

  constructor(
    readonly name: string,
    mac: string,
    private readonly sim: Simulation,
    outageMode = true,
  ) {
    const { clock } = sim;
    this.store = new ReachableStore(sim.store);
    this.link = new FakeLink('eth0', mac);
    sim.wire.attach(this.link);
    const metrics = new SpeakerMetrics(new Metrics({ defaultMetrics: false }));
    this.tracker = new LivenessTracker(clock, TIMING.durationMs);
    this.renewer = new LivenessRenewer({
      node: name,
      store: this.store,
      clock,
      log: silentLogger(),
      durationMs: TIMING.durationMs,
      renewIntervalMs: TIMING.renewIntervalMs,
      renewDeadlineMs: TIMING.renewDeadlineMs,
      annotations: () => ({ [POOLS_ANNOTATION]: 'pool' }),
    });
    let announcer: IpAnnouncer | undefined;
    this.responder = new ArpResponder({
      link: this.link,
      clock,
      log: silentLogger(),
      metrics: metrics.forResponder(),
      onForeignClaim: (ip, m) => announcer?.onForeignClaim(ip, m),
    });
    announcer = new IpAnnouncer({
      me: name,
      clock,
      log: silentLogger(),
      store: this.store,
      leases: { get: (n) => this.cache.get(n) },
      liveness: this.tracker,
      selfHealthy: () => this.renewer.healthy(),
      announcements: () => sim.announcements,
      node: (n) => sim.nodes.get(n),
      selfPools: () => new Set(['pool']),
      responderFor: () => (this.alive ? this.responder : undefined),
      responders: () => [this.responder],
      events: { record: () => {} },
      metrics,
      schedule: () => {},
      outageMode,
      rankDelayMs: TIMING.rankDelayMs,
      handoverTimeoutMs: TIMING.handoverTimeoutMs,
      ipLeaseDurationSeconds: 2,
    });
    this.announcer = announcer;
  }

  start(): void {
    this.renewer.start();
    this.tick();
  }

  /** Catch up with the store (unless cut off), then reconcile every IP. */
  private tick(): void {
    if (!this.alive) return;
    if (this.store.reachable) {
      const next = new Map<string, LeaseRecord>();
      for (const l of this.sim.store.all()) {
        next.set(l.name, l);
        this.tracker.observe(l);
      }
      this.cache = next;
    }
    const ips = new Set([
      ...this.sim.announcements.keys(),
      ...[...this.cache.values()].flatMap((l) =>
        l.annotations?.[LEASE_IP_ANNOTATION] !== undefined ? [l.annotations[LEASE_IP_ANNOTATION]] : [],
      ),
    ]);
    for (const ip of ips) void this.announcer.reconcile(ip).catch(() => undefined);
    this.timer = this.sim.clock.setTimeout(() => this.tick(), SYNC_MS);
  }

  /** kill -9: the process is gone; its lease stays as it was. */
  crash(): void {
    this.alive = false;
    void this.renewer.stop();
    if (this.timer !== undefined) this.sim.clock.clearTimeout(this.timer);
    this.responder.withdrawAll();
    this.sim.wire.detach(this.link);
  }

  partition(cut: boolean): void {
    this.store.reachable = !cut;
    this.tracker.setBlind(cut);
  }
}

export class Simulation {
  readonly wire: Wire;
  readonly nodes = new Map<string, Node>();
  announcements = new Map<string, Announcement>();
  readonly speakers: SimSpeaker[] = [];
  readonly client = new FakeLink('eth0', '02:ba:70:00:00:64');

  constructor(
    readonly clock: FakeClock,
    readonly store: MemoryLeaseStore,
    names: string[],
    outageMode = true,
  ) {
    this.wire = new Wire(clock);
    this.wire.attach(this.client);
    names.forEach((n, i) => {
      this.nodes.set(n, { metadata: { name: n }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
      this.speakers.push(new SimSpeaker(n, `02:ba:70:00:00:${(0x11 + i).toString(16)}`, this, outageMode));
    });
  }

  addIp(ip: string): void {
    const svc: Service = { metadata: { name: `svc-${ip}`, namespace: 'default' }, spec: {} };
    this.announcements.set(ip, { ip, pool: 'pool', interfaceSpec: 'eth0', services: [svc], endpointNodes: undefined });
  }

  start(): void {
    for (const s of this.speakers) s.start();
  }

  speaker(name: string): SimSpeaker {
    return this.speakers.find((s) => s.name === name) as SimSpeaker;
  }

  holderOf(ip: string): string | undefined {
    return this.store.all().find((l) => l.annotations?.[LEASE_IP_ANNOTATION] === ip)?.holder || undefined;
  }

  answering(ip: string): string[] {
    return this.speakers.filter((s) => s.responder.holds(ip)).map((s) => s.name);
  }

  /** The client asks who has ip; returns the MACs that answered (after the wire settles). */
  async ask(ip: string): Promise<string[]> {
    const macs: string[] = [];
    const listener = (frame: Buffer): void => {
      const d = decodeArpFrame(frame);
      if (d.ok && d.value.operation === 'reply' && d.value.senderIp === ip && d.value.targetMac === this.client.mac)
        macs.push(d.value.senderMac);
    };
    this.client.onFrame(listener);
    this.client.send(
      encodeArpFrame({
        operation: 'request',
        ethernetSource: this.client.mac,
        ethernetDestination: 'ff:ff:ff:ff:ff:ff',
        senderMac: this.client.mac,
        senderIp: '192.0.2.100',
        targetMac: '00:00:00:00:00:00',
        targetIp: ip,
      }),
    );
    await this.clock.advance(1);
    this.client.offFrame(listener);
    return macs;
  }
}
