// Leader election on one Lease, as client-go does it, for the controller's
// replicas: the leader renews the Lease every retry period; the others note
// when they last saw the record change and count the lease duration from
// there on their own monotonic clock (a remote renewTime is never compared
// with the local wall clock: clocks of two machines disagree). Takeover is
// an update guarded by resourceVersion, so of two contenders only one wins.
//
// A leader that cannot renew within renewDeadline stops leading before its
// lease can expire for anyone else (renewDeadline < leaseDuration), so two
// leaders never act at once. isLeader() is the fence to check before writes.
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { LeaseRecord, LeaseStore } from './lease-store.js';
import { microTime } from './lease-store.js';

export interface LeaderElectorOptions {
  identity: string;
  leaseName: string;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  /** How long a lease stays valid after its last observed change (client-go default 15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it gives up leading (client-go default 10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts (client-go default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export class LeaderElector {
  private readonly options: Required<Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'log'>> & LeaderElectorOptions;
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private leading = false;
  private lastRenewAt = -Infinity;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.options = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    if (this.options.renewDeadlineMs >= this.options.leaseDurationMs)
      throw new RangeError('renewDeadline must be shorter than leaseDuration');
  }

  /** Leading and renewed recently enough that nobody else can hold the lease. */
  isLeader(): boolean {
    return this.leading && this.options.clock.now() - this.lastRenewAt < this.options.renewDeadlineMs;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops contending; a leader releases the lease (empty holder) so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.leading) {
      this.leading = false;
      const current = this.observed;
      if (current !== undefined && current.holder === this.options.identity) {
        await this.options.store
          .update({ ...current, holder: '', durationSeconds: 1, renewTime: microTime(this.options.clock.wallNow()) })
          .catch((err: unknown) => this.options.log.warn({ err }, 'could not release the leader lease'));
      }
      this.options.onStoppedLeading();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew();
      const now = this.options.clock.now();
      if (ok) {
        this.lastRenewAt = now;
        if (!this.leading) {
          this.leading = true;
          this.options.log.info({ lease: this.options.leaseName, identity: this.options.identity }, 'became leader');
          this.options.onStartedLeading();
        }
      } else if (this.leading && now - this.lastRenewAt >= this.options.renewDeadlineMs) {
        this.leading = false;
        this.options.log.error(
          { lease: this.options.leaseName, identity: this.options.identity },
          'lost leadership: could not renew in time',
        );
        this.options.onStoppedLeading();
        return;
      }
      await this.options.clock.sleep(this.options.retryPeriodMs);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { store, identity, leaseName, clock } = this.options;
    const now = clock.now();
    const wall = microTime(clock.wallNow());
    const durationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    let current: LeaseRecord | undefined;
    try {
      current = await store.get(leaseName);
    } catch (err) {
      this.options.log.debug({ err }, 'reading the leader lease failed');
      return false;
    }
    if (current === undefined) {
      try {
        this.remember(
          await store.create({
            name: leaseName,
            holder: identity,
            durationSeconds,
            acquireTime: wall,
            renewTime: wall,
            transitions: 0,
            resourceVersion: undefined,
          }),
          now,
        );
        return true;
      } catch {
        return false;
      }
    }
    if (this.observed === undefined || this.observed.resourceVersion !== current.resourceVersion) this.remember(current, now);
    const heldByOther = current.holder !== '' && current.holder !== identity;
    const expired = now >= this.observedAt + current.durationSeconds * 1000;
    if (heldByOther && !expired) return false;
    const takingOver = current.holder !== identity;
    try {
      const next = await store.update({
        ...current,
        holder: identity,
        durationSeconds,
        renewTime: wall,
        acquireTime: takingOver ? wall : current.acquireTime,
        transitions: takingOver ? current.transitions + 1 : current.transitions,
      });
      this.remember(next, now);
      return true;
    } catch {
      // 409: someone else wrote first (or renewed); we learn it on the next read.
      return false;
    }
  }

  private remember(record: LeaseRecord, at: number): void {
    this.observed = record;
    this.observedAt = at;
  }
}
