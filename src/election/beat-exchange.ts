// One speaker's LAN heartbeats (docs/heartbeats.md). As a holder it beats
// every 100 ms to the standbys of the IPs it holds and keeps the ledger of
// their acks (beat-acks.ts) that fences its own defence; as a standby it
// acks the beats of the holders it watches and tells the speaker when one
// goes silent, so the first standby can take the IP's Lease in about half a
// second instead of waiting for the holder's liveness Lease to expire.
// Datagrams go through a BeatTransport (a UDP socket in production,
// net/udp-socket.ts; a simulated wire in tests); time through the Clock; who
// watches whom comes from a BeatPlan the speaker computes from its views
// (beat-watchers.ts).
//
// A silence is a reason to take over sooner than a Lease expiry, so it is
// believed only while it is the best evidence there is:
//  - a holder never heard is never silent (no key, UDP blocked, a speaker
//    without heartbeats): its standbys judge it by its Lease, as before;
//  - a renewal of the holder's liveness Lease seen during a silence proves it
//    alive: its beats are not believed again until one arrives;
//  - after this node's own event loop stalled, missed time is not missed
//    beats: everyone is forgotten and judged again once heard again;
//  - a silence is believed for believeMs after it begins, no longer.
// The Lease compare-and-swap stays the only ownership record; a silence only
// makes a standby try it sooner.
//
// An ack is a promise the holder counts on (beat-acks.ts): it is sent only
// for a beat this node put on record (fresh, or a replay of one not newer),
// or for a holder it does not watch and so keeps no record of.
//
// With the slow liveness Lease (options.witness), a silence is not enough:
// the silent holder's other standbys are asked, and only a silence a second
// standby witnessed is told to the speaker (beat-witness.ts); the ledger
// then promises the second-earliest accusation instead of the earliest.
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import { AckLedger, FAST_LEDGER } from './beat-acks.js';
import {
  type Beat,
  type BeatDropReason,
  type BeatKind,
  type BeatSubject,
  decodeBeat,
  encodeBeat,
  heldDigest,
  nameDigest,
} from './beat-codec.js';
import { type BeatTiming, BeatTracker, type BeatVerdict, DEFAULT_BEAT_TIMING, silenceMs } from './beat-tracker.js';
import { DEFAULT_FANOUT, type HeldIp, isStandby, standbysOf, watchersOf } from './beat-watchers.js';
import { WitnessBook, type WitnessTiming } from './beat-witness.js';

export interface Endpoint {
  host: string;
  port: number;
}

export interface BeatTransport {
  /** Sends one datagram; done reports a failure (the beat is lost, as on the wire). */
  send(datagram: Buffer, to: Endpoint, done: (err?: Error) => void): void;
  close(): void;
}

/** What the speaker's views say, asked after replan() (at the next tick) and every PLAN_IDLE_REFRESH_MS. */
export interface BeatPlan {
  /** IPs this node answers for, each with the nodes that could take it over. */
  held(): readonly HeldIp[];
  /** IPs other nodes hold (by their Leases), with their holders and candidates. */
  heldByOthers(): ReadonlyArray<HeldIp & { holder: string }>;
  /** Where a peer takes beats (from its liveness Lease); undefined: it takes none. */
  endpoint(node: string): Endpoint | undefined;
}

export type BeatReceipt =
  | BeatVerdict
  | 'not-watched'
  | 'ack'
  | 'answered' // a query this node answered as a witness (it finds the holder silent too)
  | 'not-silent' // a query about a holder this node hears (or does not watch): no answer
  | 'confirmed' // a witness's answer to a query of this node, still valid
  | 'late-witness'; // an answer to no valid query of this process (late, replayed, another boot)
export type BeatDrop =
  | BeatDropReason
  | 'own' // our own datagram came back
  | 'send-failed' // the socket refused to send it
  | 'after-stall' // read just after this node's own stall: no evidence of when it was sent
  | 'unmatched-ack' // an ack of no recent beat of this process to its sender (a previous process's, a replay)
  | 'ack-withheld'; // an ack not sent: this node witnessed the holder's silence moments ago (beat-witness.ts)

export interface BeatMetrics {
  sent(kind: BeatKind): void;
  received(kind: BeatKind, receipt: BeatReceipt): void;
  dropped(reason: BeatDrop): void;
  /** A watched holder went silent (the speaker looks at its IPs). */
  silenced(): void;
  /** A silence was contradicted by a renewal of the holder's liveness Lease. */
  contradicted(): void;
  watching(holders: number, watchers: number): void;
}

export interface BeatExchangeOptions {
  me: string;
  clock: Clock;
  log: Logger;
  /** The cluster's heartbeat key (at least MIN_KEY_LENGTH bytes). */
  key: Buffer;
  transport: BeatTransport;
  plan: BeatPlan;
  metrics: BeatMetrics;
  /** A watched holder went silent, or was heard (or renewed) again: its IPs need a fresh decision. */
  onChange: (holder: string, silent: boolean) => void;
  timing?: BeatTiming;
  fanout?: number;
  /** This process's boot id (16 hex); random when absent. The slow mode writes it on the Lease too. */
  bootId?: string;
  /** Slow liveness: a silence counts once a second standby witnessed it (beat-witness.ts). */
  witness?: WitnessTiming;
  /**
   * What this holder's beats say now (slow liveness): 'beat' as usual, 'lease-only' to ask its standbys to
   * read its Lease (it cannot renew, and answers on in outage mode), 'none' to stop beating (it cannot renew
   * and has stopped answering: its standbys should take over by silence). Its acks say whether it renews
   * too, so that no holder hands it an IP meanwhile. Absent: 'beat'.
   */
  beating?: () => 'beat' | 'lease-only' | 'none';
}

// The plan is recomputed at the next tick once the speaker says its views changed (replan(): Lease events,
// liveness, nodes, pools, Services, its resync), and at least this often regardless, for what only time
// changes (watcher grace, pruning). Recomputing it every second whatever happened ranked every IP's
// candidates each time: at 250 IPs, most of a slow-mode speaker's garbage (and RSS), for a plan that had
// not changed.
export const PLAN_IDLE_REFRESH_MS = 10_000;
// Whom this node watches (the holders of every IP it stands by for) is recomputed at most this often. It
// ranks the candidates of every IP in the cluster (at 1,000 IPs on 50 nodes, 50,000 scores, ~20 ms), and
// while owners settle, Lease events ask for a new plan several times a second: recomputed at each tick,
// it was a third of the CPU of 50 speakers in bench-scale, which stalled their event loops, which made
// them confirm every IP, which moved more Leases. A holder that just took an IP is watched by its new
// standbys up to this much later (its Lease judges it meanwhile). Whom this node beats to (its own IPs'
// standbys) is still recomputed at the next tick: few IPs, and a new holder's beats must start at once.
export const WATCHED_REFRESH_MIN_MS = 1_000;
// A node that stops being a watcher (views changed) keeps getting beats this long: its own view may lag
// ours, and a standby still expecting beats must not take their end for a death. Far above watch latency.
export const WATCHER_GRACE_MS = 30_000;
// A tick this late (two intervals) means this node's event loop stalled: it could not listen either. It also
// bounds how late this node reads a beat without noticing (beat-acks.ts counts on it).
const STALL_FACTOR = 2;

interface StandbyMemo {
  holder: string;
  /** The candidate set, as names joined. */
  set: string;
  standby: boolean;
  /** The IP's other standbys (witness queries go to them), when this node is one. */
  peers: string[];
}

export class BeatExchange {
  private readonly tracker: BeatTracker;
  private readonly ledger: AckLedger;
  private readonly timing: BeatTiming;
  readonly bootId: string;
  private readonly witnesses: WitnessBook | undefined;
  /** Holder → the other standbys of its IPs this node stands by for (whom a query about it goes to). */
  private peersOf = new Map<string, Set<string>>();
  /** nameDigest → watched holder, to read a query or witness. */
  private byDigest = new Map<string, string>();
  /** Holders whose witnessed silence the speaker was told of (onChange true), until it ends. */
  private readonly told = new Set<string>();
  private sequence = 0n;
  /** Node → until when it gets beats (Infinity while it is a watcher, then the grace). */
  private readonly watchers = new Map<string, number>();
  private watched = new Set<string>();
  /** Holder → until when its silence is believed. Cleared by a fresh beat, a renewal of its liveness Lease, a stall. */
  private readonly silentUntil = new Map<string, number>();
  /** Beats read before this (local clock) were queued during a stall of ours: dropped. */
  private deafUntil = Number.NEGATIVE_INFINITY;
  private digest = '0000000000000000';
  private lastTickAt: number | undefined;
  private planAt = Number.NEGATIVE_INFINITY;
  /**
   * IP → what the last refresh of whom this node watches found for it, reused while its holder and its
   * candidate set are unchanged: most refreshes change few IPs, and ranking every IP's candidates again
   * cost 20 ms at 1,000 IPs on 50 nodes.
   */
  private standbyMemo = new Map<string, StandbyMemo>();
  private watchedAt = Number.NEGATIVE_INFINITY;
  /** replan() asked for whom this node watches too, and the last refresh of it was too recent. */
  private watchedDue = false;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly o: BeatExchangeOptions) {
    this.timing = o.timing ?? DEFAULT_BEAT_TIMING;
    this.bootId = o.bootId ?? randomBytes(8).toString('hex');
    this.tracker = new BeatTracker(o.clock, this.timing);
    this.witnesses = o.witness === undefined ? undefined : new WitnessBook(o.witness, o.clock.now());
    this.ledger = new AckLedger(
      o.clock.now(),
      this.timing,
      STALL_FACTOR * this.timing.intervalMs,
      o.witness === undefined ? FAST_LEDGER : { witnesses: 2, startTail: false, extraTailMs: o.witness.validMs },
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      if (!this.running) return;
      this.tick();
      this.timer = this.o.clock.setTimeout(loop, this.timing.intervalMs);
    };
    loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Silent by heartbeats: heard before, nothing fresh for the silence window, not contradicted since, still believed. */
  isSilent(node: string): boolean {
    return (this.silentUntil.get(node) ?? Number.NEGATIVE_INFINITY) > this.o.clock.now();
  }

  /**
   * Slow liveness: the boot id of node's process if it is silent here and a
   * second standby witnessed that very boot silent within the validity of
   * its answer; undefined otherwise (and always without options.witness).
   */
  witnessedSilent(node: string): string | undefined {
    if (!this.isSilent(node)) return undefined;
    const boot = this.witnesses?.confirmed(node, this.o.clock.now());
    return boot !== undefined && boot === this.tracker.bootOf(node) ? boot : undefined;
  }

  /** Whether a fresh beat of node is on record (heard, not silent, not asking to be judged by its Lease). */
  hears(node: string): boolean {
    const quietFor = this.tracker.silentForMs(node);
    return quietFor !== undefined && quietFor < silenceMs(this.timing) && !this.tracker.leaseOnly(node);
  }

  /** Whether node acked a beat of this process sent within the last ms (it hears this node and is heard). */
  ackedWithin(node: string, ms: number): boolean {
    return this.ledger.ackedSince(node, this.o.clock.now() - ms);
  }

  /** Whether node has acked this process's beats for forMs without a break (beat-acks.ts ackedSteadily). */
  ackedSteadily(node: string, forMs: number): boolean {
    return this.ledger.ackedSteadily(node, this.o.clock.now(), forMs);
  }

  /** The earliest moment (local clock) any standby could call this node silent (beat-acks.ts). */
  ackHorizon(): number {
    return this.ledger.horizon(this.o.clock.now());
  }

  /** Who holds what may have changed: the next tick recomputes the plan. */
  replan(): void {
    this.planAt = Number.NEGATIVE_INFINITY;
    this.watchedDue = true;
  }

  /** One tick: the plan if due, the silences (unless this node stalled), the beats. */
  tick(): void {
    const now = this.o.clock.now();
    const gap = this.lastTickAt === undefined ? 0 : now - this.lastTickAt;
    this.lastTickAt = now;
    if (now - this.planAt >= PLAN_IDLE_REFRESH_MS) this.refreshPlan(now);
    if (this.watchedDue && now - this.watchedAt >= WATCHED_REFRESH_MIN_MS) this.refreshWatched(now);
    if (gap > STALL_FACTOR * this.timing.intervalMs) {
      this.o.log.warn({ stalledMs: Math.round(gap) }, 'heartbeats: this event loop stalled; everyone is judged again once heard again');
      this.stalled(now);
    } else {
      this.judge(now);
    }
    this.beat(now);
  }

  /** A datagram from the socket. */
  received(datagram: Buffer, from: Endpoint): void {
    const d = decodeBeat(datagram, this.o.key);
    if (!d.ok) {
      this.o.metrics.dropped(d.reason);
      return;
    }
    const b = d.value;
    if (b.sender === this.o.me) {
      this.o.metrics.dropped('own');
      return;
    }
    if (b.kind === 'ack') {
      if (b.ackOf === this.bootId && this.ledger.acked(b.sender, b.sequence, b.leaseOnly !== true)) this.o.metrics.received('ack', 'ack');
      else this.o.metrics.dropped('unmatched-ack');
      return;
    }
    if (this.o.clock.now() < this.deafUntil) {
      this.o.metrics.dropped('after-stall');
      return;
    }
    if (b.kind === 'query' || b.kind === 'witness') {
      this.witnessed(b, from);
      return;
    }
    if (!this.watched.has(b.sender)) {
      // Not a holder this node stands by for (and so none it keeps a record of): acked, so the holder
      // knows it is heard, but its end must not start a judgement.
      this.ack(b, from);
      this.o.metrics.received('beat', 'not-watched');
      return;
    }
    const verdict = this.tracker.heard(b);
    this.o.metrics.received('beat', verdict);
    if (verdict === 'skewed') return;
    this.ack(b, from);
    if (verdict === 'fresh' && this.silentUntil.delete(b.sender)) {
      this.o.log.info({ peer: b.sender }, 'heartbeats: holder heard again');
      this.ended(b.sender);
    }
  }

  /** A query (answer it if this node finds the same holder silent too) or a witness (an answer to a query of ours). */
  private witnessed(b: Beat, from: Endpoint): void {
    const about = b.about as BeatSubject;
    const holder = this.byDigest.get(about.holder);
    const now = this.o.clock.now();
    if (this.witnesses === undefined || holder === undefined || holder === b.sender) {
      this.o.metrics.received(b.kind, b.kind === 'query' ? 'not-silent' : 'late-witness');
      return;
    }
    if (b.kind === 'query') {
      if (!this.isSilent(holder) || this.tracker.bootOf(holder) !== about.bootId) {
        this.o.metrics.received('query', 'not-silent');
        return;
      }
      // The embargo first: the answer may count from the moment it leaves.
      this.witnesses.answering(holder, now);
      this.send({ kind: 'witness', sequence: ++this.sequence, about }, from);
      this.o.metrics.received('query', 'answered');
      return;
    }
    if (this.witnesses.answered(about.nonce, holder, about.bootId, now) === undefined || this.witnessedSilent(holder) === undefined) {
      this.o.metrics.received('witness', 'late-witness');
      return;
    }
    this.o.metrics.received('witness', 'confirmed');
    if (this.told.has(holder)) return;
    this.told.add(holder);
    this.o.log.warn({ peer: holder, witness: b.sender }, 'heartbeats: holder silent, witnessed by another standby');
    this.o.onChange(holder, true);
  }

  /** A silence ended (heard again, contradicted, no longer believed, forgotten in a stall): the speaker looks again. */
  private ended(holder: string): void {
    this.witnesses?.forget(holder);
    if (this.witnesses !== undefined && !this.told.delete(holder)) return;
    this.o.onChange(holder, false);
  }

  /**
   * The holder's liveness Lease was renewed (a version this node had not
   * seen). During a silence that is proof of life: the silence ends and its
   * beats are not believed until the next one arrives (Lease-speed liveness
   * for it meanwhile), so lost datagrams cannot keep moving its IPs.
   */
  renewalSeen(node: string): void {
    if (!this.silentUntil.has(node)) return;
    this.silentUntil.delete(node);
    this.tracker.forget(node);
    this.o.metrics.contradicted();
    this.o.log.warn({ peer: node }, 'heartbeats: a silent holder renewed its liveness Lease; judging it by its Lease until it beats again');
    this.ended(node);
  }

  private refreshPlan(now: number): void {
    this.planAt = now;
    const fanout = this.o.fanout ?? DEFAULT_FANOUT;
    const held = this.o.plan.held();
    const current = new Set(watchersOf(this.o.me, held, fanout));
    for (const n of current) this.watchers.set(n, Number.POSITIVE_INFINITY);
    for (const [n, until] of this.watchers) {
      if (current.has(n)) continue;
      if (until === Number.POSITIVE_INFINITY) this.watchers.set(n, now + WATCHER_GRACE_MS);
      else if (until <= now) this.watchers.delete(n);
    }
    this.digest = heldDigest(held.map((h) => h.ip));
    if (now - this.watchedAt >= WATCHED_REFRESH_MIN_MS) this.refreshWatched(now);
    this.ledger.prune(now);
    this.o.metrics.watching(this.watched.size, this.watchers.size);
  }

  /** The holders this node stands by for, and whom to ask about each: from every IP others hold. */
  private refreshWatched(now: number): void {
    this.watchedAt = now;
    this.watchedDue = false;
    const fanout = this.o.fanout ?? DEFAULT_FANOUT;
    // The holders of the IPs this node stands by for (holdersToWatch, in one pass with the peers below).
    this.watched = new Set();
    // Whom to ask about a silent holder: the other standbys of the IPs this node stands by for.
    const peersOf = new Map<string, Set<string>>();
    // Candidate sets by content: a pass hands the IPs of one pool the same array (candidatesLookup).
    const setKeys = new Map<Iterable<string>, string>();
    const memo = new Map<string, StandbyMemo>();
    for (const h of this.o.plan.heldByOthers()) {
      let set = setKeys.get(h.candidates);
      if (set === undefined) {
        set = [...h.candidates].join('\n');
        setKeys.set(h.candidates, set);
      }
      let m = this.standbyMemo.get(h.ip);
      if (m === undefined || m.holder !== h.holder || m.set !== set) {
        const standby = isStandby(this.o.me, h.ip, h.holder, h.candidates, fanout);
        const others = standby && this.witnesses !== undefined ? standbysOf(h.ip, h.holder, h.candidates, fanout) : [];
        m = { holder: h.holder, set, standby, peers: others.filter((s) => s !== this.o.me) };
      }
      memo.set(h.ip, m);
      if (!m.standby) continue;
      this.watched.add(h.holder);
      if (this.witnesses === undefined) continue;
      const peers = peersOf.get(h.holder) ?? new Set<string>();
      for (const s of m.peers) peers.add(s);
      peersOf.set(h.holder, peers);
    }
    this.standbyMemo = memo;
    for (const h of this.tracker.heardHolders()) if (!this.watched.has(h)) this.tracker.forget(h);
    if (this.witnesses !== undefined) {
      this.peersOf = peersOf;
      this.byDigest = new Map([...this.watched].map((h) => [nameDigest(h), h]));
      this.witnesses.prune(now);
    }
    this.o.metrics.watching(this.watched.size, this.watchers.size);
  }

  /** This node's own loop stalled: forget everyone, and drop what was queued meanwhile (read late, it proves nothing). */
  private stalled(now: number): void {
    this.tracker.forgetAll();
    this.deafUntil = now + this.timing.intervalMs;
    for (const h of [...this.silentUntil.keys()]) {
      this.silentUntil.delete(h);
      this.ended(h);
    }
  }

  private judge(now: number): void {
    for (const [h, until] of [...this.silentUntil]) {
      if (until > now) continue;
      // No longer believed: its Lease alone judges it from now on.
      this.silentUntil.delete(h);
      this.ended(h);
    }
    for (const h of this.watched) {
      if (this.silentUntil.has(h) || !this.tracker.isSilent(h)) continue;
      this.silentUntil.set(h, this.tracker.believedUntil(h) ?? now);
      this.o.metrics.silenced();
      this.o.log.warn({ peer: h, silentMs: Math.round(this.tracker.silentForMs(h) ?? 0) }, 'heartbeats: holder silent');
      // With a witness required, the speaker hears of it once a second standby confirms (witnessed()).
      if (this.witnesses === undefined) this.o.onChange(h, true);
    }
    if (this.witnesses !== undefined) this.ask(now);
  }

  /** Every tick while a watched holder is silent here: ask its other standbys whether they find it silent too. */
  private ask(now: number): void {
    const book = this.witnesses as WitnessBook;
    book.prune(now);
    for (const h of this.silentUntil.keys()) {
      const bootId = this.tracker.bootOf(h);
      if (bootId === undefined) continue;
      const nonce = book.ask(h, bootId, now);
      for (const peer of this.peersOf.get(h) ?? []) {
        const to = this.o.plan.endpoint(peer);
        if (to !== undefined) this.send({ kind: 'query', sequence: ++this.sequence, about: { holder: nameDigest(h), bootId, nonce } }, to);
      }
    }
  }

  private beat(now: number): void {
    const how = this.o.beating?.() ?? 'beat';
    if (how === 'none') return;
    for (const [n, until] of this.watchers) {
      if (until <= now) continue;
      const to = this.o.plan.endpoint(n);
      if (to === undefined) continue;
      const sequence = ++this.sequence;
      this.ledger.sent(n, sequence, now);
      this.send({ kind: 'beat', sequence, leaseOnly: how === 'lease-only' }, to);
    }
  }

  /**
   * Acknowledges beat b: its own sequence and boot, so its holder can tell which beat was heard (and whether
   * we renew). Not while a witness's embargo on its holder runs (beat-witness.ts), whether or not this node
   * still watches that holder: the beat is on record all the same.
   */
  private ack(b: Beat, to: Endpoint): void {
    if (this.witnesses?.embargoed(b.sender, this.o.clock.now()) === true) {
      this.o.metrics.dropped('ack-withheld');
      return;
    }
    const renewing = (this.o.beating?.() ?? 'beat') === 'beat';
    this.send({ kind: 'ack', sequence: b.sequence, ackOf: b.bootId, leaseOnly: !renewing }, to);
  }

  private send(what: { kind: BeatKind; sequence: bigint; ackOf?: string; about?: BeatSubject; leaseOnly?: boolean }, to: Endpoint): void {
    const datagram = encodeBeat(
      {
        kind: what.kind,
        sender: this.o.me,
        bootId: this.bootId,
        sequence: what.sequence,
        sentAtMs: this.o.clock.wallNow().getTime(),
        heldDigest: this.digest,
        ...(what.ackOf === undefined ? {} : { ackOf: what.ackOf }),
        ...(what.about === undefined ? {} : { about: what.about }),
        ...(what.leaseOnly === true ? { leaseOnly: true } : {}),
      },
      this.o.key,
    );
    this.o.transport.send(datagram, to, (err) => {
      if (err === undefined) this.o.metrics.sent(what.kind);
      else this.o.metrics.dropped('send-failed');
    });
  }
}
