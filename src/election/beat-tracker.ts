// What a standby knows of the holders it watches in the planned LAN liveness
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
import type { Clock } from '../clock.js';
import type { Beat } from './beat-codec.js';

export interface BeatTiming {
  /** How often a holder beats. 100 ms: a silence is seen in well under the 1 s failover target. */
  intervalMs: number;
  /** Beats missed in a row before the holder counts as silent. 4: one lost datagram or a GC pause is not a death. */
  missedBeats: number;
  /** Largest wall-clock difference a new boot id may show. 30 s: far above NTP'd nodes' skew, far below a replay's age. */
  maxSkewMs: number;
}

export const DEFAULT_BEAT_TIMING: BeatTiming = { intervalMs: 100, missedBeats: 4, maxSkewMs: 30_000 };

export type BeatVerdict =
  | 'fresh' // recorded: the holder is alive now
  | 'replay' // not newer than what this boot already sent
  | 'skewed'; // a new boot whose wall clock is too far from ours: not believed

interface Heard {
  bootId: string;
  sequence: bigint;
  atMs: number;
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
    this.last.set(beat.sender, { bootId: beat.bootId, sequence: beat.sequence, atMs: this.clock.now() });
    return 'fresh';
  }

  /** Milliseconds since the holder's last fresh beat; undefined if none was ever heard (Lease-speed liveness for it). */
  silentForMs(holder: string): number | undefined {
    const h = this.last.get(holder);
    return h === undefined ? undefined : this.clock.now() - h.atMs;
  }

  /** Heard before, and nothing for missedBeats intervals: the holder is silent and its first standby may take over. */
  isSilent(holder: string): boolean {
    const ms = this.silentForMs(holder);
    return ms !== undefined && ms >= this.timing.intervalMs * this.timing.missedBeats;
  }

  /** A holder no longer watched (it holds nothing this node stands by for), or whose beats were proven unreliable. */
  forget(holder: string): void {
    this.last.delete(holder);
  }

  /**
   * Every holder heard counts as heard now: after this node itself could not
   * listen (its event loop stalled), the datagrams waiting in its socket are
   * not read yet, and missed time is not missed beats.
   */
  restartObservation(): void {
    const now = this.clock.now();
    for (const h of this.last.values()) h.atMs = now;
  }

  /** Holders heard and not forgotten. */
  heardHolders(): string[] {
    return [...this.last.keys()];
  }
}
