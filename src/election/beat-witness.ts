// The second witness of a heartbeat silence, for the slow liveness Lease
// (docs/heartbeats.md, step 3). With a Lease renewed every 10 s there is no
// quiet Lease to confirm that a silent holder is dead, so a standby that
// finds a holder silent asks the holder's other standbys (a query, with a
// fresh nonce); one that finds it silent too, about the same boot of the
// holder, answers (a witness). The asking standby treats the holder as
// confirmed silent for VALID_MS after it sent the query, no longer.
//
// Why the answer needs an embargo. The holder fences its defence by its
// standbys' acks (beat-acks.ts): an ack of a beat sent at A means that
// standby cannot call it silent before A plus the silence window. But a
// witness's answer is used after it was given: had the witness heard the
// holder again and acked meanwhile, the holder would count on that ack while
// the answer still moves its IP. So a standby that answered withholds its
// acks to that holder for EMBARGO_MS, longer than any answer is used: while
// the answer can count, the holder learns nothing newer from the witness
// than that it fell silent. beat-acks.test.ts checks the pair of rules over
// random loss and lateness (and finds the hole without the embargo).
//
// A process cannot know what its predecessor on the same node answered just
// before it died, so a new process withholds every ack for the embargo after
// it starts (a restart takes longer than that anyway; the rule makes it an
// argument rather than an assumption).
//
// The nonce makes an answer count for one query only: a captured answer
// replayed later matches no query. A replayed query can at most make a
// standby withhold its acks (the holder degrades to Lease-speed failover),
// never move an IP. Pure but for the clock values passed in.
import { randomBytes } from 'node:crypto';

export interface WitnessTiming {
  /** How long after sending a query its answers count. 150 ms: a LAN round trip and one fresh Lease read, with room. */
  validMs: number;
  /** How long a standby that answered withholds its acks to that holder. 250 ms: longer than validMs, with margin for clock rates and lateness. */
  embargoMs: number;
}

export const DEFAULT_WITNESS_TIMING: WitnessTiming = { validMs: 150, embargoMs: 250 };

interface Query {
  holder: string;
  bootId: string;
  sentAt: number;
}

export class WitnessBook {
  private readonly queries = new Map<string, Query>();
  /** Holder → the boot a witness confirmed silent, and until when (local clock). */
  private readonly confirmations = new Map<string, { bootId: string; until: number }>();
  /** Holder → until when this node withholds its acks (it answered a query about it). */
  private readonly embargoes = new Map<string, number>();

  constructor(
    private readonly timing: WitnessTiming = DEFAULT_WITNESS_TIMING,
    /** When this process started (local clock): no acks for the embargo after it, whatever its predecessor answered. */
    private readonly startedAt = Number.NEGATIVE_INFINITY,
  ) {
    if (timing.embargoMs <= timing.validMs) throw new RangeError('the embargo must outlast the validity of an answer');
  }

  /** A query about holder's silence (boot bootId) goes out now; its nonce. */
  ask(holder: string, bootId: string, now: number): string {
    const nonce = randomBytes(8).toString('hex');
    this.queries.set(nonce, { holder, bootId, sentAt: now });
    return nonce;
  }

  /**
   * A witness answered the query with this nonce about (holder, bootId): the
   * holder is confirmed silent until the query's send time plus validMs.
   * Returns the holder, or undefined for an answer that matches no query of
   * this process that is still valid (late, replayed, or about another holder).
   */
  answered(nonce: string, holder: string, bootId: string, now: number): string | undefined {
    const q = this.queries.get(nonce);
    if (q === undefined || q.holder !== holder || q.bootId !== bootId) return undefined;
    const until = q.sentAt + this.timing.validMs;
    if (now >= until) return undefined;
    const prior = this.confirmations.get(holder);
    if (prior === undefined || prior.bootId !== bootId || prior.until < until) this.confirmations.set(holder, { bootId, until });
    return holder;
  }

  /** The boot of holder that a witness confirmed silent, while the confirmation holds. */
  confirmed(holder: string, now: number): string | undefined {
    const c = this.confirmations.get(holder);
    return c !== undefined && now < c.until ? c.bootId : undefined;
  }

  /** This node answered a query about holder: no acks to it until the embargo ends. */
  answering(holder: string, now: number): void {
    this.embargoes.set(holder, Math.max(this.embargoes.get(holder) ?? Number.NEGATIVE_INFINITY, now + this.timing.embargoMs));
  }

  embargoed(holder: string, now: number): boolean {
    return now < this.startedAt + this.timing.embargoMs || now < (this.embargoes.get(holder) ?? Number.NEGATIVE_INFINITY);
  }

  /**
   * The holder was heard again, or this node must judge it afresh: its
   * confirmation goes. An embargo never does: it is a promise already made.
   */
  forget(holder: string): void {
    this.confirmations.delete(holder);
  }

  forgetAll(): void {
    this.confirmations.clear();
  }

  /** Drops queries and confirmations past their validity, and embargoes that ended. */
  prune(now: number): void {
    for (const [n, q] of this.queries) if (now >= q.sentAt + this.timing.validMs) this.queries.delete(n);
    for (const [h, c] of this.confirmations) if (now >= c.until) this.confirmations.delete(h);
    for (const [h, until] of this.embargoes) if (now >= until) this.embargoes.delete(h);
  }
}
