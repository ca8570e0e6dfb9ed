// How long this speaker may defend what it holds, with the slow liveness
// Lease (docs/heartbeats.md, step 3), and what its Lease declares about
// takeovers by heartbeat silence.
//
// With a Lease renewed every 10 s, renewals prove nothing at heartbeat speed
// (the fast mode's first bound, silence-fence.ts, is gone). What remains is
// the ack horizon (beat-acks.ts, with a witness: the second-earliest moment
// two standbys could both find this node silent). It holds while acks flow,
// but not while UDP is blocked or this node's acks are lost: then no
// promise can be made from the LAN. So the Lease says which rule applies:
//
//   - "open": standbys may take an IP over on a witnessed silence, after a
//     fresh read that shows "open" and this process's boot id. This speaker
//     defends only while the ack horizon holds (until()).
//   - "closed": only the Lease's expiry moves an IP (20 s without renewal);
//     the renew deadline bounds the defence, as without heartbeats.
//
// Switching. A takeover reads the Lease after its evidence, so:
//   - closing counts once its write is answered, and only if the ack
//     promise held until then: every decision that read "open" took its
//     evidence before the close was committed, when no two standbys could
//     find this node silent. Until the answer (or if the write failed), the
//     ack horizon still bounds the defence, and a lapse is told as before.
//   - opening counts from the moment the write is sent (a standby may read
//     it at once), and is asked for only after the ack promise held without
//     a lapse for longer than a request can take (a read that shows "open"
//     may follow its evidence by up to a request's timeout), or since this
//     process started (evidence about this boot cannot predate it).
// Close early (CLOSE_AHEAD_MS before the promise runs out) so the write
// usually lands in time; reopen after acks flowed steadily for a while,
// doubling each time it had to close again recently, so a flaky network
// costs a few writes an hour, not a write storm.
import type { Clock, TimerHandle } from '../clock.js';
import type { FenceEvents } from './silence-fence.js';

export type Declaration = 'open' | 'closed';

export interface DeclarationTiming {
  /** Ask to close this long before the ack promise runs out. 50 ms: a Lease write on a healthy API server, with room. */
  closeAheadMs: number;
  /** Reopen after the ack promise held this long. 2 s: above the 1 s request timeout, so a read's evidence cannot predate it. */
  openAfterMs: number;
  /** The longest wait before reopening after repeated closes. 5 min: a flapping network costs about 2 writes per 5 min. */
  maxOpenAfterMs: number;
  /** Closes within this window double the wait before reopening. */
  flapWindowMs: number;
}

export const DEFAULT_DECLARATION_TIMING: DeclarationTiming = {
  closeAheadMs: 50,
  openAfterMs: 2_000,
  maxOpenAfterMs: 5 * 60_000,
  flapWindowMs: 10 * 60_000,
};

export interface DeclarationSources {
  clock: Clock;
  /** beat-acks.ts horizon with a witness; -Infinity while it proves nothing (no exchange). */
  ackHorizon(): number;
  /** The Lease should say something else: renew now. */
  declare(): void;
}

export class SilenceDeclaration {
  private promised = Number.NEGATIVE_INFINITY;
  /** Since when the ack promise has held without a lapse; undefined while it does not. */
  private heldSince: number | undefined;
  private lapsedOnce = false;
  /** An "open" Lease may be what a standby reads: from sending "open" until a "closed" write is answered. */
  private mayBeOpen = false;
  private sendingValue: Declaration | undefined;
  private written: Declaration | undefined;
  private current: Declaration = 'closed';
  private readonly closes: number[] = [];
  private defending = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** sending() is composing a renewal: it carries what decide() settles on, so no further write is asked for. */
  private composing = false;

  constructor(
    private readonly sources: DeclarationSources,
    private readonly events: FenceEvents,
    private readonly timing: DeclarationTiming = DEFAULT_DECLARATION_TIMING,
  ) {}

  /** Until when (local clock) nobody can take an IP from this speaker by silence: the ack promise while "open" may be read. */
  until(): number {
    return this.mayBeOpen ? this.promised : Number.POSITIVE_INFINITY;
  }

  holds(): boolean {
    return this.sources.clock.now() < this.until();
  }

  /** What the Lease should say now. */
  desired(): Declaration {
    return this.current;
  }

  /** The renewer is about to write the Lease: the declaration it carries (an "open" may be read from now on). */
  sending(): Declaration {
    // Without this, the change that asked for this renewal would ask again from inside it (sendingValue is set
    // only below), and the renewer would write the same declaration twice.
    this.composing = true;
    try {
      this.refresh();
    } finally {
      this.composing = false;
    }
    this.sendingValue = this.current;
    if (this.current === 'open') this.mayBeOpen = true;
    return this.current;
  }

  /** The write that carried sending()'s value was answered (ok) or failed (it may or may not have been committed). */
  answered(ok: boolean): void {
    // A lapse before the answer is told first: the close did not come in time.
    this.refresh();
    if (ok) {
      this.written = this.sendingValue;
      if (this.sendingValue === 'closed') this.mayBeOpen = false;
    }
    this.sendingValue = undefined;
    this.refresh();
  }

  /** Extends the ack promise (every tick, and after each renewal); tells a lapse; decides what the Lease should say. */
  refresh(): void {
    if (this.stopped) return;
    const now = this.sources.clock.now();
    const held = now < this.promised;
    if (!held && this.heldSince !== undefined) {
      this.heldSince = undefined;
      this.lapsedOnce = true;
    }
    const next = this.sources.ackHorizon();
    this.promised = held ? Math.max(this.promised, next) : next;
    if (this.heldSince === undefined && now < this.promised) this.heldSince = now;
    this.decide(now);
    const defending = now < this.until();
    if (defending !== this.defending) {
      this.defending = defending;
      if (defending) this.events.restored();
      else this.events.lapsed();
    }
    this.arm(now);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.sources.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private decide(now: number): void {
    const before = this.current;
    if (this.heldSince === undefined || this.promised - now <= this.timing.closeAheadMs) {
      this.current = 'closed';
    } else if (this.current === 'closed' && (!this.lapsedOnce || now - this.heldSince >= this.openAfter(now))) {
      this.current = 'open';
    }
    if (this.current === 'closed' && before === 'open') this.closes.push(now);
    // Ask for a write when the Lease says (or is about to say) something else.
    if (!this.composing && this.current !== (this.sendingValue ?? this.written)) this.sources.declare();
  }

  private openAfter(now: number): number {
    while (this.closes.length > 0 && (this.closes[0] as number) < now - this.timing.flapWindowMs) this.closes.shift();
    const doublings = Math.max(0, this.closes.length - 1);
    return Math.min(this.timing.maxOpenAfterMs, this.timing.openAfterMs * 2 ** doublings);
  }

  /** On time even if nothing refreshes: when to ask to close, and when the promise runs out while "open" may be read. */
  private arm(now: number): void {
    if (this.timer !== undefined) this.sources.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (!Number.isFinite(this.promised)) return;
    const at: number[] = [];
    if (this.current === 'open') at.push(this.promised - this.timing.closeAheadMs);
    // +1 ms: just after the promise ends, when holds() has certainly turned false.
    if (this.mayBeOpen) at.push(this.promised + 1);
    const first = Math.min(...at.filter((t) => t > now));
    if (Number.isFinite(first)) this.timer = this.sources.clock.setTimeout(() => this.refresh(), first - now);
  }
}
