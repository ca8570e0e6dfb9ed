// The controller's in-memory IPAM state: the address table, the evaluated
// pools, and the Services waiting for an address. It also says what must be
// looked at again when something changes (a freed address wakes the oldest
// waiting Services first; a pool change wakes every waiting Service and
// every pool status).

import { type Eip, objectKey, type Service } from '../k8s/types.js';
import { canonicalIp, parseIp } from '../net/ip.js';
import type { Logger } from '../observability/logger.js';
import { poolFromEip } from '../pools/pool.js';
import { PoolSet } from '../pools/pool-set.js';
import { isManaged } from '../pools/service-class.js';
import { AddressTable } from './address-table.js';
import { holderFromService, ingressIps } from './holder.js';
import { sharingConflict } from './sharing.js';

/** Pool name recorded for an adopted address that lies in no ready pool (kept, never handed out again). */
export const NO_POOL = '';

export interface IpamWakeups {
  services(keys: readonly string[]): void;
  /** Pools whose standing may have changed: look at them now. */
  pools(names: readonly string[]): void;
  /** Pools whose usage changed: their status may be written a little later, once for a whole burst. */
  poolUsage(names: readonly string[]): void;
}

export class IpamState {
  readonly table = new AddressTable();
  private poolSet: PoolSet | undefined;
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly eips: () => readonly Eip[],
    private readonly wake: IpamWakeups,
    private readonly log: Logger,
  ) {}

  pools(): PoolSet {
    this.poolSet ??= PoolSet.evaluate(this.eips().map(poolFromEip), (n) => this.table.countIn(n));
    return this.poolSet;
  }

  /** An Eip was added, changed or deleted: re-judge pools, re-check waiting Services and every pool's status. */
  poolsChanged(): void {
    this.poolSet = undefined;
    this.wake.pools(this.eips().map((e) => e.metadata.name));
    this.wakePending();
  }

  /** Addresses of these pools were given or taken: their status changes; if some were freed, waiting Services get a chance. */
  allocationsChanged(pools: readonly string[], freed: boolean): void {
    this.wake.poolUsage(pools.filter((p) => p !== NO_POOL));
    if (freed) this.wakePending();
  }

  markPending(key: string, createdAt: string): void {
    this.pending.set(key, createdAt);
  }

  clearPending(key: string): void {
    this.pending.delete(key);
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /** Waiting Services, oldest first, so a freed address goes to the one that waited longest. */
  private wakePending(): void {
    const keys = [...this.pending].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([k]) => k);
    if (keys.length > 0) this.wake.services(keys);
  }

  /**
   * Rebuilds the table from what the Services' status says they hold, before
   * anything is allocated: addresses an earlier leader gave out are taken
   * again by the same Services, never handed to others. Oldest Service
   * first; if two claim one address and may not share it, the older keeps it
   * and the other is re-planned by its reconcile.
   */
  rebuild(services: readonly Service[], loadBalancerClass: string): { adopted: number; conflicts: number } {
    let adopted = 0;
    let conflicts = 0;
    const pools = this.pools();
    const ordered = services
      .filter((s) => isManaged(s, loadBalancerClass))
      .sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1));
    for (const svc of ordered) {
      const holder = holderFromService(svc);
      for (const text of ingressIps(svc)) {
        const ip = parseIp(text);
        if (ip === undefined) continue;
        const clash = this.table.holdersOf(ip).find((h) => sharingConflict(holder, h) !== undefined);
        if (clash !== undefined) {
          conflicts++;
          this.log.warn(
            { service: objectKey(svc), ip: canonicalIp(text), heldBy: clash.key },
            'two Services claim one address; the older keeps it',
          );
          continue;
        }
        this.table.assign(ip, pools.poolFor(ip)?.pool.name ?? NO_POOL, holder);
        adopted++;
      }
    }
    this.poolSet = undefined;
    return { adopted, conflicts };
  }
}
