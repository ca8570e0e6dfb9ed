// Per external IP, turns decide() into effects: Lease writes (create,
// guarded takeover, confirmation, release), the responder announcing or
// falling silent, Events, metrics. reconcile(ip) is idempotent and reads
// only caches; the speaker's work queue runs it whenever anything about the
// IP may have changed, and at the times decide() cares about (rank delays,
// a holder's expiry, a hand-over's timeout).
//
// Safety rules kept here:
// - Start answering only for an IP this speaker has just won with a guarded
//   write, or after confirming with one that its lease is still ours (after
//   a restart, a fencing, a yield, a cable pulled and put back).
// - An unhealthy holder stops at once, unless outage mode keeps it answering
//   until another MAC announces the IP (then it yields at once).
// - Hand over by releasing the lease and answering until the successor's
//   gratuitous ARP arrives, so clients see no gap.
import type { Clock } from '../clock.js';
import type { EventSink } from '../k8s/event-recorder.js';
import { ipLeaseName, LEASE_IP_ANNOTATION, leaseLabels } from '../k8s/lease-names.js';
import { type LeaseRecord, type LeaseStore, microTime } from '../k8s/lease-store.js';
import type { Node } from '../k8s/types.js';
import type { ArpResponder } from '../layer2/responder.js';
import type { Logger } from '../observability/logger.js';
import type { Announcement } from './announcements.js';
import { ineligibility } from './eligibility.js';
import { decide } from './ip-decision.js';
import type { LivenessTracker } from './liveness-tracker.js';
import type { SpeakerMetrics } from './speaker-metrics.js';

export interface AnnouncerDeps {
  me: string;
  clock: Clock;
  log: Logger;
  store: LeaseStore;
  leases: { get(name: string): LeaseRecord | undefined };
  liveness: LivenessTracker;
  selfHealthy: () => boolean;
  announcements: () => ReadonlyMap<string, Announcement>;
  node: (name: string) => Node | undefined;
  selfPools: () => ReadonlySet<string>;
  /** The responder for a pool's interface on this node (opened on first use), or undefined if the node lacks it. */
  responderFor: (interfaceSpec: string) => ArpResponder | undefined;
  responders: () => readonly ArpResponder[];
  events: EventSink;
  metrics: SpeakerMetrics;
  /** Re-run reconcile(ip) after ms. */
  schedule: (ip: string, ms: number) => void;
  outageMode: boolean;
  /** Extra wait per rank before trying to take a free IP, so the best-ranked node usually goes alone. */
  rankDelayMs: number;
  /** How long a releasing holder keeps answering while waiting for its successor's gratuitous ARP. */
  handoverTimeoutMs: number;
  /**
   * leaseDurationSeconds written on IP leases. Informational (an IP lease is
   * valid while its holder's liveness lease is), but the API requires > 0,
   * and tools that read Leases expect a sensible value.
   */
  ipLeaseDurationSeconds: number;
}

interface IpMemory {
  /** Local time this speaker first saw the IP free (or its holder dead). */
  freeSince?: number;
  /** This speaker won or confirmed the lease and may answer without confirming again. */
  confirmed: boolean;
  /** Yielded to another MAC while the lease stood at this version. */
  yieldedAtRv?: string;
  /** Released the lease for a successor at this local time. */
  releasingSince?: number;
  /** The last holder a lease of this IP named: if the lease vanishes (deleted by hand), that node still answers. */
  lastHolder?: string;
  /**
   * The cached lease version our last write replaced ("absent" for a create),
   * and when. While the cache still shows it, our own write has not arrived
   * through the watch yet: deciding on it would undo what we just did.
   */
  wroteOver?: { rv: string; at: number };
}

// Longest we wait for our own write to show up in the cache before deciding on what the cache says anyway.
const OWN_WRITE_ECHO_MS = 5_000;

export class IpAnnouncer {
  private readonly memory = new Map<string, IpMemory>();
  private leaving = false;

  constructor(private readonly d: AnnouncerDeps) {}

  reconcile = async (ip: string): Promise<void> => {
    const d = this.d;
    const a = d.announcements().get(ip);
    const lease = d.leases.get(ipLeaseName(ip));
    const mem = this.memoryOf(ip);
    if (mem.wroteOver !== undefined) {
      const cachedRv = lease?.resourceVersion ?? 'absent';
      if (cachedRv === mem.wroteOver.rv && d.clock.now() - mem.wroteOver.at < OWN_WRITE_ECHO_MS) return;
      mem.wroteOver = undefined;
    }
    const current = d.responders().find((r) => r.holds(ip));
    if (a === undefined) {
      if (current !== undefined) this.withdraw(ip, current, 'no longer an external IP');
      this.memory.delete(ip);
      if (lease !== undefined && lease.holder === d.me) await this.deleteLease(lease);
      return;
    }
    if (mem.yieldedAtRv !== undefined && lease?.resourceVersion !== mem.yieldedAtRv) mem.yieldedAtRv = undefined;

    const eligible = this.eligibleNodes(a);
    const holder = lease?.holder ?? '';
    if (holder !== '') mem.lastHolder = holder;
    const holderLive = holder !== '' && (holder === d.me ? !this.leaving : d.liveness.live(holder));
    const decision = decide({ ip, me: d.me, lease, holderLive, eligible, selfHealthy: d.selfHealthy() && !this.leaving });
    const responder = d.responderFor(a.interfaceSpec);
    d.log.debug({ ip, decision, holder, holderLive, eligible, announcing: current !== undefined }, 'decided');

    switch (decision.action) {
      case 'hold': {
        mem.freeSince = undefined;
        if (!d.selfHealthy() && !d.outageMode) {
          // Fenced: someone may take over soon, so stop before they start.
          if (current !== undefined) this.withdraw(ip, current, 'liveness lease not renewed in time');
          mem.confirmed = false;
          return;
        }
        if (current !== undefined && current !== responder) this.withdraw(ip, current, 'pool moved to another interface');
        if (responder === undefined || responder.holds(ip)) return;
        if (!mem.confirmed || mem.yieldedAtRv !== undefined) {
          if (!d.selfHealthy() || lease === undefined || !(await this.confirm(lease))) return;
          this.wrote(mem, lease);
          mem.yieldedAtRv = undefined;
        }
        this.announce(ip, a, responder, 'resumed');
        return;
      }
      case 'release': {
        if (mem.releasingSince === undefined && lease !== undefined) {
          try {
            await d.store.update({ ...lease, holder: '', renewTime: microTime(d.clock.wallNow()) });
            this.wrote(mem, lease);
            mem.releasingSince = d.clock.now();
            d.log.info({ ip, reason: decision.reason }, 'released the IP for a successor; answering until it announces');
          } catch (err) {
            d.log.debug({ ip, err }, 'could not release the IP lease yet');
            return;
          }
        }
        this.keepAnsweringWhileHandingOver(ip, mem, current);
        return;
      }
      case 'follow': {
        mem.freeSince = undefined;
        mem.confirmed = false;
        mem.releasingSince = undefined;
        if (current !== undefined) this.withdraw(ip, current, `${decision.holder} holds it`);
        return;
      }
      case 'idle': {
        if (mem.releasingSince !== undefined) this.keepAnsweringWhileHandingOver(ip, mem, current);
        else if (current !== undefined) this.withdraw(ip, current, decision.reason);
        mem.confirmed = false;
        return;
      }
      case 'acquire': {
        // The lease vanished (deleted by hand) while this node still answers: it re-takes it at once and keeps
        // answering, and the others give it a rank's head start. Otherwise nobody answers for a lease not ours.
        const stillAnswering = current !== undefined && lease === undefined && mem.lastHolder === d.me;
        if (current !== undefined && !stillAnswering) this.withdraw(ip, current, 'its lease is not ours');
        const headStart =
          lease === undefined && mem.lastHolder !== undefined && mem.lastHolder !== d.me && d.liveness.live(mem.lastHolder) ? 1 : 0;
        const now = d.clock.now();
        mem.freeSince ??= now;
        const due = stillAnswering ? now : mem.freeSince + (decision.rank + headStart) * d.rankDelayMs;
        if (now < due) {
          d.schedule(ip, due - now);
          return;
        }
        if (responder === undefined) return;
        if (await this.acquire(ip, lease)) {
          this.wrote(mem, lease);
          mem.confirmed = true;
          mem.releasingSince = undefined;
          d.metrics.handoverSeconds.observe(
            { kind: decision.previousHolder === undefined ? 'acquire' : 'takeover' },
            (d.clock.now() - mem.freeSince) / 1000,
          );
          mem.freeSince = undefined;
          if (!stillAnswering)
            this.announce(
              ip,
              a,
              responder,
              decision.previousHolder === undefined ? 'acquired' : `took over from ${decision.previousHolder}`,
            );
        } else if (stillAnswering) {
          this.withdraw(ip, current, 'another speaker re-created the deleted lease first');
        }
        return;
      }
    }
  };

  /**
   * Another MAC announced an IP we answer for: yield at once (this runs in
   * the frame callback, before the next frame is read), then let reconcile
   * ask the API server who really holds it.
   */
  onForeignClaim = (ip: string, mac: string): void => {
    const d = this.d;
    const responder = d.responders().find((r) => r.holds(ip));
    if (responder !== undefined) responder.withdraw(ip);
    const mem = this.memoryOf(ip);
    if (mem.releasingSince !== undefined) {
      d.metrics.handoverSeconds.observe({ kind: 'release' }, (d.clock.now() - mem.releasingSince) / 1000);
      mem.releasingSince = undefined;
    }
    mem.yieldedAtRv = d.leases.get(ipLeaseName(ip))?.resourceVersion ?? '';
    mem.confirmed = false;
    d.metrics.foreignClaims.inc({ ip });
    d.metrics.ipsHeld.set(this.heldCount());
    d.log.info({ ip, mac }, 'another node announced the IP: yielded');
    d.schedule(ip, 0);
  };

  /** A link lost its carrier: what it announced must be confirmed again before answering resumes. */
  linkDown(responder: ArpResponder): void {
    for (const ip of responder.addresses()) this.memoryOf(ip).confirmed = false;
    responder.withdrawAll();
    this.d.metrics.ipsHeld.set(this.heldCount());
  }

  /** SIGTERM: stop taking IPs, release every held one, answer until successors announce (or time runs out). */
  async handOverAll(ips: Iterable<string>): Promise<void> {
    this.leaving = true;
    for (const ip of ips) await this.reconcile(ip).catch((err: unknown) => this.d.log.warn({ ip, err }, 'hand-over step failed'));
    const deadline = this.d.clock.now() + this.d.handoverTimeoutMs;
    while (this.heldCount() > 0 && this.d.clock.now() < deadline) await this.d.clock.sleep(20);
    for (const r of this.d.responders()) r.withdrawAll();
    this.d.metrics.ipsHeld.set(0);
  }

  private wrote(mem: IpMemory, replaced: LeaseRecord | undefined): void {
    mem.wroteOver = { rv: replaced?.resourceVersion ?? 'absent', at: this.d.clock.now() };
  }

  private keepAnsweringWhileHandingOver(ip: string, mem: IpMemory, current: ArpResponder | undefined): void {
    if (current === undefined) return;
    const since = mem.releasingSince ?? this.d.clock.now();
    const left = since + this.d.handoverTimeoutMs - this.d.clock.now();
    if (left <= 0) {
      this.withdraw(ip, current, 'no successor announced in time');
      mem.releasingSince = undefined;
    } else {
      this.d.schedule(ip, left);
    }
  }

  private eligibleNodes(a: Announcement): string[] {
    const d = this.d;
    const candidates = new Set([...d.liveness.liveNodes(), d.me]);
    return [...candidates].filter((n) => {
      const self = n === d.me;
      return (
        ineligibility(n, {
          node: d.node(n),
          live: self ? !this.leaving : d.liveness.live(n),
          pools: self ? d.selfPools() : d.liveness.pools(n),
          pool: a.pool,
          endpointNodes: a.endpointNodes,
        }) === undefined
      );
    });
  }

  private async acquire(ip: string, lease: LeaseRecord | undefined): Promise<boolean> {
    const d = this.d;
    const wall = microTime(d.clock.wallNow());
    try {
      if (lease === undefined) {
        await d.store.create({
          name: ipLeaseName(ip),
          holder: d.me,
          durationSeconds: d.ipLeaseDurationSeconds,
          acquireTime: wall,
          renewTime: wall,
          transitions: 0,
          resourceVersion: undefined,
          labels: leaseLabels('ip'),
          annotations: { [LEASE_IP_ANNOTATION]: ip },
        });
      } else {
        await d.store.update({ ...lease, holder: d.me, acquireTime: wall, renewTime: wall, transitions: lease.transitions + 1 });
      }
      d.metrics.elections.inc({ result: 'won' });
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'K8S_CONFLICT' || code === 'K8S_ALREADY_EXISTS') {
        d.metrics.elections.inc({ result: 'lost' });
        d.log.debug({ ip }, 'another speaker took the IP first');
        return false;
      }
      throw err;
    }
  }

  /** A guarded write that changes nothing but proves the lease is still ours at the version we saw. */
  private async confirm(lease: LeaseRecord): Promise<boolean> {
    try {
      await this.d.store.update({ ...lease, renewTime: microTime(this.d.clock.wallNow()) });
      return true;
    } catch (err) {
      this.d.log.info(
        { ip: lease.annotations?.[LEASE_IP_ANNOTATION], code: (err as { code?: unknown }).code },
        'lease no longer ours as seen; not answering',
      );
      return false;
    }
  }

  private async deleteLease(lease: LeaseRecord): Promise<void> {
    await this.d.store
      .delete?.(lease)
      .catch((err: unknown) => this.d.log.debug({ err, lease: lease.name }, 'could not delete an orphaned IP lease'));
  }

  private announce(ip: string, a: Announcement, responder: ArpResponder, how: string): void {
    responder.announce(ip);
    this.d.metrics.ipsHeld.set(this.heldCount());
    const msg = `announcing ${ip} from node ${this.d.me} (${responder.link.name}, ${responder.link.mac})`;
    this.d.log.info({ ip, eip: a.pool, interface: responder.link.name, how }, 'announcing');
    for (const svc of a.services)
      this.d.events.record({ apiVersion: 'v1', kind: 'Service', metadata: svc.metadata }, 'Normal', 'NodeAssigned', msg);
  }

  private withdraw(ip: string, responder: ArpResponder, why: string): void {
    responder.withdraw(ip);
    this.d.metrics.ipsHeld.set(this.heldCount());
    this.d.log.info({ ip, reason: why }, 'stopped announcing');
  }

  private heldCount(): number {
    return this.d.responders().reduce((n, r) => n + r.addresses().length, 0);
  }

  private memoryOf(ip: string): IpMemory {
    let m = this.memory.get(ip);
    if (m === undefined) {
      m = { confirmed: false };
      this.memory.set(ip, m);
    }
    return m;
  }
}
