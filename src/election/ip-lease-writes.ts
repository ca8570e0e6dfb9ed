// The Lease writes of one IP's election, each guarded by the resourceVersion
// it was decided on, so exactly one contender wins any change of owner. A
// lost race (409, or 404 for a lease deleted meanwhile) is an outcome; every
// other failure is thrown, for the work queue to retry with backoff.
//
// Two reads of the API server itself, not the cache, where the cache can
// mislead:
// - Before taking an IP over from a holder that looks dead, read the
//   holder's liveness Lease: if it moved since this speaker last saw it, the
//   holder is alive and only this speaker's watch lagged; nothing moves.
// - A create that meets AlreadyExists (a lease someone stripped of its
//   labels, which the watch then reports as deleted): read it, and if it is
//   ours, put the labels back and keep it.
import type { Clock } from '../clock.js';
import { errorCode } from '../errors.js';
import { ipLeaseName, KIND_LABEL, LEASE_IP_ANNOTATION, leaseLabels, speakerLeaseName } from '../k8s/lease-names.js';
import { type LeaseRecord, type LeaseStore, microTime } from '../k8s/lease-store.js';
import { ABSENT } from '../k8s/own-writes.js';
import type { Logger } from '../observability/logger.js';
import type { IpEffect, WriteOutcome } from './ip-state.js';
import type { LivenessTracker } from './liveness-tracker.js';

export interface WriteResult {
  outcome: WriteOutcome;
  /** The cached version our successful write replaced (ABSENT for a create), for ignoring its echo. */
  replaced?: string;
}

export interface IpLeaseWritesOptions {
  me: string;
  clock: Clock;
  log: Logger;
  /** IP Leases and, for the checks before a takeover, speakers' liveness Leases (one namespace). */
  store: LeaseStore;
  /** The fast mode's watched liveness (for holderStopped below); the slow mode passes holderStopped instead. */
  liveness?: LivenessTracker;
  /**
   * leaseDurationSeconds written on IP leases. Informational (an IP lease is
   * valid while its holder's liveness lease is), but the API requires > 0,
   * and tools that read Leases expect a sensible value.
   */
  ipLeaseDurationSeconds: number;
  /**
   * Whether a holder really stopped, by a fresh read before a takeover; absent: by its watched liveness
   * Lease (holderStopped below). The slow liveness mode brings its own (slow-takeover.ts).
   */
  holderStopped?: (node: string) => Promise<boolean>;
}

type WriteEffect = Extract<IpEffect, { kind: 'confirm' | 'acquire' | 'retake' | 'release' | 'delete-lease' }>;

const LOST: WriteResult = { outcome: 'lost' };

export class IpLeaseWrites {
  constructor(private readonly options: IpLeaseWritesOptions) {}

  /** Carries out one write effect for ip, decided on `lease` (the cached record, if any). */
  async perform(ip: string, effect: WriteEffect, lease: LeaseRecord | undefined): Promise<WriteResult> {
    const { me } = this.options;
    switch (effect.kind) {
      case 'confirm':
        if (lease === undefined || lease.holder !== me) return LOST;
        return this.guarded(lease, () => this.options.store.update({ ...relabelled(lease), renewTime: this.stamp() }));
      case 'acquire':
        if (effect.previousHolder !== undefined && !(await this.stopped(effect.previousHolder))) return { outcome: 'holder-alive' };
        if (lease === undefined) return this.create(ip, 'acquire');
        return this.guarded(lease, () => this.options.store.update(this.takenBy(lease, lease.transitions + 1)));
      case 'retake':
        return lease === undefined
          ? this.create(ip, 'retake')
          : this.guarded(lease, () => this.options.store.update({ ...lease, renewTime: this.stamp() }));
      case 'release':
        if (lease === undefined || lease.holder !== me) return { outcome: 'won' };
        return this.guarded(lease, () => this.options.store.update({ ...lease, holder: '', renewTime: this.stamp() }));
      case 'delete-lease':
        if (lease === undefined) return { outcome: 'won' };
        try {
          await this.options.store.delete(lease);
        } catch (err) {
          // Gone already, or someone else's now: either way nothing of ours is left to delete.
          if (!isLostRace(err)) throw err;
        }
        return { outcome: 'won' };
    }
  }

  private stopped(node: string): Promise<boolean> {
    return this.options.holderStopped?.(node) ?? this.holderStopped(node);
  }

  /**
   * Whether the holder's liveness Lease really stopped: it is gone,
   * released with its hand-over time over, or still at the version this speaker saw at least a lease
   * duration ago (the tracker counts the node expired). A version it has not
   * seen means the holder renews and this speaker's watch lags; a version it
   * has just seen (another reconcile read it a moment ago) proves nothing yet.
   */
  private async holderStopped(node: string): Promise<boolean> {
    const liveness = this.options.liveness;
    if (liveness === undefined) throw new RangeError('IpLeaseWrites needs liveness or holderStopped');
    const fresh = await this.options.store.get(speakerLeaseName(node));
    if (fresh === undefined) return true;
    if (fresh.holder !== node) {
      // Released: a leaving speaker hands its IPs over itself until its hand-over time is over.
      liveness.observe(fresh);
      return !liveness.holdsIps(node);
    }
    if (fresh.resourceVersion === liveness.observedVersion(node)) return !liveness.live(node);
    this.options.log.info({ peer: node, resourceVersion: fresh.resourceVersion }, 'holder still renews (this watch lags): not taking over');
    liveness.observe(fresh);
    return false;
  }

  private async create(ip: string, why: 'acquire' | 'retake'): Promise<WriteResult> {
    const wall = this.stamp();
    try {
      await this.options.store.create({
        name: ipLeaseName(ip),
        holder: this.options.me,
        durationSeconds: this.options.ipLeaseDurationSeconds,
        acquireTime: wall,
        renewTime: wall,
        transitions: 0,
        resourceVersion: undefined,
        labels: leaseLabels('ip'),
        annotations: { [LEASE_IP_ANNOTATION]: ip },
      });
      return { outcome: 'won', replaced: ABSENT };
    } catch (err) {
      if (errorCode(err) !== 'K8S_ALREADY_EXISTS') throw err;
      return this.adopt(ip, why);
    }
  }

  /**
   * The lease exists though the cache has none: someone stripped its labels
   * (the watch reported it deleted), or another speaker created it a moment
   * ago. Read it: ours → labels back on, keep it; a live holder's → lost;
   * free or a stopped holder's → take it over (acquire only).
   */
  private async adopt(ip: string, why: 'acquire' | 'retake'): Promise<WriteResult> {
    const fresh = await this.options.store.get(ipLeaseName(ip));
    if (fresh === undefined) return LOST;
    const relabelled = {
      ...fresh,
      labels: { ...fresh.labels, ...leaseLabels('ip') },
      annotations: { ...fresh.annotations, [LEASE_IP_ANNOTATION]: ip },
    };
    const unlabelled = fresh.labels?.[KIND_LABEL] !== 'ip';
    if (fresh.holder === this.options.me) {
      if (unlabelled) this.options.log.warn({ ip, lease: fresh.name }, 'our IP lease lost its labels: putting them back');
      return this.guarded(undefined, () => this.options.store.update({ ...relabelled, renewTime: this.stamp() }));
    }
    if (why === 'retake') return LOST;
    if (fresh.holder !== '' && !(await this.stopped(fresh.holder))) return LOST;
    return this.guarded(undefined, () => this.options.store.update(this.takenBy(relabelled, fresh.transitions + 1)));
  }

  private takenBy(lease: LeaseRecord, transitions: number): LeaseRecord {
    const wall = this.stamp();
    return { ...relabelled(lease), holder: this.options.me, acquireTime: wall, renewTime: wall, transitions };
  }

  /** Runs a write decided on `basis` (undefined: on a fresh read the cache does not show). */
  private async guarded(basis: LeaseRecord | undefined, write: () => Promise<LeaseRecord>): Promise<WriteResult> {
    try {
      await write();
      return { outcome: 'won', replaced: basis?.resourceVersion ?? ABSENT };
    } catch (err) {
      if (isLostRace(err)) return LOST;
      throw err;
    }
  }

  private stamp(): string {
    return microTime(this.options.clock.wallNow());
  }
}

/** The IP Lease with today's labels (an older version's Lease gains the audience label the slow watch selects). */
function relabelled(lease: LeaseRecord): LeaseRecord {
  return { ...lease, labels: { ...lease.labels, ...leaseLabels('ip') } };
}

/** 409: someone wrote since the version we read. 404: the lease was deleted meanwhile. Both mean: decide again. */
function isLostRace(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'K8S_CONFLICT' || code === 'K8S_NOT_FOUND' || code === 'K8S_ALREADY_EXISTS';
}
