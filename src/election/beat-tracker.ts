// What a standby knows of the holders it watches in the LAN liveness
// (docs/heartbeats.md): when each last beat arrived, by this node's monotonic
// clock, and whether a holder has gone silent. Time comes from the injected
// Clock only.
//
// Replays: a datagram is authentic (beat-codec.ts checks the HMAC) but may be
// old. Within one boot of the sender, sequences only grow, so anything not
// newer than the last one heard is a replay. A boot id not heard before is
// believed only if its sender's wall clock is within maxSkewMs of ours: a
// captured beat of a holder's previous process cannot be replayed later to
// keep a dead holder "alive". A holder whose clock is that far off is never
// heard at all, so its standbys fall back to Lease-speed liveness for it
// (never a takeover because of the skew).
//
// A silence is believed for believeMs after it begins, no longer: the holder
// counts on that (beat-exchange.ts, ackHorizon) to know when a standby it no
// longer beats can no longer accuse it. After that the Lease alone judges.
import type { Clock } from '../clock.js';
import type { Beat } from './beat-codec.js';

export interface BeatTiming {
  /** How often a holder beats. 100 ms: a silence is seen in well under the 1 s failover target. */
  intervalMs: number;
  /** Beats missed in a row before the holder counts as silent. 4: one lost datagram or a GC pause is not a death. */
  missedBeats: number;
  /** Largest wall-clock difference a new boot id may show. 30 s: far above NTP'd nodes' skew, far below a replay's age. */
  maxSkewMs: number;
  /**
   * How long a silence is believed once it began. 10 s: far longer than a takeover takes (the Lease must
   * also go a renew interval without a renewal), so a crashed holder is replaced within it; short enough
   * that a holder stops counting a standby it no longer beats as a possible accuser 10.7 s later.
   */
  believeMs: number;
}

export const DEFAULT_BEAT_TIMING: BeatTiming = { intervalMs: 100, missedBeats: 4, maxSkewMs: 30_000, believeMs: 10_000 };

/**
 * The slow liveness Lease's (docs/heartbeats.md, step 3): five missed beats. There the holder's defence rests
 * on acks alone, and closes its silence path when two standbys' acks fall behind (silence-declaration.ts):
 * with four, two round trips lost to both standbys at once (10% datagram loss: about once a minute) would
 * close it; with five it takes three (about once an hour). It costs 100 ms of failover (0.45-0.6 s).
 */
export const SLOW_BEAT_TIMING: BeatTiming = { ...DEFAULT_BEAT_TIMING, missedBeats: 5 };

/** Beats missed before a holder is silent, in ms (400 by default). */
export function silenceMs(t: BeatTiming): number {
  return t.intervalMs * t.missedBeats;
}

export type BeatVerdict =
  | 'fresh' // recorded: the holder is alive now
  | 'replay' // not newer than what this boot already sent
  | 'skewed'; // a new boot whose wall clock is too far from ours: not believed

interface Heard {
  bootId: string;
  sequence: bigint;
  atMs: number;
  /** The beat asked to be judged by its holder's Lease (beat-codec.ts leaseOnly). */
  leaseOnly: boolean;
}

export class BeatTracker {
  private readonly last = new Map<string, Heard>();

  constructor(
    private readonly clock: Clock,
    private readonly timing: BeatTiming = DEFAULT_BEAT_TIMING,
  ) {}

  /** Takes one authentic beat (decodeBeat said ok); says whether it counts. */
  heard(beat: Beat): BeatVerdict {
    const prev = this.last.get(beat.sender);
    if (prev !== undefined && prev.bootId === beat.bootId) {
      if (beat.sequence <= prev.sequence) return 'replay';
    } else if (Math.abs(this.clock.wallNow().getTime() - beat.sentAtMs) > this.timing.maxSkewMs) {
      return 'skewed';
    }
    this.last.set(beat.sender, {
      bootId: beat.bootId,
      sequence: beat.sequence,
      atMs: this.clock.now(),
      leaseOnly: beat.leaseOnly === true,
    });
    return 'fresh';
  }

  /** Whether the holder's last fresh beat asked to be judged by its Lease (it cannot renew). */
  leaseOnly(holder: string): boolean {
    return this.last.get(holder)?.leaseOnly === true;
  }

  /** The boot id of the holder's process whose beat is on record. */
  bootOf(holder: string): string | undefined {
    return this.last.get(holder)?.bootId;
  }

  /** Whether a beat of this holder is on record (a replay of it is not newer than what was heard). */
  knows(holder: string): boolean {
    return this.last.has(holder);
  }

  /** Milliseconds since the holder's last fresh beat; undefined if none is on record (Lease-speed liveness for it). */
  silentForMs(holder: string): number | undefined {
    const h = this.last.get(holder);
    return h === undefined ? undefined : this.clock.now() - h.atMs;
  }

  /** When the holder's silence stops being believed (local clock); undefined if none is on record. */
  believedUntil(holder: string): number | undefined {
    const h = this.last.get(holder);
    return h === undefined ? undefined : h.atMs + silenceMs(this.timing) + this.timing.believeMs;
  }

  /** Heard before, nothing for missedBeats intervals, and not so long ago that the silence is no longer believed. */
  isSilent(holder: string): boolean {
    const ms = this.silentForMs(holder);
    return ms !== undefined && ms >= silenceMs(this.timing) && ms < silenceMs(this.timing) + this.timing.believeMs;
  }

  /** A holder no longer watched (it holds nothing this node stands by for), or whose beats were proven unreliable. */
  forget(holder: string): void {
    this.last.delete(holder);
  }

  /**
   * Forgets everyone: after this node itself could not listen (its event
   * loop stalled), missed time is not missed beats, and a beat read late is
   * no evidence of when its holder was alive. Holders are judged again once
   * heard again.
   */
  forgetAll(): void {
    this.last.clear();
  }

  /** Holders heard and not forgotten. */
  heardHolders(): string[] {
    return [...this.last.keys()];
  }
}
