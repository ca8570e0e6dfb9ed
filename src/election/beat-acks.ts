// What a holder can prove about who still hears its heartbeats
// (docs/heartbeats.md, "The fence"): for each node it beats, when it first
// and last beat it and the send time of the newest beat that node acked. From
// that, horizon() is the earliest moment any standby could call this holder
// silent, which the speaker uses to fence its own defence: a standby may take
// an IP over by silence only once the holder's Lease also went quiet, and the
// holder stops defending once neither its renewals nor its acks prove that
// nobody can do so yet.
//
// Why an ack bounds a standby's judgement: a standby acks only a beat it put
// on record, and it records a beat no earlier than it was sent, so its last
// record is at or after the acked beat's send time, and it cannot call the
// holder silent before that plus the silence window. A node that was beaten
// but never acked may have recorded a beat sent at the first one to it, no
// earlier. A node no longer beaten can accuse until its last record's silence
// stops being believed (beat-tracker.ts believeMs), so it counts for a tail
// after the last beat sent to it; and so does, after a start, every node that
// may have heard this node's previous process. Pure but for the clock values
// passed in.
//
// With the slow liveness Lease (docs/heartbeats.md, step 3) a takeover by
// silence needs two standbys that both find this node silent (the deciding
// one and a witness, beat-witness.ts), so the horizon is the second-earliest
// moment instead of the earliest: one standby that stops acking (dead, its
// path lost) does not end the promise. There, a takeover also needs a fresh
// read of this process's boot id on its Lease, written before it holds
// anything, so nodes that heard the previous process cannot act on it: no
// tail after a start. A witness's answer is used up to its validity after
// it was given, so a node no longer beaten counts that much longer.
import { type BeatTiming, silenceMs } from './beat-tracker.js';

export interface LedgerRules {
  /** How many standbys must find this node silent for a takeover: 1 (fast liveness), 2 (slow, with a witness). */
  witnesses: number;
  /** Whether nodes that heard a previous process may accuse this one for a tail after its start. */
  startTail: boolean;
  /** Added to the tail of a node no longer beaten (how long a witness's answer may be used after it was given). */
  extraTailMs: number;
}

export const FAST_LEDGER: LedgerRules = { witnesses: 1, startTail: true, extraTailMs: 0 };

/** Beats remembered per node for matching its acks: 800 ms of them; an older ack just extends nothing. */
const REMEMBERED = 8;
/**
 * Acks of beats further apart than this break a streak (ackedSteadily): ten beats, so a lost ack or two is
 * no break, while a crash, a stall or a lost path of a second or more is.
 */
const STREAK_GAP_MS = 1_000;

interface Beaten {
  /** First beat of this stretch of beating the node (local clock). */
  firstAt: number;
  lastAt: number;
  /** Send time of the newest beat the node acked in this stretch; -Infinity for none. */
  ackedAt: number;
  /**
   * Send time of the first beat of the current run of acks with no gap longer than the streak gap, from a
   * node that renews; +Infinity while its acks say it cannot (leaseOnly), or before any.
   */
  streakSince: number;
  recent: Array<{ sequence: bigint; at: number }>;
}

export class AckLedger {
  private readonly beaten = new Map<string, Beaten>();
  private readonly tailMs: number;
  private readonly marginMs: number;

  constructor(
    private readonly startedAt: number,
    private readonly timing: BeatTiming,
    /**
     * How late a standby may read a beat before it notices its own stall and forgets everyone
     * (beat-exchange.ts STALL_FACTOR intervals).
     */
    readLateMs: number,
    private readonly rules: LedgerRules = FAST_LEDGER,
  ) {
    // One interval of margin on the far side of every bound: the two clocks' rates differ by parts per
    // million over these spans; the rest is slack.
    this.marginMs = timing.intervalMs;
    this.tailMs = readLateMs + silenceMs(timing) + timing.believeMs + this.marginMs + rules.extraTailMs;
  }

  /** A beat went out to node at `at`. */
  sent(node: string, sequence: bigint, at: number): void {
    let b = this.beaten.get(node);
    if (b === undefined || at >= b.lastAt + this.tailMs) {
      b = { firstAt: at, lastAt: at, ackedAt: Number.NEGATIVE_INFINITY, streakSince: Number.POSITIVE_INFINITY, recent: [] };
      this.beaten.set(node, b);
    }
    b.lastAt = at;
    b.recent.push({ sequence, at });
    if (b.recent.length > REMEMBERED) b.recent.shift();
  }

  /**
   * node acked the beat with this sequence (renewing: whether its own Lease renewals work); false when it is
   * none of the recent beats sent to node.
   */
  acked(node: string, sequence: bigint, renewing = true): boolean {
    const b = this.beaten.get(node);
    const beat = b?.recent.find((r) => r.sequence === sequence);
    if (b === undefined || beat === undefined) return false;
    if (beat.at > b.ackedAt) {
      if (!renewing) b.streakSince = Number.POSITIVE_INFINITY;
      else if (b.streakSince === Number.POSITIVE_INFINITY || beat.at - b.ackedAt > STREAK_GAP_MS) b.streakSince = beat.at;
      b.ackedAt = beat.at;
    }
    return true;
  }

  /**
   * The earliest moment (local clock) as many standbys as a takeover needs
   * (rules.witnesses) could all call this node silent: -Infinity within the
   * tail after the start (unless the rules say no tail). Never more than the
   * silence window ahead of now, even when nobody is beaten: nodes beaten
   * from the next moment on could call it silent that soon, so the promise
   * must be renewed as time goes (the speaker does, every tick). It never
   * moves back: a node beaten for the first time contributes now plus the
   * silence window, no earlier than any horizon given before.
   */
  horizon(now: number): number {
    if (this.rules.startTail && now < this.startedAt + this.tailMs) return Number.NEGATIVE_INFINITY;
    const ahead = now + silenceMs(this.timing) - this.marginMs;
    // As many stand-ins for nodes not beaten yet as a takeover needs: any of them could be beaten from now on.
    const bounds = Array.from({ length: this.rules.witnesses }, () => ahead);
    for (const b of this.beaten.values()) {
      if (now >= b.lastAt + this.tailMs) continue;
      bounds.push(Math.max(b.firstAt, b.ackedAt) + silenceMs(this.timing) - this.marginMs);
    }
    bounds.sort((x, y) => x - y);
    return bounds[this.rules.witnesses - 1] as number;
  }

  /** Whether node acked a beat sent at or after `since` (local clock): it hears this node, and is heard. */
  ackedSince(node: string, since: number): boolean {
    return (this.beaten.get(node)?.ackedAt ?? Number.NEGATIVE_INFINITY) >= since;
  }

  /**
   * Whether node has acked this node's beats for at least forMs up to now, never missing more than the
   * streak gap, and renewing its own Lease all along (it ran, heard and was heard throughout: no crash,
   * stall, lost path or API outage of its own meanwhile).
   */
  ackedSteadily(node: string, now: number, forMs: number): boolean {
    const b = this.beaten.get(node);
    return b !== undefined && b.ackedAt >= now - STREAK_GAP_MS && b.streakSince <= now - forMs;
  }

  /** Drops nodes whose tail is over (they can no longer accuse this node). */
  prune(now: number): void {
    for (const [n, b] of this.beaten) if (now >= b.lastAt + this.tailMs) this.beaten.delete(n);
  }

  /** Nodes beaten within their tail (for metrics and tests). */
  nodes(): string[] {
    return [...this.beaten.keys()].sort();
  }
}
