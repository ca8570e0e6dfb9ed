// This speaker's own liveness Lease, renewed every renewInterval. One write
// per interval per speaker, however many IPs it holds. healthy() says
// whether the last successful renewal is recent enough that nobody can have
// judged us dead yet: renewDeadline is shorter than the lease duration, and
// the difference is the safety margin between "we stop" and "they start".
// With the slow liveness Lease (10 s interval, 15 s deadline) a failed
// renewal is retried sooner than the interval (retryIntervalMs), and
// renewSoon() writes at once when what the Lease declares must change.
import type { Clock, TimerHandle } from '../clock.js';
import { errorCode } from '../errors.js';
import { DURATION_ANNOTATION, HANDOVER_ANNOTATION, leaseLabels, speakerLeaseName } from '../k8s/lease-names.js';
import { type LeaseRecord, type LeaseStore, microTime } from '../k8s/lease-store.js';
import type { Logger } from '../observability/logger.js';

export interface LivenessRenewerOptions {
  node: string;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  durationMs: number;
  renewIntervalMs: number;
  renewDeadlineMs: number;
  /** How long after its release this speaker may still answer for its IPs (its hand-over timeout). */
  handoverMs: number;
  /** Extra annotations published with every renewal (pools this node can serve, interfaces). */
  annotations: () => Record<string, string>;
  /** After a failed renewal, try again this soon (default: the renew interval). */
  retryIntervalMs?: number;
  /** Labels of the Lease (default: a speaker Lease's, leaseLabels('speaker')). */
  labels?: Record<string, string>;
  onHealthChange?: (healthy: boolean) => void;
  /** After every attempt: how long it took, and the lease as written when it worked (its echo is awaited on the watch). */
  onRenewed?: (durationMs: number, ok: boolean, written: LeaseRecord | undefined) => void;
}

export class LivenessRenewer {
  private record: LeaseRecord | undefined;
  private lastOkSentAt = -Infinity;
  private wasHealthy = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private released = false;
  private watchdog: TimerHandle | undefined;
  private pause: { timer: TimerHandle; wake: () => void } | undefined;
  private soon = false;
  private lastOk = false;

  constructor(private readonly options: LivenessRenewerOptions) {
    const o = options;
    if (o.renewDeadlineMs >= o.durationMs) throw new RangeError('renew deadline must be shorter than the lease duration');
    if (o.renewIntervalMs >= o.renewDeadlineMs) throw new RangeError('renew interval must be shorter than the renew deadline');
  }

  get leaseName(): string {
    return speakerLeaseName(this.options.node);
  }

  healthy(): boolean {
    return !this.released && this.options.clock.now() < this.lastOkSentAt + this.options.renewDeadlineMs;
  }

  /** When the last successful renewal was sent (local clock); -Infinity before the first. */
  renewedAt(): number {
    return this.released ? Number.NEGATIVE_INFINITY : this.lastOkSentAt;
  }

  /** When healthy() turns false unless a renewal succeeds first. */
  healthyUntil(): number {
    return this.lastOkSentAt + this.options.renewDeadlineMs;
  }

  /** Renews once now; resolves true on success. The first call creates the lease if needed. */
  async renewOnce(): Promise<boolean> {
    if (this.released) return false;
    const sentAt = this.options.clock.now();
    const wall = microTime(this.options.clock.wallNow());
    const desired = {
      holder: this.options.node,
      durationSeconds: Math.ceil(this.options.durationMs / 1000),
      renewTime: wall,
      labels: this.options.labels ?? leaseLabels('speaker'),
      annotations: { [DURATION_ANNOTATION]: String(this.options.durationMs), ...this.options.annotations() },
    };
    let ok = false;
    try {
      if (this.record === undefined) {
        const current = await this.options.store.get(this.leaseName);
        this.record =
          current === undefined
            ? await this.options.store.create({
                name: this.leaseName,
                acquireTime: wall,
                transitions: 0,
                resourceVersion: undefined,
                ...desired,
              })
            : await this.options.store.update({
                ...current,
                ...desired,
                acquireTime: current.holder === this.options.node ? current.acquireTime : wall,
              });
      } else {
        this.record = await this.options.store.update({ ...this.record, ...desired });
      }
      ok = true;
    } catch (err) {
      // 409: our cached version is stale (a restart of ours, an admin edit). 404: the lease was deleted by
      // hand. Either way read (or create) afresh next time: a deleted lease is re-created within one interval.
      const code = errorCode(err);
      if (code === 'K8S_CONFLICT' || code === 'K8S_NOT_FOUND') this.record = undefined;
      this.options.log.debug({ err, code }, 'liveness renewal failed');
    }
    if (ok) {
      this.lastOkSentAt = sentAt;
      // Turn unhealthy on time even if the next renewal hangs: a timer, not the loop, marks the deadline.
      if (this.watchdog !== undefined) this.options.clock.clearTimeout(this.watchdog);
      this.watchdog = this.options.clock.setTimeout(() => this.noteHealth(), Math.max(0, this.healthyUntil() - this.options.clock.now()));
    }
    this.lastOk = ok;
    this.options.onRenewed?.(this.options.clock.now() - sentAt, ok, ok ? this.record : undefined);
    this.noteHealth();
    return ok;
  }

  /**
   * Renew now rather than at the end of the interval (what the Lease declares
   * must change). After a failure, the retry interval still paces attempts.
   */
  renewSoon(): void {
    this.soon = true;
    if (this.pause !== undefined && this.lastOk) {
      this.options.clock.clearTimeout(this.pause.timer);
      this.pause.wake();
    }
  }

  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        const started = this.options.clock.now();
        this.soon = false;
        const ok = await this.renewOnce();
        const every = ok ? this.options.renewIntervalMs : (this.options.retryIntervalMs ?? this.options.renewIntervalMs);
        // Asked for meanwhile: at once after a success, paced by the retry interval after a failure.
        const interval = this.soon && ok ? 0 : every;
        const wait = Math.max(0, interval - (this.options.clock.now() - started));
        await new Promise<void>((wake) => {
          this.pause = { timer: this.options.clock.setTimeout(wake, wait), wake };
        });
        this.pause = undefined;
        this.noteHealth();
      }
    })();
  }

  /** Stops renewing and marks the lease released (no holder), so others stop counting on us at once. */
  async release(): Promise<void> {
    this.interrupt();
    this.released = true;
    this.noteHealth();
    const current = this.record ?? (await this.options.store.get(this.leaseName).catch(() => undefined));
    if (current === undefined) return;
    await this.options.store
      .update({
        ...current,
        holder: '',
        renewTime: microTime(this.options.clock.wallNow()),
        // Peers leave our IP Leases alone this long after they see the release: we hand them over meanwhile.
        annotations: { ...current.annotations, [HANDOVER_ANNOTATION]: String(this.options.handoverMs) },
      })
      .catch((err: unknown) => this.options.log.warn({ err }, 'could not release the liveness lease'));
  }

  async stop(): Promise<void> {
    this.interrupt();
    if (this.watchdog !== undefined) this.options.clock.clearTimeout(this.watchdog);
    await this.loop;
  }

  /** Ends the renewal loop now, not at the end of its current pause. */
  private interrupt(): void {
    this.stopped = true;
    if (this.pause !== undefined) {
      this.options.clock.clearTimeout(this.pause.timer);
      this.pause.wake();
    }
  }

  private noteHealth(): void {
    const h = this.healthy();
    if (h !== this.wasHealthy) {
      this.wasHealthy = h;
      this.options.log.info({ healthy: h }, h ? 'liveness lease renewed: healthy' : 'liveness lease not renewed in time: unhealthy');
      this.options.onHealthChange?.(h);
    }
  }
}
