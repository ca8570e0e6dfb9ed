// Which speakers are alive, judged only by local observation: a speaker is
// live while less than its lease duration has passed, on this process's
// monotonic clock, since this process last saw its lease change. A remote
// renewTime is never compared with the local wall clock (clocks of two
// machines disagree; observation time cannot). With LAN heartbeats on
// (beat-exchange.ts), a holder its standbys find silent is not live either,
// before its Lease expires, once its Lease also went the quiet time it
// declares (QUIET_ANNOTATION) without a renewal: judgeSilenceBy() plugs that
// judgement in, so eligibility, decisions and the check before a takeover
// all see it. A speaker that declares no quiet time is judged by its Lease
// alone, whatever its beats say.
import type { Clock } from '../clock.js';
import {
  DURATION_ANNOTATION,
  HANDOVER_ANNOTATION,
  HEARTBEAT_ANNOTATION,
  nodeOfSpeakerLease,
  POOLS_ANNOTATION,
  QUIET_ANNOTATION,
} from '../k8s/lease-names.js';
import type { LeaseRecord } from '../k8s/lease-store.js';

interface Observation {
  resourceVersion: string | undefined;
  holder: string;
  observedAt: number;
  durationMs: number;
  pools: ReadonlySet<string>;
  /** Where it takes heartbeats (HEARTBEAT_ANNOTATION), as written. */
  heartbeat: string | undefined;
  /** The quiet time it declares (QUIET_ANNOTATION); undefined: never judged by its silence. */
  quietMs: number | undefined;
  /** Since when the node has been live without a break (for rebalancing: only settled nodes get IPs handed to them). */
  liveSince: number;
  /** When this process first saw the lease released (no holder: a speaker leaving on SIGTERM), if it is. */
  releasedAt: number | undefined;
  /** How long after its release the leaver may still answer for its IPs (HANDOVER_ANNOTATION). */
  handoverMs: number;
}

/**
 * A released lease that does not say how long its leaver answers on (a
 * speaker of an earlier version): the chart's hand-over timeout, after which
 * every speaker stops answering for good.
 */
export const DEFAULT_HANDOVER_MS = 3_000;

export class LivenessTracker {
  private readonly seen = new Map<string, Observation>();
  private blind = false;
  private silent: (node: string) => boolean = () => false;
  private onRenewal: (node: string) => void = () => {};

  constructor(
    private readonly clock: Clock,
    private readonly defaultDurationMs: number,
  ) {}

  /**
   * Records a speaker lease from the cache; a new resourceVersion is a sign
   * of life. Returns the node and whether more than a renewal changed (a
   * new speaker, a release, other pools): that changes who is eligible;
   * and whether it was a version not seen before (a renewal: proof of life).
   */
  observe(lease: LeaseRecord): { node: string; changed: boolean; renewed: boolean } | undefined {
    const node = nodeOfSpeakerLease(lease.name);
    if (node === undefined) return undefined;
    const before = this.seen.get(node);
    if (before !== undefined && before.resourceVersion === lease.resourceVersion) return { node, changed: false, renewed: false };
    const declared = Number(lease.annotations?.[DURATION_ANNOTATION]);
    const now = this.clock.now();
    // Continuity by observation only (not blind mode's benefit of the doubt): a speaker that restarted after expiring starts afresh.
    const continuing =
      before !== undefined && before.holder === node && lease.holder === node && now < before.observedAt + before.durationMs;
    const released = lease.holder !== node;
    this.seen.set(node, {
      liveSince: continuing ? before.liveSince : now,
      releasedAt: !released ? undefined : before !== undefined && before.holder !== node ? (before.releasedAt ?? now) : now,
      handoverMs: positive(lease.annotations?.[HANDOVER_ANNOTATION]) ?? DEFAULT_HANDOVER_MS,
      resourceVersion: lease.resourceVersion,
      holder: lease.holder,
      observedAt: now,
      durationMs:
        Number.isFinite(declared) && declared > 0
          ? declared
          : lease.durationSeconds > 0
            ? lease.durationSeconds * 1000
            : this.defaultDurationMs,
      pools: new Set((lease.annotations?.[POOLS_ANNOTATION] ?? '').split(',').filter((p) => p !== '')),
      heartbeat: lease.annotations?.[HEARTBEAT_ANNOTATION],
      quietMs: positive(lease.annotations?.[QUIET_ANNOTATION]),
    });
    const after = this.seen.get(node) as Observation;
    const changed =
      before === undefined || before.holder !== after.holder || [...after.pools].sort().join() !== [...before.pools].sort().join();
    // From the watch or from a fresh read before a takeover (ip-lease-writes.ts): either way, proof of life.
    this.onRenewal(node);
    return { node, changed, renewed: true };
  }

  /**
   * A second opinion on who is live: judge(node) true means "silent by LAN
   * heartbeats". Such a node is not live once its Lease, too, has gone the
   * quiet time it declares without a renewal: two independent signs, so lost
   * datagrams alone never make a renewing holder dead. Blind mode still wins
   * (while this process cannot watch, it acts on nobody). onRenewal hears of
   * every version not seen before (a silence it contradicts ends).
   */
  judgeSilenceBy(judge: (node: string) => boolean, onRenewal: (node: string) => void = () => {}): void {
    this.silent = judge;
    this.onRenewal = onRenewal;
  }

  /** When a silent node stops being live unless its Lease is renewed first (local clock); undefined if it declares no quiet time. */
  quietAt(node: string): number | undefined {
    const o = this.seen.get(node);
    return o?.quietMs === undefined ? undefined : o.observedAt + o.quietMs;
  }

  /**
   * A leaving speaker (its lease released on SIGTERM) may answer for the IPs
   * it held until its hand-over timeout, counted from before its release
   * write; this process saw the release no earlier than that write began,
   * so it counts the timeout from its sighting and lands no earlier than
   * the leaver's own end. Undefined for a speaker that is not leaving.
   */
  leavingUntil(node: string): number | undefined {
    const o = this.seen.get(node);
    return o === undefined || o.holder === node || o.releasedAt === undefined ? undefined : o.releasedAt + o.handoverMs;
  }

  /**
   * Whether the node's IP Leases still stand: it is live, or it is leaving
   * and its hand-over time is not over. Its IPs are not taken over before:
   * until then it hands them over itself, by releasing each IP Lease (a
   * successor then waits out that lease's window), never by a race with its
   * reader (taking over a leaver at once let a starved reader answer after
   * the heir's announcement, on real pods).
   */
  holdsIps(node: string): boolean {
    if (this.live(node)) return true;
    const until = this.leavingUntil(node);
    return until !== undefined && this.clock.now() < until;
  }

  /** Where the node takes heartbeats, as its Lease says ("host:port"), if it does. */
  heartbeatEndpoint(node: string): string | undefined {
    const o = this.seen.get(node);
    return o === undefined || o.holder !== node ? undefined : o.heartbeat;
  }

  /**
   * A speaker lease was deleted (by hand, by a cleanup job). That is no
   * sign of death: a live speaker re-creates it with its next renewal. The
   * last observation stands and expires as usual; only then is the node
   * dead, and an expired, deleted lease is forgotten.
   */
  deleted(leaseName: string): string | undefined {
    const node = nodeOfSpeakerLease(leaseName);
    if (node === undefined) return undefined;
    const o = this.seen.get(node);
    if (o !== undefined && !this.live(node)) this.seen.delete(node);
    return node;
  }

  /** Since when the node has been live without a break, or undefined if it is not live. */
  liveSince(node: string): number | undefined {
    return this.live(node) ? this.seen.get(node)?.liveSince : undefined;
  }

  /** The resourceVersion of the node's lease this process saw last (to check, before a takeover, that it really stopped). */
  observedVersion(node: string): string | undefined {
    return this.seen.get(node)?.resourceVersion;
  }

  /**
   * While this process cannot watch (its lease watch broke), it sees
   * nothing, and seeing nothing is no evidence that anyone died: every known
   * speaker counts as live until the watch works again.
   */
  setBlind(blind: boolean): void {
    if (this.blind && !blind) this.restartObservation();
    this.blind = blind;
  }

  /** Every speaker gets a fresh full duration from now (after a time of not watching). */
  restartObservation(): void {
    const now = this.clock.now();
    for (const o of this.seen.values()) o.observedAt = now;
  }

  /** Live: the lease names the node as holder (a released lease names nobody) and has not expired by local observation. */
  live(node: string): boolean {
    const o = this.seen.get(node);
    if (o === undefined || o.holder !== node) return false;
    if (this.blind) return true;
    const now = this.clock.now();
    if (o.quietMs !== undefined && now >= o.observedAt + o.quietMs && this.silent(node)) return false;
    return now < o.observedAt + o.durationMs;
  }

  /** Speakers known to this tracker (live or not). */
  nodes(): string[] {
    return [...this.seen.keys()];
  }

  /** Local time at which the node stops being live unless its lease changes again. */
  /** When the node stops being live, or for a leaving one when its hand-over time is over (its IPs are looked at again then). */
  expiresAt(node: string): number | undefined {
    const o = this.seen.get(node);
    if (o === undefined) return undefined;
    return o.holder !== node ? this.leavingUntil(node) : o.observedAt + o.durationMs;
  }

  pools(node: string): ReadonlySet<string> {
    return this.seen.get(node)?.pools ?? new Set();
  }

  liveNodes(): string[] {
    return [...this.seen.keys()].filter((n) => this.live(n));
  }
}

/** A positive number of ms from an annotation, or undefined. */
function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
