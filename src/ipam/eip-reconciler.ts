// reconcile(name) for Eips: keeps the finalizer on, writes the status
// (OpenELB's fields plus conditions), tells the user with an Event when the
// pool's standing changes, and lets a deleted pool go only once no Service
// holds one of its addresses.

import type { Clock } from '../clock.js';
import type { EventTarget } from '../k8s/event-recorder.js';
import type { ReconcileResult } from '../k8s/reconcile-loop.js';
import type { Condition, Eip } from '../k8s/types.js';
import type { Logger } from '../observability/logger.js';
import { rangeSize } from '../pools/address-range.js';
import { EIP_FINALIZER } from '../pools/names.js';
import type { EipWrites, EventSink, Fence, ReadCache } from './boundaries.js';
import { desiredEipStatus, sameStatus } from './eip-status.js';
import type { IpamMetrics } from './ipam-metrics.js';
import type { IpamState } from './ipam-state.js';

export interface EipReconcilerDeps {
  eips: ReadCache<Eip>;
  state: IpamState;
  writes: EipWrites;
  events: EventSink;
  fence: Fence;
  metrics: IpamMetrics;
  clock: Clock;
  log: Logger;
}

export class EipReconciler {
  constructor(private readonly deps: EipReconcilerDeps) {}

  reconcile = async (name: string): Promise<ReconcileResult> => {
    const eip = this.deps.eips.get(name);
    const { state, metrics } = this.deps;
    if (eip === undefined) {
      metrics.poolAddresses.remove({ pool: name });
      metrics.poolInUse.remove({ pool: name });
      return {};
    }
    const pool = state.pools().get(name);
    if (pool === undefined) return {};
    const finalizers = eip.metadata.finalizers ?? [];
    const deleting = eip.metadata.deletionTimestamp !== undefined;
    const users = state.table.usersOf(name);

    if (deleting && users.length === 0) {
      if (finalizers.includes(EIP_FINALIZER)) {
        this.deps.fence();
        await this.deps.writes.setFinalizers(
          eip,
          finalizers.filter((f) => f !== EIP_FINALIZER),
        );
        this.deps.log.info({ eip: name }, 'pool released for deletion');
      }
      return {};
    }
    let obj = eip;
    if (!deleting && !finalizers.includes(EIP_FINALIZER)) {
      this.deps.fence();
      obj = await this.deps.writes.setFinalizers(eip, [...finalizers, EIP_FINALIZER]);
    }

    const status = desiredEipStatus(pool, state.table, eip.status, this.deps.clock.wallNow(), eip.metadata.generation);
    if (!sameStatus(eip.status, status)) {
      this.deps.fence();
      await this.deps.writes.setStatus(obj, status);
      this.announce(eip, eip.status?.conditions ?? [], status.conditions ?? []);
    }
    const size = rangeSize(pool.pool.address?.usable);
    metrics.poolAddresses.set({ pool: name }, size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size));
    metrics.poolInUse.set({ pool: name }, state.table.countIn(name));
    return {};
  };

  /** One Event per change of a condition's reason: a user sees why a pool stopped or started working. */
  private announce(eip: Eip, before: readonly Condition[], after: readonly Condition[]): void {
    const t: EventTarget = { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: eip.metadata };
    for (const c of after) {
      const prev = before.find((p) => p.type === c.type);
      if (prev !== undefined && prev.reason === c.reason && prev.status === c.status) continue;
      const bad = (c.type === 'Ready' && c.status === 'False') || c.reason === 'SecondDefault' || c.reason === 'InUse';
      if (bad) {
        this.deps.events.record(t, 'Warning', c.reason, c.message);
        this.deps.log.warn({ eip: eip.metadata.name, reason: c.reason }, c.message);
      } else if (c.type === 'Ready' || c.type === 'Allocatable') {
        this.deps.events.record(t, 'Normal', c.reason, c.message);
      }
    }
  }
}
