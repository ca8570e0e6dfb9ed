// The slow liveness mode of one speaker (docs/heartbeats.md, step 3), as the
// composition root uses it: its info record, its view of the peers (from
// their info records, witnessed heartbeat silences and, where no heartbeat
// can tell, their Leases read every few seconds), and the check before a
// takeover. Kept apart from speaker.ts so that the fast path stays as it
// was; the decisions are in election/ (slow-peers.ts, lease-poller.ts,
// slow-takeover.ts, info-record.ts, silence-declaration.ts).
import type { Clock } from '../clock.js';
import { InfoRecord } from '../election/info-record.js';
import { LeasePoller } from '../election/lease-poller.js';
import type { LivenessTimings } from '../election/liveness-mode.js';
import { SlowPeers } from '../election/slow-peers.js';
import { slowHolderStopped } from '../election/slow-takeover.js';
import { infoRecordName, LIVENESS_MODE_ANNOTATION } from '../k8s/lease-names.js';
import type { LeaseRecord, LeaseStore } from '../k8s/lease-store.js';
import type { Logger } from '../observability/logger.js';
import type { SpeakerHeartbeats } from './heartbeats.js';

export interface SlowLivenessOptions {
  node: string;
  clock: Clock;
  log: Logger;
  /** Reads of peers' liveness Leases, and this speaker's info record writes. */
  store: LeaseStore;
  timings: LivenessTimings;
  beats: SpeakerHeartbeats;
  /** What the info record says besides the heartbeats' part (pools, interfaces). */
  annotations(): Record<string, string>;
  /** This speaker's hand-over timeout, said on its released info record. */
  handoverMs: number;
  /** This node's lease watch is stale. */
  blind(): boolean;
  /** A read showed a peer's Lease changed or expired: look at its IPs again. */
  peerChanged(node: string): void;
  metrics: { read(ok: boolean): void; infoWritten(): void };
}

export class SlowLiveness {
  readonly peers: SlowPeers;
  readonly poller: LeasePoller;
  readonly info: InfoRecord;
  readonly holderStopped: (node: string) => Promise<boolean>;

  constructor(private readonly o: SlowLivenessOptions) {
    const { clock, log, store, beats } = o;
    const reads: Pick<LeaseStore, 'get'> = {
      get: async (name) => {
        try {
          const r = await store.get(name);
          o.metrics.read(true);
          return r;
        } catch (err) {
          o.metrics.read(false);
          throw err;
        }
      },
    };
    this.poller = new LeasePoller({
      clock,
      log,
      store: reads,
      intervalMs: o.timings.pollIntervalMs,
      defaultDurationMs: o.timings.leaseDurationMs,
      targets: () => this.targets(),
      onChange: o.peerChanged,
    });
    this.peers = new SlowPeers(
      clock,
      this.poller,
      (n) => beats.witnessedSilent(n),
      (n) => beats.hears(n),
    );
    this.info = new InfoRecord({
      node: o.node,
      store,
      clock,
      log,
      annotations: () => ({ ...o.annotations(), ...beats.infoAnnotations(), [LIVENESS_MODE_ANNOTATION]: 'slow' }),
      handoverMs: o.handoverMs,
      onWritten: o.metrics.infoWritten,
    });
    this.holderStopped = slowHolderStopped({
      store: reads,
      poller: this.poller,
      log,
      witnessedSilent: (n) => beats.witnessedSilent(n),
      blind: o.blind,
      holdsIps: (n) => this.peers.holdsIps(n),
    });
  }

  /** After the first renewal (which carries the boot id): publish the info record, start reading Leases. */
  start(): void {
    this.info.sync();
    this.poller.start();
  }

  /** Every tick: the info record follows what it should say (a write only when that changed). */
  tick(): void {
    this.info.sync();
  }

  /** A Lease from the watch: an info record (this node's own included) is taken here; undefined for others. */
  observe(record: LeaseRecord): { node: string; changed: boolean } | undefined {
    if (record.name === infoRecordName(this.o.node)) this.info.seen(record);
    return this.peers.observe(record);
  }

  /** A Lease deleted on the watch; the node of an info record, if it was one. */
  deleted(name: string): string | undefined {
    if (name === infoRecordName(this.o.node)) this.info.seen(undefined);
    return this.peers.deleted(name);
  }

  /** SIGTERM: the info record names nobody (after the liveness Lease was released). */
  async release(): Promise<void> {
    this.poller.stop();
    await this.info.release();
  }

  stop(): void {
    this.poller.stop();
  }

  /**
   * Whose Lease to read: holders this node stands by for and cannot hear
   * (never heard, silent without a witness, asking to be judged by their
   * Lease). Holders it hears cost no read.
   */
  private targets(): string[] {
    return this.o.beats.watchedHolders().filter((h) => !this.o.beats.hears(h));
  }
}
