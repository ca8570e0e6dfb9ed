// Per external IP, runs the state machine of ip-state.ts: reads the caches,
// asks decide() what the Lease and liveness call for, and carries out the
// transition's effects: Lease writes (ip-lease-writes.ts), licenses and
// gratuitous bursts on the interface's responder, Events, metrics,
// wake-ups. reconcile(ip) is idempotent and reads only caches; the speaker's
// work queue runs it whenever anything about the IP may have changed, at
// the times a transition asks for, and on a slow periodic resync.
//
// A write that fails with anything but a lost race throws, so the work
// queue retries it with backoff: a transient error while confirming or
// releasing must never leave an IP unanswered or stuck on a node.
import type { Clock } from '../clock.js';
import type { EventSink } from '../k8s/event-recorder.js';
import type { LeaseRecord } from '../k8s/lease-store.js';
import { OwnWrites } from '../k8s/own-writes.js';
import type { Node } from '../k8s/types.js';
import type { Grant, YieldReason } from '../layer2/link.js';
import type { ArpResponder } from '../layer2/responder.js';
import type { Logger } from '../observability/logger.js';
import type { Announcement } from './announcements.js';
import { type Ineligibility, ineligibility } from './eligibility.js';
import { decide } from './ip-decision.js';
import type { IpLeaseWrites } from './ip-lease-writes.js';
import {
  afterLinkDown,
  afterWrite,
  afterYield,
  answering,
  HANDOVER_WINDOW_MS,
  type IpContext,
  type IpEffect,
  type IpState,
  type Transition,
  transition,
} from './ip-state.js';
import type { PeerLiveness } from './peer-liveness.js';
import { rank } from './rendezvous.js';
import type { SpeakerMetrics } from './speaker-metrics.js';

/** What the announcer reads: the caches, as the speaker sees them now. */
export interface AnnouncerView {
  announcements(): ReadonlyMap<string, Announcement>;
  /** The IP's Lease in the cache. */
  lease(ip: string): LeaseRecord | undefined;
  /**
   * When (local clock) the cache first saw the IP's Lease naming nobody, in its current stretch of
   * naming nobody: the watch event's arrival, not a later reconcile, so the hand-over window a
   * successor waits out is counted from as close to the release as this node can know.
   */
  leaseFreeSince?(ip: string): number | undefined;
  node(name: string): Node | undefined;
  /** Pools this node can serve (it has their interface, with carrier). */
  selfPools(): ReadonlySet<string>;
}

/** This speaker's own health, from its liveness renewals. */
export interface Health {
  healthy(): boolean;
  /** Local time until which the last successful renewal keeps this speaker healthy. */
  healthyUntil(): number;
  /** Bumped each time health is lost: what was confirmed before must be confirmed again before it is defended. */
  epoch(): number;
}

/** The responders of this node's interfaces. */
export interface ResponderDirectory {
  /** The responder for a pool's interface spec (opened on first use), or undefined if this node lacks it. */
  forPool(interfaceSpec: string): ArpResponder | undefined;
  /** The open responder of an interface, by name. */
  byName(ifname: string): ArpResponder | undefined;
}

export interface AnnouncerTiming {
  outageMode: boolean;
  /** Extra wait per rank before trying to take a free IP, so the best-ranked node usually goes alone. */
  rankDelayMs: number;
  /** How long a releasing holder keeps answering while waiting for its successor's gratuitous ARP. */
  handoverTimeoutMs: number;
  /**
   * Hand IPs to better-ranked nodes live at least settleMs, at most one per intervalMs; undefined: sticky.
   * vouched, when given, must also say yes for a node (slow liveness: it acks this holder's heartbeats).
   */
  rebalance: { settleMs: number; intervalMs: number; vouched?: (node: string) => boolean } | undefined;
}

export interface AnnouncerDeps {
  me: string;
  clock: Clock;
  log: Logger;
  view: AnnouncerView;
  liveness: PeerLiveness;
  health: Health;
  writes: IpLeaseWrites;
  responders: ResponderDirectory;
  events: EventSink;
  metrics: SpeakerMetrics;
  /** Re-run reconcile(ip) after ms. */
  schedule: (ip: string, ms: number) => void;
  /** The set of IPs this speaker answers (or is taking) changed: answeringIps() says what it is now. */
  answeringChanged?: () => void;
  timing: AnnouncerTiming;
}

// Longest we wait for our own write to show up in the cache before deciding on what the cache says anyway.
const OWN_WRITE_ECHO_MS = 5_000;
// Defence against a conflicting claim: re-announce at once, then back off (doubling) up to a minute, so a
// host that keeps claiming (a leftover OpenELB speaker) meets one announcement a minute, not a storm.
const DEFEND_FIRST_BACKOFF_MS = 1_000;
const DEFEND_MAX_BACKOFF_MS = 60_000;
// A conflict this long after the last one starts the backoff afresh (RFC 5227's DEFEND_INTERVAL is 10 s).
const DEFEND_RESET_MS = 10 * 60_000;
// Rebalancing: a better-ranked node settled by time but not yet vouched for is looked at again this soon,
// rather than at the next resync: its vouching (acks for the settle time) lags its record by about a second.
const VOUCH_RECHECK_MS = 1_000;
// ... for this long after it settled by time: its acks start within a plan refresh (1 s) of its record.
const VOUCH_WAIT_MS = 5_000;

/** How long from now the reader may answer an IP, and defend it against claims. */
interface Windows {
  answerMs: number;
  defendMs: number;
}

interface Defence {
  count: number;
  nextAt: number;
  lastAt: number;
}

export class IpAnnouncer {
  private readonly states = new Map<string, IpState>();
  private readonly gens = new Map<string, number>();
  private readonly lastHolder = new Map<string, string>();
  private readonly defences = new Map<string, Defence>();
  private readonly ownWrites: OwnWrites;
  private leaving = false;
  /** When this speaker began leaving (SIGTERM), before its liveness release: every answer of ours ends by then + the hand-over timeout. */
  private leavingSince: number | undefined;
  /** IPs with a Lease write in flight, and those a reconcile skipped meanwhile (looked at again once it ends). */
  private readonly writing = new Set<string>();
  private readonly skippedWhileWriting = new Set<string>();
  private lastRebalanceAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: AnnouncerDeps) {
    this.ownWrites = new OwnWrites(deps.clock, OWN_WRITE_ECHO_MS);
  }

  /** The state of an IP (for tests and debugging). */
  stateOf(ip: string): IpState {
    return this.states.get(ip) ?? { kind: 'idle' };
  }

  reconcile = async (ip: string): Promise<void> => {
    const { view, me } = this.deps;
    // One decision at a time per IP: the hand-over on SIGTERM reconciles outside the work queue, and a
    // watch event (our own write's echo) can arrive before the write's answer, while the state is still old.
    if (this.writing.has(ip)) {
      this.skippedWhileWriting.add(ip);
      return;
    }
    const lease = view.lease(ip);
    if (this.ownWrites.awaitingEcho(ip, lease?.resourceVersion)) return;
    const a = view.announcements().get(ip);
    const state = this.stateOf(ip);
    if (a === undefined) {
      if (answering(state) || state.kind === 'yielded') this.silence(ip, state, 'no longer an external IP');
      this.states.delete(ip);
      this.defences.delete(ip);
      if (lease !== undefined && lease.holder === me) await this.write(ip, state, { kind: 'delete-lease' }, this.context(undefined, lease));
      return;
    }
    if (a.follows !== undefined) {
      this.follow(ip, a, state);
      return;
    }
    if (lease !== undefined && lease.holder !== '') this.lastHolder.set(ip, lease.holder);
    const eligible = this.eligibleNodes(a);
    const holder = lease?.holder ?? '';
    const holderLive = holder !== '' && (holder === me ? !this.leaving : this.deps.liveness.holdsIps(holder));
    const selfHealthy = this.deps.health.healthy() && !this.leaving;
    const decision = decide({
      ip,
      me,
      lease,
      holderLive,
      eligible,
      selfHealthy,
      selfIneligible: this.whyIneligible(me, a),
      rebalance: this.rebalanceInput(ip, state, eligible),
    });
    if (decision.action === 'release' && decision.reason === 'rebalance') {
      this.lastRebalanceAt = this.deps.clock.now();
      this.deps.log.info({ ip, to: decision.to }, 'rebalancing: handing the IP to a better-ranked node');
    }
    const ctx = this.context(a, lease);
    this.deps.log.debug({ ip, decision, state: state.kind, holder, holderLive, eligible }, 'decided');
    await this.run(ip, transition(state, decision, ctx), ctx);
  };

  /** The reader yielded ip at gen: another MAC claimed it, or an overrun may have hidden a claim. */
  onYield(ip: string, gen: number, reason: YieldReason, mac: string | undefined): void {
    const state = this.stateOf(ip);
    if (reason === 'claim') this.deps.metrics.foreignClaims.inc({ ip });
    else this.deps.metrics.overrunYields.inc();
    if (state.kind === 'releasing' && state.gen === gen) {
      this.deps.metrics.handoverSeconds.observe({ kind: 'release' }, (this.deps.clock.now() - state.since) / 1000);
    }
    this.deps.log.info(
      { ip, gen, mac, reason, state: state.kind },
      reason === 'claim' ? 'another MAC announced the IP: yielded' : 'receive overrun: yielded',
    );
    this.apply(ip, afterYield(state, gen));
  }

  /** Another MAC claimed ip while this node defends it: the reader kept answering; re-announce, with backoff. */
  onConflict(ip: string, gen: number, mac: string): void {
    const state = this.stateOf(ip);
    if (state.kind !== 'holding' || state.gen !== gen) return;
    const now = this.deps.clock.now();
    const prior = this.defences.get(ip);
    const d: Defence =
      prior === undefined || now - prior.lastAt > DEFEND_RESET_MS ? { count: 0, nextAt: now, lastAt: now } : { ...prior, lastAt: now };
    this.deps.metrics.ipConflicts.inc({ ip });
    const a = this.deps.view.announcements().get(ip);
    const msg = `another host (MAC ${mac}) claims ${ip}, which node ${this.deps.me} holds; re-announcing ${ip} as its own`;
    for (const svc of a?.services ?? [])
      this.deps.events.record({ apiVersion: 'v1', kind: 'Service', metadata: svc.metadata }, 'Warning', 'IPConflict', msg);
    if (now >= d.nextAt) {
      const result = this.deps.responders.byName(state.iface)?.reannounce(ip);
      d.count++;
      d.nextAt = now + Math.min(DEFEND_MAX_BACKOFF_MS, DEFEND_FIRST_BACKOFF_MS * 2 ** (d.count - 1));
      this.deps.log.warn({ ip, mac, result, nextDefenceInMs: d.nextAt - now }, 'address conflict: defending');
    } else {
      this.deps.log.debug({ ip, mac }, 'address conflict: defence backing off');
    }
    this.defences.set(ip, d);
  }

  /** This process stalled past the readers' alive window: stop answering everything until it is confirmed again. */
  stalled(): void {
    for (const [ip, state] of [...this.states]) {
      if (state.kind === 'holding') {
        this.deps.responders.byName(state.iface)?.withdraw(ip);
        this.apply(ip, { next: { kind: 'yielded', gen: state.gen, iface: state.iface }, effects: [{ kind: 'wake', afterMs: 0 }] });
      } else if (state.kind === 'releasing') {
        this.apply(ip, {
          next: { kind: 'idle' },
          effects: [{ kind: 'silence', iface: state.iface, reason: 'stalled while handing over' }],
        });
      }
    }
  }

  /** A link lost carrier or is being reopened: what it answered must be confirmed again. */
  linkDown(iface: string): void {
    for (const [ip, state] of [...this.states]) this.apply(ip, afterLinkDown(state, iface));
  }

  /**
   * After a renewal or a change of health: every answering IP gets licensed for the windows that apply now.
   * With heartbeats this runs every tick (100 ms, the fence moves with acks): IPs with the same windows on a
   * link go to its reader in one grant, not one each (at 250 IPs, one call a tick instead of 250, and most
   * of the speaker's garbage gone).
   */
  relicenseAll(): void {
    // A holding's windows depend only on its link and on whether it was confirmed in the current epoch; a
    // release's on its own window (licensed one by one, they are few and short-lived).
    const epoch = this.deps.health.epoch();
    const batches = new Map<string, { current: Grant[]; older: Grant[] }>();
    for (const [ip, state] of this.states) {
      if (state.kind === 'releasing') this.license(ip, state);
      if (state.kind !== 'holding') continue;
      let b = batches.get(state.iface);
      if (b === undefined) {
        b = { current: [], older: [] };
        batches.set(state.iface, b);
      }
      (state.epoch === epoch ? b.current : b.older).push({ ip, gen: state.gen });
    }
    for (const [iface, b] of batches) {
      for (const [grants, confirmedNow] of [
        [b.current, true],
        [b.older, false],
      ] as const) {
        if (grants.length === 0) continue;
        const w = this.holdingWindows(confirmedNow);
        const responder = this.deps.responders.byName(iface);
        const refused = responder === undefined ? grants.map((g) => g.ip) : responder.licenseMany(grants, w.answerMs, w.defendMs);
        // Refused: the reader yielded that generation already (its event is on the way), or the link is gone.
        for (const ip of refused) {
          const state = this.stateOf(ip);
          if (answering(state)) this.apply(ip, afterYield(state, state.gen));
        }
      }
    }
  }

  /**
   * IPs this speaker answers for now (holding or releasing), or won and will answer once the hand-over
   * window is over (taking): the ones it beats for (beat-plan.ts), so its standbys hear it from the moment
   * it owns the Lease, not a window later.
   */
  answeringIps(): string[] {
    return [...this.states].flatMap(([ip, s]) => (answering(s) || s.kind === 'taking' ? [ip] : []));
  }

  /**
   * Who may announce each IP now, as this speaker sees it (eligible and live, itself included): its
   * heartbeat candidates, for one synchronous pass over many IPs (the beat plan asks about every IP).
   * Eligibility depends on the IP only through its pool and its Local Services' endpoint nodes, so IPs of
   * one pool without a Local Service share one answer: a pass costs one eligibility check per pool and
   * node, not per IP and node (at 1,000 IPs on 50 nodes, 50,000 checks each plan refresh). Use the lookup
   * within the pass only: nothing it remembers sees a later change.
   */
  candidatesLookup(): (ip: string) => string[] {
    const byPool = new Map<string, string[]>();
    const announcements = this.deps.view.announcements();
    return (ip) => {
      const a = announcements.get(ip);
      if (a === undefined) return [];
      if (a.endpointNodes !== undefined) return this.eligibleNodes(a);
      let nodes = byPool.get(a.pool);
      if (nodes === undefined) {
        nodes = this.eligibleNodes(a);
        byPool.set(a.pool, nodes);
      }
      return nodes;
    };
  }

  /** IPs this speaker answers or was answering (holding, releasing or yielded). */
  activeIps(): string[] {
    return [...this.states].flatMap(([ip, s]) => (s.kind === 'idle' || s.kind === 'waiting' ? [] : [ip]));
  }

  /**
   * SIGTERM, before the liveness lease is released: from now on every IP is
   * answered undefended, and at most until now + the hand-over timeout (the
   * release says how long; peers take none of our IP Leases before that
   * time has passed since they saw the release: LivenessTracker.holdsIps).
   * Each IP is handed over by releasing its Lease, whose window the
   * successor waits out.
   */
  beginLeaving(): void {
    if (this.leavingSince !== undefined) return;
    this.leaving = true;
    this.leavingSince = this.deps.clock.now();
    for (const [ip, state] of this.states) if (answering(state)) this.license(ip, state, { defend: false });
  }

  /** SIGTERM: stop taking IPs, release every held one, answer until successors announce (or time runs out). */
  async handOverAll(ips: Iterable<string>): Promise<void> {
    this.beginLeaving();
    for (const ip of new Set([...ips, ...this.activeIps()])) {
      await this.reconcile(ip).catch((err: unknown) => this.deps.log.warn({ ip, err }, 'hand-over step failed'));
    }
    // Counted from before the liveness release, as the peers count it: none takes an IP of ours earlier.
    const deadline = (this.leavingSince ?? this.deps.clock.now()) + this.deps.timing.handoverTimeoutMs;
    // Poll (not per-IP promises): successors' claims arrive as reader events, in any order; 20 ms is below a watch hop.
    while (this.heldCount() > 0 && this.deps.clock.now() < deadline) await this.deps.clock.sleep(20);
    for (const [ip, state] of [...this.states]) if (answering(state) || state.kind === 'yielded') this.silence(ip, state, 'shutting down');
    this.deps.metrics.ipsHeld.set(0);
  }

  /**
   * What rebalancing may do for this IP now: which eligible nodes settled in
   * (live long enough), and whether a hand-over is allowed (a confirmed
   * holding, not rate limited). A hand-over held back by the rate limit is
   * looked at again when the limit allows.
   */
  private rebalanceInput(ip: string, state: IpState, eligible: readonly string[]): { settled: string[]; allowed: boolean } | undefined {
    const rb = this.deps.timing.rebalance;
    if (rb === undefined || state.kind !== 'holding' || state.epoch !== this.deps.health.epoch()) return undefined;
    const now = this.deps.clock.now();
    // An IP just taken stays put for a settle time too: no ping-pong while the cluster is still changing.
    // One expression decides and schedules: `now - since < settle` and `since + settle - now > 0` can disagree in
    // floating point, and a wake-up of 0 ms would spin the work queue without letting time pass.
    const settling = state.since + rb.settleMs - now;
    if (settling > 0) {
      this.deps.schedule(ip, settling);
      return undefined;
    }
    const settledByTime = eligible.filter(
      (n) => n !== this.deps.me && (this.deps.liveness.liveSince(n) ?? Number.POSITIVE_INFINITY) <= now - rb.settleMs,
    );
    const settled = settledByTime.filter((n) => rb.vouched?.(n) ?? true);
    const better = (n: string): boolean => rank(ip, [this.deps.me, n])[0] === n;
    // A better-ranked node still settling in: look again when it has (not at the next resync, up to 12 s later).
    const settlingAt = eligible
      .filter((n) => n !== this.deps.me && !settledByTime.includes(n) && better(n))
      .map((n) => (this.deps.liveness.liveSince(n) ?? Number.POSITIVE_INFINITY) + rb.settleMs - now)
      .filter((ms) => ms > 0 && Number.isFinite(ms));
    // One settled by time but not vouched for yet (its acks began later than its record): look again soon, for
    // a while; one that never is (a crashed speaker's record stays) is left to the resync.
    const vouchingLags = (n: string): boolean =>
      !settled.includes(n) && better(n) && now < (this.deps.liveness.liveSince(n) ?? now) + rb.settleMs + VOUCH_WAIT_MS;
    if (settledByTime.some(vouchingLags)) settlingAt.push(VOUCH_RECHECK_MS);
    if (settlingAt.length > 0) this.deps.schedule(ip, Math.min(...settlingAt));
    const wait = this.lastRebalanceAt + rb.intervalMs - now;
    if (wait > 0 && rank(ip, [this.deps.me, ...settled])[0] !== this.deps.me) this.deps.schedule(ip, wait);
    return { settled, allowed: wait <= 0 };
  }

  private context(a: Announcement | undefined, lease: LeaseRecord | undefined): IpContext {
    const { clock, health, timing, me, responders } = this.deps;
    const ip = a?.ip ?? '';
    const last = this.lastHolder.get(ip);
    return {
      now: clock.now(),
      epoch: health.epoch(),
      healthy: health.healthy() && !this.leaving,
      outageMode: timing.outageMode,
      iface: a === undefined ? undefined : responders.forPool(a.interfaceSpec)?.name,
      leaseAbsent: lease === undefined,
      leaseFreeSince: lease !== undefined && lease.holder === '' ? this.deps.view.leaseFreeSince?.(ip) : undefined,
      lastHolderWasMe: last === me,
      headStart: lease === undefined && last !== undefined && last !== me && this.deps.liveness.live(last),
      rankDelayMs: timing.rankDelayMs,
    };
  }

  /** Carries out a transition: state first, then effects in order; a write feeds its outcome back. */
  private async run(ip: string, t: Transition, ctx: IpContext): Promise<void> {
    const before = this.stateOf(ip);
    this.states.set(ip, t.next);
    if (before.kind !== t.next.kind) this.kindChanged(ip, before, t.next);
    for (const effect of t.effects) {
      if (isWrite(effect)) {
        await this.write(ip, before, effect, ctx);
        return;
      }
      this.effect(ip, t.next, effect);
    }
    this.deps.metrics.ipsHeld.set(this.heldCount());
  }

  /** Applies a transition that has no writes (reader events); a write asked for is left to the next reconcile. */
  private apply(ip: string, t: Transition): void {
    const before = this.states.get(ip);
    this.states.set(ip, t.next);
    if (before?.kind !== t.next.kind) this.kindChanged(ip, before ?? { kind: 'idle' }, t.next);
    else if (answering(t.next) && answering(before) && before.gen !== t.next.gen) this.wakeFollowers(ip);
    for (const effect of t.effects) if (!isWrite(effect)) this.effect(ip, t.next, effect);
    this.deps.metrics.ipsHeld.set(this.heldCount());
  }

  private async write(
    ip: string,
    before: IpState,
    effect: Extract<IpEffect, { kind: 'confirm' | 'acquire' | 'retake' | 'release' | 'delete-lease' }>,
    ctx: IpContext,
  ): Promise<void> {
    const lease = this.deps.view.lease(ip);
    // Undefended before the write: the successor may see the lease free (and claim the IP) before our answer
    // comes back, and a defended holder would fight it.
    // A release also starts the hand-over window now: the successor cannot see the lease free before this moment.
    const current = this.stateOf(ip);
    const writeStartedAt = this.deps.clock.now();
    if ((effect.kind === 'release' || effect.kind === 'delete-lease') && current.kind === 'holding') {
      this.license(ip, current, { defend: false, until: writeStartedAt + HANDOVER_WINDOW_MS });
      this.deps.responders.byName(current.iface)?.quiet(ip);
    }
    this.writing.add(ip);
    let result: Awaited<ReturnType<IpLeaseWrites['perform']>>;
    try {
      result = await this.deps.writes.perform(ip, effect, lease);
    } finally {
      this.writing.delete(ip);
      if (this.skippedWhileWriting.delete(ip)) this.deps.schedule(ip, 0);
    }
    if (result.replaced !== undefined) this.ownWrites.wrote(ip, [result.replaced]);
    this.deps.metrics.elections.inc({ result: `${effect.kind}-${result.outcome}` });
    if (effect.kind === 'acquire' && result.outcome === 'won') {
      const waited = before.kind === 'waiting' ? ctx.now - before.freeSince : 0;
      this.deps.metrics.handoverSeconds.observe({ kind: effect.previousHolder === undefined ? 'acquire' : 'takeover' }, waited / 1000);
    }
    const nextGen = (this.gens.get(ip) ?? 0) + 1;
    // Health as it is now, not as it was when the write started: a process frozen while its write was under way
    // learns only now that its renewals lapsed meanwhile (the epoch moved on), and must not announce on old proof.
    const { health } = this.deps;
    const after: IpContext = {
      ...ctx,
      now: this.deps.clock.now(),
      writeStartedAt,
      writeEpoch: ctx.epoch,
      epoch: health.epoch(),
      healthy: health.healthy() && !this.leaving,
    };
    const t = afterWrite(this.stateOf(ip), effect, result.outcome, after, nextGen);
    if ((t.next.kind === 'holding' || t.next.kind === 'taking') && t.next.gen === nextGen) this.gens.set(ip, nextGen);
    this.apply(ip, t);
  }

  private effect(ip: string, state: IpState, effect: IpEffect): void {
    switch (effect.kind) {
      case 'license':
        if (!answering(state)) return;
        this.license(ip, state);
        // Handing over: answer through the window, but announce nothing more (see ArpResponder.quiet).
        if (effect.mode === 'hand-over') this.deps.responders.byName(state.iface)?.quiet(ip);
        return;
      case 'announce':
        if (state.kind === 'holding') this.announce(ip, state, effect.how);
        return;
      case 'silence':
        this.deps.responders.byName(effect.iface)?.withdraw(ip);
        this.deps.log.info({ ip, reason: effect.reason }, 'stopped announcing');
        return;
      case 'wake':
        this.deps.schedule(ip, effect.afterMs);
        return;
      default:
        return;
    }
  }

  /**
   * The IPv6 address of a dual-stack Service mirrors its IPv4 address: held
   * here exactly while the IPv4 address is (its Lease is the proof for
   * both), handed over with it, yielded on its own claims like any other.
   * A yielded follower is held again (announcing afresh) once the leader is
   * confirmed in the current epoch; it never writes a Lease.
   */
  private follow(ip: string, a: Announcement, state: IpState): void {
    const leader = this.stateOf(a.follows as string);
    const iface = this.deps.responders.forPool(a.interfaceSpec)?.name;
    const now = this.deps.clock.now();
    const hold = (announce: boolean): void => {
      if (iface === undefined || leader.kind !== 'holding') return;
      const gen = (this.gens.get(ip) ?? 0) + 1;
      this.gens.set(ip, gen);
      const next: IpState = { kind: 'holding', gen, epoch: leader.epoch, iface, since: now };
      const effects: IpEffect[] = [{ kind: 'license', mode: 'hold' }];
      if (announce) effects.push({ kind: 'announce', how: `with ${a.follows}` });
      this.apply(ip, { next, effects });
    };
    if (leader.kind === 'holding' && iface !== undefined) {
      if (state.kind === 'holding' && state.iface === iface) {
        if (state.epoch !== leader.epoch)
          this.apply(ip, { next: { ...state, epoch: leader.epoch }, effects: [{ kind: 'license', mode: 'hold' }] });
        return;
      }
      if (state.kind === 'yielded' && leader.epoch !== this.deps.health.epoch()) return;
      if (answering(state) || state.kind === 'yielded')
        this.effect(ip, state, { kind: 'silence', iface: state.iface, reason: 'moved with its IPv4 address' });
      hold(true);
      return;
    }
    if (leader.kind === 'releasing' && state.kind === 'holding') {
      this.apply(ip, {
        next: { kind: 'releasing', gen: state.gen, iface: state.iface, since: leader.since },
        effects: [{ kind: 'license', mode: 'hand-over' }],
      });
      return;
    }
    if (leader.kind === 'releasing' && state.kind === 'releasing') return;
    if (state.kind !== 'idle' && state.kind !== 'waiting')
      this.apply(ip, {
        next: { kind: 'idle' },
        effects: [{ kind: 'silence', iface: state.iface, reason: `${a.follows} is not held here` }],
      });
  }

  /** An IP's state changed kind: its followers look again, and who beats to whom may have changed. */
  private kindChanged(ip: string, before: IpState, after: IpState): void {
    this.wakeFollowers(ip);
    const beats = (s: IpState): boolean => answering(s) || s.kind === 'taking';
    if (beats(before) !== beats(after)) this.deps.answeringChanged?.();
  }

  /** A leader's state changed: its followers (dual-stack IPv6 addresses) look again. */
  private wakeFollowers(ip: string): void {
    for (const a of this.deps.view.announcements().values()) if (a.follows === ip) this.deps.schedule(a.ip, 0);
  }

  /**
   * The reader's windows for an answering IP, from this speaker's health now; `defend: false` answers
   * undefended, `until` caps the answer window (a release under way).
   */
  private license(
    ip: string,
    state: Extract<IpState, { kind: 'holding' | 'releasing' }>,
    opts: { defend?: boolean; until?: number } = {},
  ): void {
    const { answerMs, defendMs } = this.windows(state, opts);
    const responder = this.deps.responders.byName(state.iface);
    if (responder === undefined || !responder.license(ip, state.gen, answerMs, defendMs)) {
      // Refused: the reader yielded this generation already (its event is on the way), or the link is gone.
      this.apply(ip, afterYield(state, state.gen));
    }
  }

  /** The reader's answer and defend windows (ms from now) for an answering IP, from this speaker's health now. */
  private windows(state: Extract<IpState, { kind: 'holding' | 'releasing' }>, opts: { defend?: boolean; until?: number } = {}): Windows {
    // A hand-over answers, undefended, until its window is over (the successor starts then) or a claim; releasing is voluntary, so no health fence.
    if (state.kind === 'releasing')
      return this.capped({ answerMs: Math.max(0, state.since + HANDOVER_WINDOW_MS - this.deps.clock.now()), defendMs: 0 }, opts.until);
    return this.holdingWindows(state.epoch === this.deps.health.epoch(), opts);
  }

  /** A holding's windows: they depend only on whether it was confirmed in the current health epoch. */
  private holdingWindows(confirmedNow: boolean, opts: { defend?: boolean; until?: number } = {}): Windows {
    const { clock, health, timing } = this.deps;
    const healthy = health.healthy() && !this.leaving;
    const healthLeft = Math.max(0, health.healthyUntil() - clock.now());
    const answerMs = timing.outageMode ? Number.POSITIVE_INFINITY : healthy ? healthLeft : 0;
    const defendMs = (opts.defend ?? true) && healthy && confirmedNow ? healthLeft : 0;
    return this.capped({ answerMs, defendMs }, opts.until);
  }

  /** Caps answering at `until` (a release under way) and, once leaving, at the hand-over timeout, undefended. */
  private capped(w: Windows, until: number | undefined): Windows {
    const now = this.deps.clock.now();
    let { answerMs, defendMs } = w;
    if (until !== undefined) answerMs = Math.min(answerMs, Math.max(0, until - now));
    if (this.leavingSince !== undefined) {
      answerMs = Math.min(answerMs, Math.max(0, this.leavingSince + this.deps.timing.handoverTimeoutMs - now));
      defendMs = 0;
    }
    return { answerMs, defendMs };
  }

  private announce(ip: string, state: Extract<IpState, { kind: 'holding' }>, how: string): void {
    const responder = this.deps.responders.byName(state.iface);
    if (responder === undefined) return;
    responder.announce(ip);
    const a = this.deps.view.announcements().get(ip);
    this.deps.log.info({ ip, eip: a?.pool, interface: state.iface, gen: state.gen, how }, 'announcing');
    const msg = `announcing ${ip} from node ${this.deps.me} (${state.iface}, ${responder.link.mac})`;
    for (const svc of a?.services ?? [])
      this.deps.events.record({ apiVersion: 'v1', kind: 'Service', metadata: svc.metadata }, 'Normal', 'NodeAssigned', msg);
  }

  private silence(ip: string, state: IpState | undefined, reason: string): void {
    if (state === undefined || state.kind === 'idle' || state.kind === 'waiting') return;
    this.deps.responders.byName(state.iface)?.withdraw(ip);
    this.deps.log.info({ ip, reason }, 'stopped announcing');
  }

  private eligibleNodes(a: Announcement): string[] {
    const { me } = this.deps;
    const out: string[] = [];
    // liveNodes() has judged each peer live already: asked again per node, liveness was a third of a
    // reconcile's cost at 50 nodes (bench-scale profile).
    for (const n of this.deps.liveness.liveNodes()) if (n !== me && this.whyIneligible(n, a, true) === undefined) out.push(n);
    if (this.whyIneligible(me, a) === undefined) out.push(me);
    return out;
  }

  /** live: already known (for a peer liveNodes() returned). */
  private whyIneligible(n: string, a: Announcement, live?: boolean): Ineligibility | undefined {
    const { me, liveness, view } = this.deps;
    const self = n === me;
    return ineligibility(n, {
      node: view.node(n),
      live: self ? !this.leaving : (live ?? liveness.live(n)),
      pools: self ? view.selfPools() : liveness.pools(n),
      pool: a.pool,
      endpointNodes: a.endpointNodes,
    });
  }

  private heldCount(): number {
    let n = 0;
    for (const s of this.states.values()) if (answering(s)) n++;
    return n;
  }
}

function isWrite(e: IpEffect): e is Extract<IpEffect, { kind: 'confirm' | 'acquire' | 'retake' | 'release' | 'delete-lease' }> {
  return e.kind === 'confirm' || e.kind === 'acquire' || e.kind === 'retake' || e.kind === 'release' || e.kind === 'delete-lease';
}
