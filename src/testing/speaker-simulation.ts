// An in-memory cluster of speakers for unit tests of the election, running
// what ships: each node is a real Speaker (src/speaker/speaker.ts, the same
// composition root as the process) over the addon's real decision rules in
// virtual mode (VirtualLink), with a simulated API server (sim-api.ts) and
// LAN (sim-wire.ts) on one FakeClock, so a takeover that takes seconds runs
// in milliseconds, exactly and repeatably.
//
// Faults, each as the real thing would present them to a speaker:
// - crash (kill -9): its timers, answers and socket die with it;
// - freeze (SIGSTOP): JavaScript and the reader stop; frames queue in the
//   socket and are read as one batch at thaw;
// - blockLoop (a busy event loop): JavaScript stops, the reader goes on;
// - cutApi / writesHang / deny: the control plane cut off, writes hanging,
//   writes refused; stallWatch: the lease watch silent while writes work;
// - cutLink: the cable out (carrier lost, frames lost);
// - with heartbeats (sim-beats.ts): a firewall rule on the UDP port
//   (node.beats.blocked), and a lossy node network (SimOptions.beatLoss).
// With the slow liveness Lease (SimOptions.liveness), each speaker's lease
// watch selects what the slow selector does (lease-names.ts leaseSelector).
// API writes and reads, and lease watch events delivered, are counted per
// node (SimNode.api, SimNode.watchEvents) for the load the speaker puts on
// the API server.

import { type LivenessMode, livenessTimings } from '../election/liveness-mode.js';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import type { EventSink } from '../k8s/event-recorder.js';
import { AUDIENCE_ALL, AUDIENCE_LABEL, audienceOf, LEASE_IP_ANNOTATION } from '../k8s/lease-names.js';
import { type Eip, type EndpointSlice, type Node, objectKey, type Service } from '../k8s/types.js';
import type { InterfaceProbe } from '../layer2/interface-resolver.js';
import type { LinkEvents } from '../layer2/link.js';
import { VirtualLink } from '../layer2/virtual-link.js';
import { createLogger, silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { SPEAKER_DEFAULTS, type SpeakerSettings } from '../speaker/config.js';
import { Speaker } from '../speaker/speaker.js';
import type { FakeClock } from './fake-clock.js';
import { ALL_BATON_LEASES, type ApiFaults, type LeaseSelector, SimApiServer, SimCache } from './sim-api.js';
import { SimBeatNetwork, type SimBeatPort } from './sim-beats.js';
import { ProcessClock } from './sim-clock.js';
import { ForeignHost, SimClient, Wire, type WirePort } from './sim-wire.js';

export const POOL = 'pool';
const CLIENT_MAC = '02:ba:70:00:00:64';
const FOREIGN_MAC = '02:ba:70:00:00:99';

export interface SimOptions {
  outageMode?: boolean;
  /** LAN heartbeats between the speakers (docs/heartbeats.md), over the simulated node network. */
  heartbeats?: boolean;
  /** Each heartbeat datagram is lost with this probability (0..1), independently. */
  beatLoss?: number;
  /** The slow liveness Lease (needs heartbeats). */
  liveness?: LivenessMode;
  /** Seed of the simulation's random choices (datagram loss): the same seed, the same run. */
  seed?: number;
  /** Overrides of the shipped defaults (timings). */
  settings?: Partial<SpeakerSettings>;
}

type FreezeMode = 'process' | 'loop';

/** One node: its process (a Speaker), its port on the LAN, its faults. */
export class SimNode implements WirePort {
  readonly name: string;
  readonly mac: string;
  clock!: ProcessClock;
  /** Its heartbeat port on the node network (used only with SimOptions.heartbeats). */
  readonly beats: SimBeatPort;
  speaker!: Speaker;
  /** The current process's metrics. */
  metrics!: SpeakerMetrics;
  readonly faults: ApiFaults = { down: false, writesHang: false };
  /** API requests sent by this node's processes (all of them, restarts included). */
  readonly api = { writes: 0, reads: 0 };
  /** Lease watch events delivered to the processes before the current one. */
  private pastWatchEvents = 0;
  private link: VirtualLink | undefined;
  private leaseWatch: SimCache<never> | undefined;
  private settings!: SpeakerSettings;
  private caches: Array<SimCache<never>> = [];
  private frozen: FreezeMode | undefined;
  private readonly socketQueue: Array<{ frame: Buffer; atMs: number }> = [];
  private carrier = true;
  private ifindex = 2;
  private watchCutTimer: ReturnType<FakeClock['setTimeout']> | undefined;
  eventsRecorded: Array<{ reason: string; message: string }> = [];

  constructor(
    readonly sim: Simulation,
    index: number,
  ) {
    this.name = `node-${index + 1}`;
    this.mac = `02:ba:70:00:00:${(0x11 + index).toString(16)}`;
    this.beats = sim.beatNetwork.port(`192.0.2.${11 + index}`, { clock: () => this.clock, reachable: () => this.carrier });
    this.boot();
  }

  /** A fresh process with an empty memory (first start, or a restart after a crash). */
  private boot(): void {
    const { sim } = this;
    this.clock = new ProcessClock(sim.clock);
    const settings: SpeakerSettings = {
      ...SPEAKER_DEFAULTS,
      nodeName: this.name,
      outageMode: sim.options.outageMode ?? SPEAKER_DEFAULTS.outageMode,
      // The design under test is always named (SimOptions): no heartbeats (deps below) and the fast Lease unless
      // asked for, whatever the shipped defaults; each design has its own test files (speaker*.test.ts).
      liveness: sim.options.liveness ?? 'fast',
      ...sim.options.settings,
    };
    this.settings = settings;
    if (this.leaseWatch !== undefined) this.pastWatchEvents += this.leaseWatch.delivered;
    const leaseWatch = sim.api.watchFor(this.clock, selectorOf(settings));
    this.leaseWatch = leaseWatch as unknown as SimCache<never>;
    const cache = <T extends { metadata: { name: string; namespace?: string } }>(kind: keyof Simulation['objects']): SimCache<T> => {
      const c = new SimCache<T>(this.clock, sim.objects[kind].list() as unknown as T[]);
      sim.objects[kind].subscribe(c as unknown as SimCache<never>);
      this.caches.push(c as unknown as SimCache<never>);
      return c;
    };
    this.metrics = new SpeakerMetrics(new Metrics({ defaultMetrics: false }));
    const events: EventSink = { record: (_t, _type, reason, message) => this.eventsRecorded.push({ reason, message }) };
    const interfaces: InterfaceProbe = {
      exists: (n) => n === 'eth0',
      hasCarrier: (n) => n === 'eth0' && this.carrier,
      routes: () => [],
      identity: (n) => (n === 'eth0' ? { ifindex: this.ifindex, mac: this.mac } : undefined),
    };
    this.speaker = new Speaker({
      settings,
      clock: this.clock,
      // BATON_SIM_LOG=debug shows a simulated speaker's log (with its node), for debugging a test.
      log:
        process.env['BATON_SIM_LOG'] === undefined
          ? silentLogger()
          : createLogger('speaker', process.env['BATON_SIM_LOG'] as 'debug', { node: this.name }, () => ({ t: sim.clock.now() })),
      metrics: this.metrics,
      leases: sim.api.viewFor(this.clock, this.faults, livenessTimings(settings).requestTimeoutMs, this.api),
      livenessLeases: sim.api.viewFor(this.clock, this.faults, livenessTimings(settings).requestTimeoutMs, this.api),
      events,
      caches: {
        leases: leaseWatch,
        services: cache<Service>('services'),
        eips: cache<Eip>('eips'),
        slices: cache<EndpointSlice>('slices'),
        nodes: cache<Node>('nodes'),
      },
      openLink: (ifname, linkEvents) => this.openLink(ifname, linkEvents),
      interfaces,
      heartbeats: sim.options.heartbeats === true ? this.beats.deps() : undefined,
    });
    sim.wire.attach(this);
  }

  private openLink(ifname: string, events: LinkEvents): VirtualLink {
    // Reader events reach JavaScript through this process's clock: not while its loop is blocked.
    const gated: LinkEvents = {
      frame: (f, v) => this.clock.run(() => events.frame?.(f, v)),
      yielded: (ip, gen, reason, mac) => this.clock.run(() => events.yielded(ip, gen, reason, mac)),
      conflict: (ip, gen, mac) => this.clock.run(() => events.conflict(ip, gen, mac)),
      failed: (code) => this.clock.run(() => events.failed?.(code)),
    };
    this.link = new VirtualLink({
      name: ifname,
      mac: this.mac,
      ifindex: this.ifindex,
      clock: this.clock,
      events: gated,
      onSend: (frame) => {
        if (this.carrier) this.sim.wire.send(this, frame);
      },
    });
    return this.link;
  }

  /** A frame reaches this node's socket. */
  deliver(frame: Buffer, atMs: number): void {
    if (this.clock.isDead || !this.carrier) return;
    if (this.frozen === 'process') {
      this.socketQueue.push({ frame, atMs });
      return;
    }
    // No socket open (an interface re-created, not reopened yet): the frame is lost, as it would be.
    this.link?.receive([{ frame, atMs }]);
  }

  async start(): Promise<void> {
    await this.speaker.start();
  }

  /** kill -9: everything of the process is gone; its Leases stay as they were. */
  crash(): void {
    this.clock.kill();
    this.beats.close();
    this.link = undefined;
    this.socketQueue.length = 0;
    this.sim.wire.detach(this);
    if (this.leaseWatch !== undefined) this.sim.api.unwatch(this.leaseWatch as never);
    for (const c of this.caches) for (const o of Object.values(this.sim.objects)) o.unsubscribe(c);
    this.caches = [];
  }

  /** Started again (by the kubelet) after a crash: a new process, no memory. */
  async restart(): Promise<void> {
    if (!this.clock.isDead) this.crash();
    this.boot();
    await this.start();
  }

  /** SIGTERM: the speaker hands over and stops. */
  async terminate(): Promise<void> {
    await this.speaker.stop();
    this.crash();
  }

  freeze(mode: FreezeMode): void {
    this.frozen = mode;
    this.clock.freeze();
  }

  thaw(): void {
    const wasProcess = this.frozen === 'process';
    this.frozen = undefined;
    // The reader runs first after SIGCONT: it reads everything queued in the socket as one batch.
    if (wasProcess && this.link !== undefined && this.socketQueue.length > 0) this.link.receive(this.socketQueue.splice(0));
    this.clock.thaw();
  }

  /** Lease watch events delivered to this node's processes so far. */
  get watchEvents(): number {
    return this.pastWatchEvents + (this.leaseWatch?.delivered ?? 0);
  }

  /** The control plane cut off: requests hang until their deadline, the watch goes silent and, later, counts as broken. */
  cutApi(cut: boolean): void {
    const watch = this.leaseWatch as SimCache<never>;
    this.faults.down = cut;
    watch.stalled = cut;
    if (cut) {
      // The lease informer gives up on a silent watch after its idle timeout (speaker/main.ts).
      const idleMs = livenessTimings(this.settings).watchIdleMs;
      this.watchCutTimer = this.sim.clock.setTimeout(() => this.clock.run(() => this.speaker.watchBroken(true)), idleMs);
    } else {
      if (this.watchCutTimer !== undefined) this.sim.clock.clearTimeout(this.watchCutTimer);
      watch.unstall();
      this.clock.run(() => this.speaker.watchBroken(false));
    }
  }

  /** Writes hang until their deadline (an etcd pause, a write throttle); reads and the watch work. */
  writesHang(on: boolean): void {
    this.faults.writesHang = on;
  }

  /** The lease watch delivers nothing (a half-dead connection), while writes work. */
  stallWatch(on: boolean): void {
    const watch = this.leaseWatch as SimCache<never>;
    if (on) watch.stalled = true;
    else watch.unstall();
  }

  /** Every watch event reaches this node only after ms. */
  watchLag(ms: number): void {
    (this.leaseWatch as SimCache<never>).delayMs = ms;
  }

  cutLink(cut: boolean): void {
    this.carrier = !cut;
  }

  /** The interface deleted and created again: a new index (the old socket is dead). */
  recreateInterface(): void {
    this.ifindex++;
    this.link = undefined;
  }

  get alive(): boolean {
    return !this.clock.isDead;
  }

  get isFrozen(): boolean {
    return this.frozen !== undefined;
  }
}

/** The lease informer's selector as the simulated API server applies it (lease-names.ts leaseSelector). */
function selectorOf(settings: SpeakerSettings): LeaseSelector {
  if (settings.liveness === 'fast') return ALL_BATON_LEASES;
  const own = audienceOf(settings.nodeName);
  return (labels) => ALL_BATON_LEASES(labels) && (labels?.[AUDIENCE_LABEL] === AUDIENCE_ALL || labels?.[AUDIENCE_LABEL] === own);
}

/** Objects of one kind that every speaker watches (Services, Eips, EndpointSlices, Nodes). */
export class SimObjects<T extends { metadata: { name: string; namespace?: string } }> {
  private readonly objects = new Map<string, T>();
  private readonly subscribers = new Set<SimCache<never>>();

  list(): T[] {
    return [...this.objects.values()];
  }

  set(obj: T): void {
    const key = objectKey(obj);
    const type = this.objects.has(key) ? 'update' : 'add';
    this.objects.set(key, obj);
    for (const s of this.subscribers) (s as unknown as SimCache<T>).push(type, obj);
  }

  delete(obj: T): void {
    const key = objectKey(obj);
    if (!this.objects.delete(key)) return;
    for (const s of this.subscribers) (s as unknown as SimCache<T>).push('delete', obj);
  }

  subscribe(c: SimCache<never>): void {
    this.subscribers.add(c);
  }

  unsubscribe(c: SimCache<never>): void {
    this.subscribers.delete(c);
  }
}

export class Simulation {
  readonly api: SimApiServer;
  readonly wire: Wire;
  readonly client: SimClient;
  readonly foreign: ForeignHost;
  readonly objects = {
    services: new SimObjects<Service>(),
    eips: new SimObjects<Eip>(),
    slices: new SimObjects<EndpointSlice>(),
    nodes: new SimObjects<Node>(),
  };
  readonly nodes: SimNode[] = [];
  private readonly ips: string[] = [];
  readonly beatNetwork: SimBeatNetwork;

  constructor(
    readonly clock: FakeClock,
    names: number,
    readonly options: SimOptions = {},
  ) {
    this.beatNetwork = new SimBeatNetwork(clock, options.beatLoss ?? 0, options.seed ?? 1);
    let seq = 0;
    const nextSeq = (): number => ++seq;
    this.api = new SimApiServer(clock, nextSeq);
    this.wire = new Wire(clock, nextSeq);
    this.client = new SimClient(this.wire, clock, CLIENT_MAC, '192.0.2.100');
    this.foreign = new ForeignHost(this.wire, FOREIGN_MAC);
    this.objects.eips.set({
      apiVersion: 'network.kubesphere.io/v1alpha2',
      kind: 'Eip',
      metadata: { name: POOL, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { address: '192.0.2.200-192.0.2.250', protocol: 'layer2', interface: 'eth0' },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    });
    for (let i = 0; i < names; i++) {
      this.objects.nodes.set({ metadata: { name: `node-${i + 1}` }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    }
    for (let i = 0; i < names; i++) this.nodes.push(new SimNode(this, i));
  }

  /** A Service that holds ip (as the controller would have written its status). */
  addIp(ip: string): void {
    this.ips.push(ip);
    this.objects.services.set({
      metadata: { name: `svc-${ip}`, namespace: 'default', resourceVersion: '1', annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb' } },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip }] } },
    });
  }

  /** The Service that holds ip is deleted (as a user deleting it, or its namespace, would). */
  removeIp(ip: string): void {
    const i = this.ips.indexOf(ip);
    if (i >= 0) this.ips.splice(i, 1);
    const svc = this.objects.services.list().find((s) => s.metadata.name === `svc-${ip}`);
    if (svc !== undefined) this.objects.services.delete(svc);
  }

  externalIps(): readonly string[] {
    return this.ips;
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  node(name: string): SimNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  nodeOfMac(mac: string): string | undefined {
    return this.nodes.find((n) => n.mac === mac)?.name;
  }

  holderOf(ip: string): string | undefined {
    return this.api.all().find((l) => l.annotations?.[LEASE_IP_ANNOTATION] === ip)?.holder || undefined;
  }

  /** The client asks who has ip; returns the MACs that answered within 1 ms. */
  async ask(ip: string): Promise<string[]> {
    const from = this.client.sightings.length;
    this.client.ask(ip);
    await this.clock.advance(1);
    return this.client.sightings
      .slice(from)
      .filter((s) => s.kind === 'reply' && s.ip === ip)
      .map((s) => s.mac);
  }
}
