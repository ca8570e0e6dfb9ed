// Who is alive, as a speaker in the slow liveness mode sees it
// (docs/heartbeats.md, step 3): what the fast mode's LivenessTracker is to
// renewals watched twice a second, this is to the change-only info records.
// A node is a candidate while its info record names it; it stops being live
// when
//   - its heartbeats went silent and a second standby witnessed it
//     (beat-witness.ts): a crash, found in about half a second; or
//   - it is a holder this node stands by for and cannot hear, and its slow
//     liveness Lease, read by this node because no heartbeat could tell
//     (lease-poller.ts), stayed the same for the duration it declares;
//   - or its info record or Lease says it left.
// Blind (this node's own watch is stale) nobody is dead, as in the fast mode.
// Rebalancing's "live since" counts from the first time this process saw the
// node's current boot on its info record (a restart is a new start); that a
// node did not stall or lose its path meanwhile, the holder learns from its
// acks (beat-acks.ts ackedSteadily).
import type { Clock } from '../clock.js';
import { BOOT_ANNOTATION, HANDOVER_ANNOTATION, HEARTBEAT_ANNOTATION, nodeOfInfoRecord, POOLS_ANNOTATION } from '../k8s/lease-names.js';
import type { LeaseRecord } from '../k8s/lease-store.js';
import type { LeasePoller } from './lease-poller.js';
import { DEFAULT_HANDOVER_MS } from './liveness-tracker.js';

interface Info {
  holder: string;
  pools: ReadonlySet<string>;
  heartbeat: string | undefined;
  boot: string | undefined;
  /** When this process first saw this boot of the node (local clock). */
  since: number;
  /** When this process first saw the record released (the speaker is leaving), if it is. */
  releasedAt: number | undefined;
  /** How long after its release the leaver may still answer for its IPs (HANDOVER_ANNOTATION). */
  handoverMs: number;
}

export class SlowPeers {
  private readonly infos = new Map<string, Info>();
  private blind = false;

  constructor(
    private readonly clock: Clock,
    private readonly poller: LeasePoller,
    /** The boot of node's process if its silence was witnessed (beat-exchange.ts witnessedSilent). */
    private readonly witnessedSilent: (node: string) => string | undefined,
    /** Whether a fresh beat of node is on record (beat-exchange.ts hears): then its Lease says nothing. */
    private readonly hears: (node: string) => boolean,
  ) {}

  /**
   * An info record from the watch. Returns its node and whether what the
   * others decide on changed (a new node or boot, a release, other pools or
   * endpoint); undefined for any other Lease.
   */
  observe(record: LeaseRecord): { node: string; changed: boolean } | undefined {
    const node = nodeOfInfoRecord(record.name);
    if (node === undefined) return undefined;
    const before = this.infos.get(node);
    const boot = record.annotations?.[BOOT_ANNOTATION];
    const pools = new Set((record.annotations?.[POOLS_ANNOTATION] ?? '').split(',').filter((p) => p !== ''));
    const sameBoot = before !== undefined && before.boot === boot && before.holder === record.holder;
    // A new process: what this node read of the old one's Lease says nothing of it.
    if (!sameBoot) this.poller.forget(node);
    const after: Info = {
      holder: record.holder,
      pools,
      heartbeat: record.annotations?.[HEARTBEAT_ANNOTATION],
      boot,
      since: sameBoot ? before.since : this.clock.now(),
      releasedAt:
        record.holder === node
          ? undefined
          : before !== undefined && before.holder !== node
            ? (before.releasedAt ?? this.clock.now())
            : this.clock.now(),
      handoverMs: positiveMs(record.annotations?.[HANDOVER_ANNOTATION]) ?? DEFAULT_HANDOVER_MS,
    };
    this.infos.set(node, after);
    const changed = !sameBoot || before.heartbeat !== after.heartbeat || [...before.pools].sort().join() !== [...after.pools].sort().join();
    return { node, changed };
  }

  /** An info record deleted (by hand): its node is no candidate until it writes it again (at once, if it runs). */
  deleted(name: string): string | undefined {
    const node = nodeOfInfoRecord(name);
    if (node !== undefined) this.infos.delete(node);
    return node;
  }

  live(node: string): boolean {
    const info = this.infos.get(node);
    if (info === undefined || info.holder !== node) return false;
    if (this.blind) return true;
    if (this.witnessedSilent(node) !== undefined) return false;
    return this.hears(node) || !this.poller.judges(node) || !this.poller.expired(node);
  }

  liveNodes(): string[] {
    return [...this.infos.keys()].filter((n) => this.live(n));
  }

  /** Nodes with an info record (live or not). */
  nodes(): string[] {
    return [...this.infos.keys()];
  }

  pools(node: string): ReadonlySet<string> {
    return this.infos.get(node)?.pools ?? new Set();
  }

  liveSince(node: string): number | undefined {
    return this.live(node) ? this.infos.get(node)?.since : undefined;
  }

  heartbeatEndpoint(node: string): string | undefined {
    const info = this.infos.get(node);
    return info === undefined || info.holder !== node ? undefined : info.heartbeat;
  }

  /**
   * A leaving speaker's IP Leases stand until its hand-over time, counted
   * from this process's first sighting of its released record, is over (as
   * in the fast mode: LivenessTracker.holdsIps).
   */
  holdsIps(node: string): boolean {
    if (this.live(node)) return true;
    const until = this.leavingUntil(node);
    return until !== undefined && this.clock.now() < until;
  }

  leavingUntil(node: string): number | undefined {
    const info = this.infos.get(node);
    return info === undefined || info.holder === node || info.releasedAt === undefined ? undefined : info.releasedAt + info.handoverMs;
  }

  /** When node stops being live by its Lease unless a read shows it renewed (for the expiry alarms); a leaver's hand-over end. */
  expiresAt(node: string): number | undefined {
    const info = this.infos.get(node);
    if (info !== undefined && info.holder !== node) return this.leavingUntil(node);
    return info?.holder === node && this.poller.judges(node) ? this.poller.expiresAt(node) : undefined;
  }

  setBlind(blind: boolean): void {
    if (this.blind && !blind) this.restartObservation();
    this.blind = blind;
  }

  restartObservation(): void {
    this.poller.restart();
  }
}

/** A positive number of ms from an annotation, or undefined. */
function positiveMs(text: string | undefined): number | undefined {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
