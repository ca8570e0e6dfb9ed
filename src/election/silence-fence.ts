// How long, at least, no standby can take an IP from this speaker by
// heartbeat silence (docs/heartbeats.md, "The fence"). A standby may do so
// only once (1) it calls this speaker silent and (2) this speaker's liveness
// Lease went the declared quiet time without a renewal, confirmed by a fresh
// read. So nobody can before the later of:
//   - the last successful renewal's send time plus the quiet time (a fresh
//     read after that may still show it as the newest), and
//   - the ack horizon (beat-acks.ts): the earliest a standby could call this
//     speaker silent.
// The speaker defends its IPs (and, outside outage mode, answers) only while
// this promise holds. Both sources only move forward, so the promise does
// too; if it ever runs out before it is extended (a lapse), someone may have
// taken an IP meanwhile, and the speaker must confirm its IPs again before it
// defends them: lapsed() says so, restored() that the promise holds again.
import type { Clock, TimerHandle } from '../clock.js';

export interface FenceSources {
  /** Send time of the last successful liveness renewal (local clock). */
  renewedAt(): number;
  /** The quiet time this speaker declares on its Lease (QUIET_ANNOTATION). */
  quietMs: number;
  /** beat-acks.ts horizon; -Infinity while it proves nothing. */
  ackHorizon(): number;
}

export interface FenceEvents {
  lapsed(): void;
  restored(): void;
}

export class SilenceFence {
  private promised = Number.NEGATIVE_INFINITY;
  private lapse = true;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly sources: FenceSources,
    private readonly events: FenceEvents,
  ) {}

  /** Until when (local clock) nobody can take an IP from this speaker by silence. */
  until(): number {
    return this.promised;
  }

  holds(): boolean {
    return this.clock.now() < this.promised;
  }

  /**
   * Extends the promise from the sources (after a renewal, and every tick as
   * acks come in). A promise that ran out before this call is a lapse, told
   * before the new one is given.
   */
  refresh(): void {
    const now = this.clock.now();
    const held = now < this.promised;
    if (!held && !this.lapse) {
      this.lapse = true;
      this.events.lapsed();
    }
    const next = Math.max(this.sources.renewedAt() + this.sources.quietMs, this.sources.ackHorizon());
    this.promised = held ? Math.max(this.promised, next) : next;
    if (this.lapse && now < this.promised) {
      this.lapse = false;
      this.events.restored();
    }
    this.arm(now);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A lapse is told on time even if nothing refreshes: a timer, not the next event, marks the end of the promise. */
  private arm(now: number): void {
    this.stop();
    if (!Number.isFinite(this.promised) || this.promised <= now) return;
    // +1 ms: just after the promise ends, when holds() has certainly turned false.
    this.timer = this.clock.setTimeout(() => this.refresh(), this.promised - now + 1);
  }
}
