// Whether this speaker's lease watch still tells the truth. The watch
// carries every speaker's renewals, this speaker's own among them, every
// renew interval. If one of our own renewals, known to be written, has not
// come back on the watch within a short wait, the watch is stalled or
// lagging (a half-dead connection after an API load balancer failed over,
// a lagging watch cache), and what it says about the others is stale: the
// speaker goes blind (everyone counts as live) until our echoes return.
//
// This catches a silent watch long before the informer's idle timeout, and
// a lagging one that would never time out: with renewals every 500 ms and a
// 500 ms wait, blindness starts within about 1 s of the stall, before any
// peer's 1.5 s lease can seem to expire.
import type { Clock, TimerHandle } from '../clock.js';

// Renewals remembered while they wait for their echo: 32 s of renewals at 500 ms.
const MAX_PENDING = 64;

export interface OwnLeaseEchoOptions {
  clock: Clock;
  /** How long a written renewal may take to appear on the watch before the watch counts as stalled. */
  timeoutMs: number;
  onStalled: () => void;
  onEchoed: () => void;
}

export class OwnLeaseEcho {
  /** Versions written and not yet seen, oldest first. */
  private pending: Array<{ rv: string; at: number }> = [];
  /** Versions seen on the watch before the write's answer came back (the watch can be faster than the reply). */
  private readonly earlyEchoes: string[] = [];
  private timer: TimerHandle | undefined;
  private isStalled = false;

  constructor(private readonly options: OwnLeaseEchoOptions) {}

  get stalled(): boolean {
    return this.isStalled;
  }

  /** A renewal of ours was written at this version. */
  wrote(rv: string | undefined): void {
    if (rv === undefined) return;
    const early = this.earlyEchoes.indexOf(rv);
    if (early !== -1) {
      this.earlyEchoes.splice(0, early + 1);
      return;
    }
    this.pending.push({ rv, at: this.options.clock.now() });
    // Bounded through a long stall: the oldest entry (what "overdue" measures) and the newest are what matter.
    if (this.pending.length > MAX_PENDING) this.pending.splice(1, 1);
    this.arm();
  }

  /** Our lease arrived on the watch at this version: it and everything written before it are echoed. */
  seen(rv: string | undefined): void {
    const i = this.pending.findIndex((p) => p.rv === rv);
    if (i === -1) {
      if (rv !== undefined) this.earlyEchoes.push(rv);
      if (this.earlyEchoes.length > MAX_PENDING) this.earlyEchoes.shift();
      return;
    }
    this.pending.splice(0, i + 1);
    this.arm();
    if (this.isStalled && !this.overdue()) {
      this.isStalled = false;
      this.options.onEchoed();
    }
  }

  stop(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private overdue(): boolean {
    const oldest = this.pending[0];
    return oldest !== undefined && this.options.clock.now() - oldest.at >= this.options.timeoutMs;
  }

  /** One timer, for the oldest pending echo. */
  private arm(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const oldest = this.pending[0];
    if (oldest === undefined) return;
    const left = oldest.at + this.options.timeoutMs - this.options.clock.now();
    this.timer = this.options.clock.setTimeout(
      () => {
        this.timer = undefined;
        if (!this.overdue()) {
          this.arm();
          return;
        }
        if (!this.isStalled) {
          this.isStalled = true;
          this.options.onStalled();
        }
      },
      Math.max(0, left),
    );
  }
}
