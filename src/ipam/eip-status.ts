// The status Baton writes on an Eip: OpenELB's fields (poolSize, usage,
// used, firstIP, lastIP, v4, occupied, ready) so existing tooling keeps
// reading them, plus conditions that say in words what is wrong, plus
// poolSizeExact when poolSize cannot hold the truth.
import type { Condition, EipStatus } from '../k8s/types.js';
import { formatIp } from '../net/ip.js';
import { rangeSize } from '../pools/address-range.js';
import type { PoolState } from '../pools/pool-set.js';
import type { AddressTable } from './address-table.js';

// poolSize is an integer in OpenELB's schema, read as int64 by Go tools and as a double by JavaScript ones; a
// larger pool (an IPv6 /64 holds 2^64 - 129) is reported at this ceiling, 2^53 - 1, the largest integer both
// read exactly, and its true size goes to poolSizeExact.
const MAX_REPORTED_POOL_SIZE = Number.MAX_SAFE_INTEGER;

/** The status with Baton's extra field (charts/baton/crds/eips.network.kubesphere.io.yaml). */
export interface BatonEipStatus extends EipStatus {
  /**
   * The exact number of addresses the pool can hand out, in decimal: present only when poolSize is
   * capped at 2^53 - 1 (so absent means poolSize is exact). A string: no JSON number type of the
   * API's clients holds 2^64. OpenELB's own CRD prunes it, which loses only this field.
   */
  readonly poolSizeExact?: string;
}

export function desiredEipStatus(
  state: PoolState,
  table: AddressTable,
  previous: EipStatus | undefined,
  now: Date,
  generation: number | undefined,
): BatonEipStatus {
  const pool = state.pool;
  const usable = pool.address?.usable;
  const size = rangeSize(usable);
  const usage = table.countIn(pool.name);
  const used = table.usedIn(pool.name);
  const conditions: Array<Omit<Condition, 'lastTransitionTime'>> = [
    state.ready
      ? { type: 'Ready', status: 'True', reason: 'Accepted', message: state.message }
      : { type: 'Ready', status: 'False', reason: state.reason, message: state.message },
    allocatableCondition(state),
  ];
  if (pool.annotatedDefault) {
    conditions.push(
      state.isDefault
        ? { type: 'Default', status: 'True', reason: 'DefaultPool', message: 'Services that name no pool get addresses from this one' }
        : state.defaultLostTo !== undefined
          ? {
              type: 'Default',
              status: 'False',
              reason: 'SecondDefault',
              message: `Eip ${state.defaultLostTo} is already the default; this pool serves only Services that name it or its namespaces`,
            }
          : { type: 'Default', status: 'False', reason: 'NotReady', message: 'a pool that is not ready cannot be the default' },
    );
  }
  if (pool.deleting) {
    const users = table.usersOf(pool.name);
    conditions.push(
      users.length > 0
        ? {
            type: 'Deleting',
            status: 'True',
            reason: 'InUse',
            message: `deletion waits until no Service uses this pool; in use by ${users.join(', ')}`,
          }
        : { type: 'Deleting', status: 'True', reason: 'Released', message: 'no Service uses this pool any more' },
    );
  }
  const capped = size > BigInt(MAX_REPORTED_POOL_SIZE);
  return {
    occupied: size > 0n && BigInt(usage) >= size,
    usage,
    poolSize: capped ? MAX_REPORTED_POOL_SIZE : Number(size),
    ...(capped ? { poolSizeExact: size.toString() } : {}),
    ...(Object.keys(used).length > 0 ? { used } : {}),
    ...(usable !== undefined
      ? {
          firstIP: formatIp({ family: usable.family, value: usable.first }),
          lastIP: formatIp({ family: usable.family, value: usable.last }),
          v4: usable.family === 4,
        }
      : {}),
    ready: state.ready,
    conditions: withTransitionTimes(conditions, previous?.conditions ?? [], now, generation),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

function allocatableCondition(state: PoolState): Omit<Condition, 'lastTransitionTime'> {
  switch (state.allocatableReason) {
    case 'Allocatable':
      return { type: 'Allocatable', status: 'True', reason: 'Allocatable', message: 'new Services can get addresses from this pool' };
    case 'Disabled':
      return {
        type: 'Allocatable',
        status: 'False',
        reason: 'Disabled',
        message: 'spec.disable is true: no new addresses; Services keep the ones they have',
      };
    case 'Deleting':
      return { type: 'Allocatable', status: 'False', reason: 'Deleting', message: 'the pool is being deleted: no new addresses' };
    case 'NotReady':
      return { type: 'Allocatable', status: 'False', reason: 'NotReady', message: 'the pool is not ready; see the Ready condition' };
  }
}

/** Keeps a condition's lastTransitionTime while its status stays the same, as Kubernetes conventions ask. */
export function withTransitionTimes(
  conditions: ReadonlyArray<Omit<Condition, 'lastTransitionTime'>>,
  previous: readonly Condition[],
  now: Date,
  generation: number | undefined,
): Condition[] {
  return conditions.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    const lastTransitionTime =
      before !== undefined && before.status === c.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...c, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  });
}

/** True when two statuses say the same thing (ignoring key order): no write is needed. */
export function sameStatus(a: EipStatus | undefined, b: EipStatus): boolean {
  return stableJson(a ?? {}) === stableJson(b);
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
