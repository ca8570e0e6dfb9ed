// The Lease-speed fallback of the slow liveness mode (docs/heartbeats.md,
// step 3): nobody watches the slow liveness Leases, so a standby that cannot
// judge a holder by heartbeats (never heard, silent without a witness, its
// silence path closed) reads the holder's liveness Lease every few seconds,
// and judges it the way the fast mode judges a watched Lease: dead once the
// same version has been seen for the duration it declares, by this
// process's own clock, from the first time this process saw that version.
// A read arrives late, never early, so a version is never seen before it was
// written: the holder, whose renew deadline is shorter than the duration,
// has stopped defending before anyone can call it dead this way. A missing
// Lease is a version too ("absent"): a Lease deleted by hand is re-created
// by its holder's next renewal, well inside the duration.
import type { Clock, TimerHandle } from '../clock.js';
import { DURATION_ANNOTATION, speakerLeaseName } from '../k8s/lease-names.js';
import type { LeaseRecord, LeaseStore } from '../k8s/lease-store.js';
import type { Logger } from '../observability/logger.js';

const ABSENT = '(absent)';

interface Observation {
  version: string;
  holder: string;
  observedAt: number;
  durationMs: number;
}

export interface LeasePollerOptions {
  clock: Clock;
  log: Logger;
  store: Pick<LeaseStore, 'get'>;
  /** How often the targets are read. */
  intervalMs: number;
  /** Duration of a Lease that declares none (it should declare one). */
  defaultDurationMs: number;
  /** The nodes whose Lease to read on each round. */
  targets(): Iterable<string>;
  /** A read showed a node's Lease changed (renewed, released, gone): look at its IPs again. */
  onChange(node: string): void;
}

export class LeasePoller {
  private readonly seen = new Map<string, Observation>();
  /** The targets of the last round: the nodes this process judges by their Lease. */
  private judged = new Set<string>();
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly o: LeasePollerOptions) {}

  /**
   * A fresh read of node's liveness Lease (from the poll, or the read before a
   * takeover). Returns whether it showed a version this process had not seen.
   */
  observe(node: string, fresh: LeaseRecord | undefined): boolean {
    const version = fresh?.resourceVersion ?? ABSENT;
    const before = this.seen.get(node);
    if (before !== undefined && before.version === version) return false;
    const declared = Number(fresh?.annotations?.[DURATION_ANNOTATION]);
    this.seen.set(node, {
      version,
      holder: fresh?.holder ?? node,
      observedAt: this.o.clock.now(),
      durationMs:
        Number.isFinite(declared) && declared > 0
          ? declared
          : fresh !== undefined && fresh.durationSeconds > 0
            ? fresh.durationSeconds * 1_000
            : this.o.defaultDurationMs,
    });
    return true;
  }

  /** The version seen last (for the read before a takeover: the same version, seen long enough ago, is dead). */
  version(node: string): string | undefined {
    return this.seen.get(node)?.version;
  }

  /** The same version (or none) seen for its whole duration, or the Lease released: node stopped. */
  expired(node: string): boolean {
    const o = this.seen.get(node);
    if (o === undefined) return false;
    return o.holder === '' || this.o.clock.now() >= o.observedAt + o.durationMs;
  }

  /** When node's observation expires unless a read shows a newer version (local clock); undefined if not observed. */
  expiresAt(node: string): number | undefined {
    const o = this.seen.get(node);
    return o === undefined ? undefined : o.observedAt + o.durationMs;
  }

  /**
   * Whether node is judged by its Lease here: a target of the last round. An observation of a node that is
   * not (heard again, no longer a holder this node stands by for) is kept but counts for nothing: nobody
   * reads its Lease any more, so its age says nothing.
   */
  judges(node: string): boolean {
    return this.judged.has(node);
  }

  /** A new process of node (a new boot on its info record): what was seen of the old one says nothing of it. */
  forget(node: string): void {
    this.seen.delete(node);
  }

  /** After a time this process could not read or write: every observation gets a fresh duration from now. */
  restart(): void {
    const now = this.o.clock.now();
    for (const o of this.seen.values()) o.observedAt = now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async (): Promise<void> => {
      if (!this.running) return;
      await this.round();
      if (this.running) this.timer = this.o.clock.setTimeout(() => void loop(), this.o.intervalMs);
    };
    this.timer = this.o.clock.setTimeout(() => void loop(), this.o.intervalMs);
  }

  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One read of every target, one at a time (a handful: holders this node stands by for and cannot hear). */
  async round(): Promise<void> {
    this.judged = new Set(this.o.targets());
    for (const node of this.judged) {
      let fresh: LeaseRecord | undefined;
      try {
        fresh = await this.o.store.get(speakerLeaseName(node));
      } catch (err) {
        // Nothing seen: the observation stands (and keeps its age), as a watch that missed an event.
        this.o.log.debug({ err, peer: node }, 'could not read a liveness Lease');
        continue;
      }
      if (this.stopped) return;
      const wasExpired = this.expired(node);
      if (this.observe(node, fresh) || this.expired(node) !== wasExpired) this.o.onChange(node);
    }
  }
}
