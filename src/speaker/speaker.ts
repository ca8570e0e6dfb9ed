// The speaker's composition root: everything one node's speaker is, built
// from a small set of dependencies (clock, API, caches, links) so the
// process (main.ts) and the simulation (src/testing/speaker-simulation.ts)
// run exactly the same wiring and event routing.
//
// What it routes: lease events to the liveness tracker, the peers' expiry
// alarms and the work queue; Service, EndpointSlice, Node and Eip events to
// the IPs they touch; renewals to the reader threads' licenses; the
// readers' yields and conflicts to the announcer; interface changes to a
// fresh socket. It owns the loops that keep the license rule honest: the
// event-loop heartbeat (a frozen or blocked process stops answering by
// itself), the echo of its own renewals (a stalled watch blinds, it does not
// kill peers), and a jittered resync (nothing waits on a lost event forever).
// With LAN heartbeats (heartbeats.ts), a silent holder is dead sooner, and
// this node defends only while its fence says nobody can take over by
// silence yet. With the slow liveness Lease (slow-liveness.ts) peers are
// known from change-only info records instead of watched renewals.
import type { Clock, TimerHandle } from '../clock.js';
import { announcements } from '../election/announcements.js';
import { IpAnnouncer } from '../election/ip-announcer.js';
import { IpLeaseWrites } from '../election/ip-lease-writes.js';
import { type LivenessTimings, livenessTimings } from '../election/liveness-mode.js';
import { LivenessRenewer } from '../election/liveness-renewer.js';
import { LivenessTracker } from '../election/liveness-tracker.js';
import { OwnLeaseEcho } from '../election/own-lease-echo.js';
import { PeerExpiryAlarms } from '../election/peer-expiry-alarms.js';
import type { PeerLiveness } from '../election/peer-liveness.js';
import type { SpeakerMetrics } from '../election/speaker-metrics.js';
import type { EventSink } from '../k8s/event-recorder.js';
import type { InformerHandlers } from '../k8s/informer.js';
import {
  audienceOf,
  INTERFACES_ANNOTATION,
  ipLeaseName,
  LEASE_IP_ANNOTATION,
  leaseLabels,
  POOLS_ANNOTATION,
  SILENCE_ANNOTATION,
  speakerLeaseName,
} from '../k8s/lease-names.js';
import { type LeaseRecord, type LeaseStore, leaseToRecord } from '../k8s/lease-store.js';
import { runReconcileLoop } from '../k8s/reconcile-loop.js';
import type { Eip, EndpointSlice, Lease, Node, Service } from '../k8s/types.js';
import { WorkQueue } from '../k8s/work-queue.js';
import type { InterfaceProbe } from '../layer2/interface-resolver.js';
import type { Link, LinkEvents } from '../layer2/link.js';
import type { Logger } from '../observability/logger.js';
import { PublishedPools } from '../pools/published-pools.js';
import { AnnouncementView } from './announcement-view.js';
import type { SpeakerSettings } from './config.js';
import { type HeartbeatDeps, SpeakerHeartbeats } from './heartbeats.js';
import { InterfaceMonitor } from './interface-monitor.js';
import { ResponderPool } from './responder-pool.js';
import { SlowLiveness } from './slow-liveness.js';

/** A read-only cache kept current by a watch (the Informer in production, a simulated watch in tests). */
export interface Cache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(): readonly T[];
  on(handlers: InformerHandlers<T>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SpeakerCaches {
  /** Baton's Leases in the speaker's namespace (speakers' and IPs'). */
  leases: Cache<Lease>;
  services: Cache<Service>;
  eips: Cache<Eip>;
  slices: Cache<EndpointSlice>;
  nodes: Cache<Node>;
}

export interface SpeakerDeps {
  settings: SpeakerSettings;
  clock: Clock;
  log: Logger;
  metrics: SpeakerMetrics;
  /** IP Leases, and the fresh reads of peers' liveness Leases before a takeover. */
  leases: LeaseStore;
  /** This speaker's own liveness renewals: a lane of their own, never queued behind other traffic. */
  livenessLeases: LeaseStore;
  events: EventSink;
  caches: SpeakerCaches;
  /** Opens the packet socket of an interface. */
  openLink: (ifname: string, events: LinkEvents) => Link;
  interfaces: InterfaceProbe;
  /** LAN heartbeats (docs/heartbeats.md); absent: peers are judged by their liveness Leases only. */
  heartbeats?: HeartbeatDeps;
}

// Heartbeat: every 100 ms the event loop proves it runs; the reader may answer for 400 ms after each. A
// frozen or blocked process thus stops answering within 400 ms, well inside the 1.5 s liveness duration and
// under the 500 ms between a holder's renew deadline and a takeover; 300 ms of slack absorb GC pauses.
const HEARTBEAT_MS = 100;
const ALIVE_MS = 400;
// A silent holder's Lease must also miss a renewal: its interval plus this (a renewal's write on a busy API
// server) passes without one before the holder counts as dead. Crash failover then takes 0.5-0.7 s. The
// holder's own fence counts the same quiet time (it declares it on its Lease, QUIET_ANNOTATION).
const SILENT_QUIET_MARGIN_MS = 200;
// With heartbeats, the fence (not only renewals) moves the readers' deadlines: relicense once it has moved
// this much past what the readers were given, so acks extend the defence between renewals without a
// relicense of every IP on every tick.
const RELICENSE_STEP_MS = 100;
// How often interfaces are checked for carrier and identity: a pulled cable is noticed within this.
const INTERFACE_POLL_MS = 200;
// Every IP is looked at again about this often, whatever happened: a lost event or a swallowed failure
// costs at most this long. Jittered by ±20% so the speakers of a cluster do not resync in step.
const RESYNC_MS = 10_000;
const RESYNC_JITTER = 0.2;
// Work-queue retry after a failed reconcile: 50 ms (a blip) doubling to 5 s (an outage), so a failed
// confirmation is retried quickly but an API outage is not hammered.
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 5_000;
// Reconciles wait on Lease writes; 8 in parallel lets a mass takeover proceed without flooding the API.
const WORKERS = 8;

export class Speaker {
  readonly liveness: PeerLiveness;
  readonly timings: LivenessTimings;
  /** The fast mode's tracker of watched renewals; undefined in the slow mode. */
  private readonly fast: LivenessTracker | undefined;
  /** The slow mode's view of its peers and its info record; undefined in the fast mode. */
  readonly slow: SlowLiveness | undefined;
  readonly announcer: IpAnnouncer;
  readonly renewer: LivenessRenewer;
  readonly responders: ResponderPool;
  private readonly queue: WorkQueue;
  private readonly view: AnnouncementView;
  private readonly alarms: PeerExpiryAlarms;
  private readonly echo: OwnLeaseEcho;
  private readonly monitor: InterfaceMonitor;
  private readonly blindBecause = new Set<'watch' | 'echo'>();
  private healthEpoch = 0;
  private lastHeartbeatAt: number | undefined;
  private readonly timers = new Map<string, TimerHandle>();
  /** IP → when the cache first saw its Lease naming nobody (see AnnouncerView.leaseFreeSince). */
  private readonly leaseFreeSince = new Map<string, number>();
  private loop: Promise<void> | undefined;
  /** LAN heartbeats, with the fence of this node's defence (silence-fence.ts); undefined without. */
  private readonly beats: SpeakerHeartbeats | undefined;
  /** The health deadline the readers were last licensed with (relicense when it moved RELICENSE_STEP_MS). */
  private licensedUntil = Number.NEGATIVE_INFINITY;
  private synced = false;
  private stopped = false;
  /** Slow: what the Lease declared at the last renewal (for the metric of changes). */
  private declared: string | undefined;

  constructor(private readonly deps: SpeakerDeps) {
    const { settings, clock, log, metrics, caches } = deps;
    this.timings = livenessTimings(settings);
    const slowMode = settings.liveness === 'slow';
    if (slowMode && deps.heartbeats === undefined) throw new RangeError('the slow liveness Lease needs heartbeats');
    this.queue = new WorkQueue({ clock, baseDelayMs: RETRY_BASE_MS, maxDelayMs: RETRY_MAX_MS });
    this.view = new AnnouncementView(
      () =>
        announcements(
          caches.services.list(),
          PublishedPools.fromEips(caches.eips.list()),
          caches.slices.list(),
          settings.loadBalancerClass,
        ),
      (ips) => {
        for (const ip of ips) this.queue.add(ip);
        this.responders.closeUnused(this.interfacesInUse());
      },
    );
    this.responders = new ResponderPool({
      clock,
      log,
      metrics,
      interfaces: deps.interfaces,
      open: deps.openLink,
      eips: () => caches.eips.list(),
      refreshIntervalMs: settings.garpRefreshMs,
      aliveMs: ALIVE_MS,
      events: {
        yielded: (ip, gen, reason, mac) => this.announcer.onYield(ip, gen, reason, mac),
        conflict: (ip, gen, mac) => this.announcer.onConflict(ip, gen, mac),
        failed: (ifname) => this.interfaceChanged(ifname),
      },
    });
    const peerAnnotations = (): Record<string, string> => ({
      [POOLS_ANNOTATION]: [...this.responders.selfPools()].sort().join(','),
      [INTERFACES_ANNOTATION]: this.responders.interfacesAnnotation(),
    });
    this.renewer = new LivenessRenewer({
      node: settings.nodeName,
      store: deps.livenessLeases,
      clock,
      log,
      durationMs: this.timings.leaseDurationMs,
      renewIntervalMs: this.timings.renewIntervalMs,
      renewDeadlineMs: this.timings.renewDeadlineMs,
      retryIntervalMs: this.timings.retryIntervalMs,
      handoverMs: settings.handoverTimeoutMs,
      // Slow: only this speaker's watch selects its own liveness Lease (the echo of its renewals).
      ...(slowMode ? { labels: leaseLabels('speaker', audienceOf(settings.nodeName)) } : {}),
      // Slow: pools and interfaces stay on the Lease for speakers of the fast mode in a mixed cluster.
      annotations: () => ({ ...peerAnnotations(), ...this.beats?.annotations() }),
      onHealthChange: (healthy) => this.healthChanged(healthy),
      onRenewed: (_ms, ok, written) => this.renewed(ok, written),
    });
    this.beats = deps.heartbeats === undefined ? undefined : this.heartbeats(deps.heartbeats, slowMode);
    if (slowMode) {
      this.slow = new SlowLiveness({
        node: settings.nodeName,
        clock,
        log,
        store: deps.leases,
        timings: this.timings,
        beats: this.beats as SpeakerHeartbeats,
        annotations: peerAnnotations,
        handoverMs: settings.handoverTimeoutMs,
        blind: () => this.blind,
        peerChanged: (node) => {
          this.alarms.watch(node);
          for (const ip of this.ipsOfLeases(node)) this.queue.add(ip);
        },
        metrics: { read: (ok) => metrics.livenessReads.inc({ result: ok ? 'ok' : 'failed' }), infoWritten: () => metrics.infoWrites.inc() },
      });
      this.liveness = this.slow.peers;
    } else {
      this.fast = new LivenessTracker(clock, this.timings.leaseDurationMs);
      this.liveness = this.fast;
    }
    this.announcer = new IpAnnouncer({
      me: settings.nodeName,
      clock,
      log,
      view: {
        announcements: () => this.view.current(),
        lease: (ip) => this.ipLease(ip),
        leaseFreeSince: (ip) => this.leaseFreeSince.get(ip),
        node: (name) => caches.nodes.get(name),
        selfPools: () => this.responders.selfPools(),
      },
      liveness: this.liveness,
      // With heartbeats a standby may take over before the renew deadline, once the fence has run out.
      health: {
        healthy: () => this.renewer.healthy() && (this.beats?.fence.holds() ?? true),
        healthyUntil: () => this.healthyUntil(),
        epoch: () => this.healthEpoch,
      },
      writes: new IpLeaseWrites({
        me: settings.nodeName,
        clock,
        log,
        store: deps.leases,
        ...(this.slow === undefined ? { liveness: this.fast } : { holderStopped: this.slow.holderStopped }),
        ipLeaseDurationSeconds: Math.ceil(this.timings.leaseDurationMs / 1000),
      }),
      responders: this.responders,
      events: deps.events,
      metrics,
      schedule: (ip, ms) => this.queue.addAfter(ip, ms),
      // Whom this node beats follows what it answers: a new holding is beaten for from the next tick.
      answeringChanged: () => this.beats?.replan(),
      timing: {
        outageMode: settings.outageMode,
        rankDelayMs: settings.rankDelayMs,
        handoverTimeoutMs: settings.handoverTimeoutMs,
        rebalance: settings.rebalance
          ? {
              settleMs: settings.rebalanceSettleMs,
              intervalMs: settings.rebalanceIntervalMs,
              // Slow: a crashed or frozen speaker's info record stays as it was; only a node that has acked our beats
              // without a break for the settle time gets IPs handed to it.
              ...(slowMode ? { vouched: (n: string) => this.beats?.ackedSteadily(n, settings.rebalanceSettleMs) === true } : {}),
            }
          : undefined,
      },
    });
    // A silent holder is dead once its Lease, too, went its declared quiet time without a renewal.
    this.fast?.judgeSilenceBy(
      (node) => this.beats?.isSilent(node) === true,
      (node) => this.beats?.renewalSeen(node),
    );
    this.alarms = new PeerExpiryAlarms(clock, this.liveness, (node) => {
      const held = this.ipsOfLeases(node);
      log.debug({ peer: node, ips: held }, 'speaker expired by local observation');
      for (const ip of held) this.queue.add(ip);
    });
    this.echo = new OwnLeaseEcho({
      clock,
      // Fast: one renew interval, blind within about a second of a stall, before a peer's lease can seem to
      // expire. Slow: a request's deadline (liveness-mode.ts).
      timeoutMs: this.timings.echoTimeoutMs,
      onStalled: () => this.setBlind('echo', true),
      onEchoed: () => this.setBlind('echo', false),
    });
    this.monitor = new InterfaceMonitor({
      clock,
      interfaces: deps.interfaces,
      responders: () => this.responders.all(),
      pollMs: INTERFACE_POLL_MS,
      carrierChanged: (ifname, up) => this.carrierChanged(ifname, up),
      identityChanged: (ifname, why) => this.interfaceChanged(ifname, why),
    });
    this.route();
  }

  /** Caches synced and renewing: ready to serve (readiness probe). */
  ready(): boolean {
    return this.synced && this.renewer.healthy();
  }

  /** Lease watch broken or stalled: nobody is judged dead meanwhile. */
  get blind(): boolean {
    return this.blindBecause.size > 0;
  }

  async start(): Promise<void> {
    const { caches, log } = this.deps;
    await Promise.all([caches.leases.start(), caches.services.start(), caches.eips.start(), caches.slices.start(), caches.nodes.start()]);
    if (this.stopped) return;
    this.synced = true;
    // Before the first renewal: the Lease advertises the endpoint only once it is open.
    await this.beats?.start();
    await this.renewer.renewOnce();
    this.renewer.start();
    // After the first renewal: the boot id on the Lease fences whatever a standby heard of a previous process.
    this.slow?.start();
    this.monitor.start();
    this.every(
      'heartbeat',
      () => HEARTBEAT_MS,
      () => this.heartbeat(),
    );
    this.every(
      'resync',
      () => RESYNC_MS * (1 - RESYNC_JITTER + 2 * RESYNC_JITTER * Math.random()),
      () => this.enqueueAll(),
    );
    log.info({ ips: this.view.current().size }, 'caches synced; speaker running');
    this.loop = runReconcileLoop({
      name: 'ips',
      queue: this.queue,
      workers: WORKERS,
      reconcile: async (ip) => this.announcer.reconcile(ip),
      log,
    });
    this.enqueueAll();
  }

  /** SIGTERM: hand every IP over (answering until successors announce), then stop everything. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The readers' last window starts before the release: a successor that sees it waits that window out.
    this.announcer.beginLeaving();
    await this.renewer.release();
    // Slow: the info record names nobody too, so peers stop counting on this node at once.
    await this.slow?.release();
    await this.announcer.handOverAll(this.ipsOfLeases(this.deps.settings.nodeName));
    // Beats until the IPs are handed over: a standby must not take an IP that is being handed to it.
    this.beats?.stop();
    this.queue.shutDown();
    await this.loop;
    await this.renewer.stop();
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t);
    this.timers.clear();
    this.monitor.stop();
    this.echo.stop();
    this.slow?.stop();
    this.alarms.clearAll();
    this.responders.closeAll();
    const { caches } = this.deps;
    await Promise.all([caches.leases.stop(), caches.services.stop(), caches.eips.stop(), caches.slices.stop(), caches.nodes.stop()]);
  }

  /**
   * The event loop runs: every reader may answer for ALIVE_MS more. After a
   * stall longer than that (SIGSTOP, a long pause) the readers have stopped
   * answering by themselves, and someone may have taken over meanwhile:
   * before answering again, every IP is confirmed with a guarded write (an
   * overdue refresh or reply must not go out on the strength of an old grant).
   */
  heartbeat(): void {
    const now = this.deps.clock.now();
    const gap = this.lastHeartbeatAt === undefined ? 0 : now - this.lastHeartbeatAt;
    this.lastHeartbeatAt = now;
    if (gap > ALIVE_MS) {
      this.deps.log.warn(
        { stalledMs: Math.round(gap) },
        'the event loop stalled longer than the readers’ alive window: confirming every IP before answering again',
      );
      this.announcer.stalled();
    }
    for (const r of this.responders.all()) r.link.heartbeat(ALIVE_MS);
    this.slow?.tick();
    if (this.beats !== undefined) {
      this.beats.fence.refresh();
      if (this.healthyUntil() >= this.licensedUntil + RELICENSE_STEP_MS) this.relicenseAll();
    }
  }

  /** Every IP this speaker has any reason to look at (and, with heartbeats, who beats to whom, again). */
  enqueueAll(): void {
    this.beats?.replan();
    for (const ip of this.view.current().keys()) this.queue.add(ip);
    for (const ip of this.ipsOfLeases()) this.queue.add(ip);
    for (const ip of this.announcer.activeIps()) this.queue.add(ip);
  }

  private route(): void {
    const { caches, settings } = this.deps;
    const ownLease = speakerLeaseName(settings.nodeName);
    const onLease = (l: Lease): void => {
      const record = leaseToRecord(l);
      if (record.name === ownLease) this.echo.seen(record.resourceVersion);
      const seen = this.slow !== undefined ? this.slow.observe(record) : this.fast?.observe(record);
      if (seen !== undefined) {
        this.alarms.watch(seen.node);
        if (seen.changed) {
          this.beats?.replan();
          this.enqueueAll();
        }
        return;
      }
      // Slow: this speaker's own liveness Lease (its echo, above) is the only one its watch selects.
      if (record.name === ownLease) return;
      const ip = record.annotations?.[LEASE_IP_ANNOTATION];
      if (ip === undefined) return;
      this.beats?.replan();
      // The moment a release arrives, not when the queue gets to it: a successor's hand-over window counts from here.
      if (record.holder !== '') this.leaseFreeSince.delete(ip);
      else if (!this.leaseFreeSince.has(ip)) this.leaseFreeSince.set(ip, this.deps.clock.now());
      this.queue.add(ip);
    };
    caches.leases.on({
      add: onLease,
      update: onLease,
      delete: (l) => {
        // Slow: renewed only every 10 s, so a deletion by hand is repaired at once, not at the next interval.
        if (l.metadata.name === ownLease && this.slow !== undefined) this.renewer.renewSoon();
        const node = this.slow !== undefined ? this.slow.deleted(l.metadata.name) : this.fast?.deleted(l.metadata.name);
        if (node !== undefined) this.alarms.watch(node);
        const ip = l.metadata.annotations?.[LEASE_IP_ANNOTATION];
        if (ip !== undefined) this.leaseFreeSince.delete(ip);
        if (ip !== undefined) this.queue.add(ip);
      },
    });
    const viewChanged = (): void => {
      // Services and endpoints decide who may announce (the standbys, whom beats go to).
      this.beats?.replan();
      // Settles once per burst (a relist delivers every Service at once), then queues the IPs it touched.
      this.view.changed();
    };
    for (const c of [caches.services, caches.slices] as Array<Cache<{ metadata: { name: string } }>>)
      c.on({ add: viewChanged, update: viewChanged, delete: viewChanged });
    // Node conditions and labels decide eligibility for every IP.
    const nodesChanged = (): void => this.everythingChanged();
    caches.nodes.on({ add: nodesChanged, update: nodesChanged, delete: nodesChanged });
    const poolsChanged = (): void => {
      this.responders.invalidatePools();
      this.everythingChanged();
    };
    caches.eips.on({ add: poolsChanged, update: poolsChanged, delete: poolsChanged });
  }

  private heartbeats(hb: HeartbeatDeps, slow: boolean): SpeakerHeartbeats {
    const { clock, log, settings, metrics } = this.deps;
    return new SpeakerHeartbeats(hb, {
      ...(slow ? { slow: { renewNow: () => this.renewer.renewSoon(), beating: () => this.beating() } } : {}),
      clock,
      log,
      metrics: metrics.forBeats(),
      quietMs: settings.renewIntervalMs + SILENT_QUIET_MARGIN_MS,
      renewedAt: () => this.renewer.renewedAt(),
      sources: {
        me: settings.nodeName,
        ips: () => this.view.current().keys(),
        lease: (ip) => this.ipLease(ip),
        answeringIps: () => this.announcer.answeringIps(),
        candidatesLookup: () => this.announcer.candidatesLookup(),
        heartbeatEndpoint: (node) => this.liveness.heartbeatEndpoint(node),
      },
      // A holder went silent (slow: witnessed) or came back: look at everything now, and (fast) its IPs again
      // once its Lease is quiet too.
      onSilence: (holder, silent) => {
        this.enqueueAll();
        const at = silent ? this.fast?.quietAt(holder) : undefined;
        if (at !== undefined) for (const ip of this.ipsOfLeases(holder)) this.queue.addAfter(ip, Math.max(0, at - clock.now()) + 1);
      },
      fence: { lapsed: () => this.fenceLapsed(), restored: () => this.fenceRestored() },
    });
  }

  /**
   * Slow liveness: what this node's beats say. Renewing: beats. Not renewing (past the deadline), in outage
   * mode: beats that ask the standbys to read its Lease, so a holder cut off from the API is replaced at Lease
   * speed (about 20 s after its last renewal) while nothing moves during an outage of everyone. Outside
   * outage mode it has stopped answering at its deadline: no beats, so its standbys take over by silence at
   * once. Leaving (SIGTERM): beats until the hand-over is done.
   */
  private beating(): 'beat' | 'lease-only' | 'none' {
    if (this.stopped || this.renewer.healthy()) return 'beat';
    return this.deps.settings.outageMode ? 'lease-only' : 'none';
  }

  /** The lease informer's onBroken/onResumed (main.ts wires them; a simulated watch calls them too). */
  watchBroken(broken: boolean): void {
    this.setBlind('watch', broken);
  }

  private setBlind(reason: 'watch' | 'echo', on: boolean): void {
    const was = this.blind;
    if (on) this.blindBecause.add(reason);
    else this.blindBecause.delete(reason);
    if (was === this.blind) return;
    this.deps.metrics.blind.set(this.blind ? 1 : 0);
    this.deps.log.warn(
      { reason },
      this.blind ? 'lease watch broken or stalled: nobody is judged dead meanwhile' : 'lease watch current again',
    );
    this.liveness.setBlind(this.blind);
    if (!this.blind) {
      this.alarms.resume();
      this.enqueueAll();
    }
  }

  private healthChanged(healthy: boolean): void {
    this.deps.metrics.healthy.set(healthy ? 1 : 0);
    if (!healthy) {
      // What was confirmed before this gap must be confirmed again before it is defended.
      this.healthEpoch++;
    } else {
      // If this speaker could not write, neither could the others, probably: do not act on the expiries seen meanwhile.
      this.liveness.restartObservation();
      this.alarms.resume();
    }
    this.relicenseAll();
    this.enqueueAll();
  }

  private renewed(ok: boolean, written: LeaseRecord | undefined): void {
    this.deps.metrics.renewals.inc({ result: ok ? 'ok' : 'failed' });
    // Slow: what the Lease declares about takeovers by silence counts once written (silence-declaration.ts).
    this.beats?.renewed(ok);
    if (!ok) return;
    const declared = written?.annotations?.[SILENCE_ANNOTATION];
    if (declared !== undefined && declared !== this.declared) {
      this.deps.metrics.silenceDeclarations.inc({ value: declared });
      this.deps.log.info(
        { declared },
        declared === 'open'
          ? 'standbys ack our heartbeats: they may take our IPs over on a witnessed silence'
          : 'standbys’ acks no longer prove that none can find us silent: only our Lease’s expiry may move our IPs',
      );
    }
    this.declared = declared;
    this.echo.wrote(written?.resourceVersion);
    // A lapse of the fence is told (and the epoch moves on) before the renewal extends anything.
    this.beats?.fence.refresh();
    this.relicenseAll();
  }

  /** Every answering IP gets licensed for the deadlines that apply now. */
  private relicenseAll(): void {
    this.licensedUntil = this.healthyUntil();
    this.announcer.relicenseAll();
  }

  /** Until when this node may defend (and, outside outage mode, answer): its renewals', and with heartbeats its fence's. */
  private healthyUntil(): number {
    return Math.min(this.renewer.healthyUntil(), this.beats?.fence.until() ?? Number.POSITIVE_INFINITY);
  }

  /**
   * The fence ran out before it was extended: a standby may have taken an IP
   * by silence meanwhile. Like a gap in renewals: what was confirmed must be
   * confirmed again before it is defended.
   */
  private fenceLapsed(): void {
    this.healthEpoch++;
    this.deps.metrics.beatFenceLapses.inc();
    this.deps.log.warn('neither renewals nor heartbeat acks prove that no standby can take over: confirming every IP again');
    this.relicenseAll();
    this.enqueueAll();
  }

  private fenceRestored(): void {
    this.relicenseAll();
    this.enqueueAll();
  }

  private carrierChanged(ifname: string, up: boolean): void {
    this.deps.log.warn({ interface: ifname, carrier: up }, up ? 'link up' : 'link down: withdrawing its IPs');
    if (!up) this.announcer.linkDown(ifname);
    this.responders.invalidatePools();
    this.everythingChanged();
  }

  /** The interface is gone, re-created or has a new MAC: close its socket; the next reconcile opens a fresh one. */
  private interfaceChanged(ifname: string, why = 'socket failed'): void {
    this.deps.log.warn({ interface: ifname, why }, 'interface changed: reopening its packet socket');
    this.announcer.linkDown(ifname);
    this.responders.close(ifname);
    this.responders.invalidatePools();
    this.everythingChanged();
  }

  private everythingChanged(): void {
    this.view.invalidate();
    this.enqueueAll();
  }

  private interfacesInUse(): Set<string> {
    const names = new Set<string>();
    for (const a of this.view.current().values()) {
      const r = this.responders.forPool(a.interfaceSpec);
      if (r !== undefined) names.add(r.name);
    }
    return names;
  }

  private ipLease(ip: string): LeaseRecord | undefined {
    const l = this.deps.caches.leases.get(ipLeaseName(ip), this.deps.settings.namespace);
    return l === undefined ? undefined : leaseToRecord(l);
  }

  private ipsOfLeases(holder?: string): string[] {
    return this.deps.caches.leases.list().flatMap((l) => {
      const ip = l.metadata.annotations?.[LEASE_IP_ANNOTATION];
      return ip !== undefined && (holder === undefined || l.spec?.holderIdentity === holder) ? [ip] : [];
    });
  }

  /** Runs fn every ms (or after each delay() ms) until stop(); one timer per loop. */
  private every(name: string, delay: () => number, fn: () => void): void {
    const tick = (): void => {
      fn();
      this.timers.set(name, this.deps.clock.setTimeout(tick, delay()));
    };
    this.timers.set(name, this.deps.clock.setTimeout(tick, delay()));
  }
}
