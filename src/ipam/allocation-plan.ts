// Decides which addresses a Service should hold, given what it asks for,
// the pools, and who holds what. Pure: it reads the table and returns a
// plan; the reconciler applies it. Sticky: an address a Service holds and
// may still hold is kept, whatever has changed around it (a pool disabled,
// a newer default pool), so no client ever loses a working address to a
// change it did not ask for.
import { formatIp, type IpAddress, type IpFamily } from '../net/ip.js';
import { rangeContains } from '../pools/address-range.js';
import type { PoolSet, PoolState } from '../pools/pool-set.js';
import type { AddressTable, Allocation } from './address-table.js';
import { familyName, type LoadBalancerRequest, type RequestRefusalReason } from './service-request.js';
import { type Holder, sharingConflict } from './sharing.js';

export type AllocationFailureReason =
  | RequestRefusalReason
  | 'PoolNotFound'
  | 'PoolNotReady'
  | 'PoolDisabled'
  | 'PoolDeleting'
  | 'PoolExhausted'
  | 'NoPoolForFamily'
  | 'NoEligiblePool'
  | 'IPOutsidePool'
  | 'IPInUse';

export interface PlannedAddress {
  ip: IpAddress;
  pool: string;
}

export interface FamilyFailure {
  family: IpFamily;
  reason: AllocationFailureReason;
  message: string;
}

export type Plan =
  | { ok: true; addresses: PlannedAddress[]; skipped: FamilyFailure[] }
  | { ok: false; reason: AllocationFailureReason; message: string };

export interface PlanContext {
  pools: PoolSet;
  table: AddressTable;
  namespaceLabels: Readonly<Record<string, string>>;
}

export function holderOf(request: LoadBalancerRequest): Holder {
  return {
    key: request.key,
    createdAt: request.createdAt,
    ports: request.ports,
    externalTrafficPolicyLocal: request.externalTrafficPolicyLocal,
    selector: request.selector,
  };
}

export function planAddresses(request: LoadBalancerRequest, ctx: PlanContext): Plan {
  const current = ctx.table.allocationsOf(request.key);
  const addresses: PlannedAddress[] = [];
  const failures: FamilyFailure[] = [];
  for (const family of request.families) {
    const result = planFamily(request, family, current, ctx);
    if ('reason' in result) failures.push(result);
    else addresses.push(result);
  }
  const first = failures[0];
  if (first !== undefined && (request.requireAllFamilies || addresses.length === 0)) {
    return { ok: false, reason: first.reason, message: first.message };
  }
  return { ok: true, addresses, skipped: failures };
}

function planFamily(
  request: LoadBalancerRequest,
  family: IpFamily,
  current: Allocation[],
  ctx: PlanContext,
): PlannedAddress | FamilyFailure {
  const fail = (reason: AllocationFailureReason, message: string): FamilyFailure => ({ family, reason, message });
  const held = current.find((a) => a.ip.family === family);
  const wantedIp = request.ips.find((ip) => ip.family === family);
  const named = request.pools;

  if (wantedIp !== undefined) {
    const text = formatIp(wantedIp);
    if (held !== undefined && held.text === text) return { ip: held.ip, pool: held.pool };
    const pool = ctx.pools.poolFor(wantedIp);
    if (pool === undefined) return fail('IPOutsidePool', `${text} is in no ready Eip; it can only come from a pool`);
    if (named.length > 0 && !named.includes(pool.pool.name)) {
      return fail('IPOutsidePool', `${text} belongs to Eip ${pool.pool.name}, not to ${named.join(', ')}`);
    }
    if (!rangeContains(pool.pool.address?.usable, wantedIp)) {
      return fail('IPOutsidePool', `${text} is the network or broadcast address of Eip ${pool.pool.name}, which are not handed out`);
    }
    const blocked = notAllocatable(pool);
    if (blocked !== undefined) return blocked(family);
    const me = holderOf(request);
    for (const other of ctx.table.holdersOf(wantedIp)) {
      if (other.key === request.key) continue;
      const why = sharingConflict(me, other);
      if (why !== undefined) return fail('IPInUse', `${text} is held by ${other.key} and cannot be shared: ${why}`);
    }
    return { ip: wantedIp, pool: pool.pool.name };
  }

  if (named.length > 0) {
    const existing = named.map((n) => ctx.pools.get(n)).filter((s): s is PoolState => s !== undefined);
    if (held !== undefined && named.includes(held.pool)) return { ip: held.ip, pool: held.pool };
    if (existing.length === 0) {
      return fail('PoolNotFound', `Eip ${named.join(', ')} does not exist; the Service waits and gets an address once it is created`);
    }
    const ofFamily = existing.filter((s) => s.pool.address?.declared.family === family);
    if (ofFamily.length === 0) {
      const missing = named.filter((n) => ctx.pools.get(n) === undefined);
      return missing.length > 0
        ? fail('PoolNotFound', `Eip ${missing.join(', ')} does not exist; the Service waits for an ${familyName(family)} pool`)
        : fail('NoPoolForFamily', `none of the named Eips (${named.join(', ')}) has ${familyName(family)} addresses`);
    }
    return takeFirstFree(ofFamily, request, family, ctx);
  }

  if (held !== undefined) return { ip: held.ip, pool: held.pool };
  const candidates = ctx.pools.candidatesFor(request.namespace, ctx.namespaceLabels, family);
  if (candidates.length === 0) {
    return fail(
      'NoEligiblePool',
      `no ${familyName(family)} Eip is bound to namespace ${request.namespace} and there is no default Eip; name one with eip.openelb.kubesphere.io/v1alpha2`,
    );
  }
  return takeFirstFree(candidates, request, family, ctx);
}

function takeFirstFree(
  pools: PoolState[],
  request: LoadBalancerRequest,
  family: IpFamily,
  ctx: PlanContext,
): PlannedAddress | FamilyFailure {
  let firstBlock: FamilyFailure | undefined;
  for (const state of pools) {
    const blocked = notAllocatable(state);
    if (blocked !== undefined) {
      firstBlock ??= blocked(family);
      continue;
    }
    const usable = state.pool.address?.usable;
    if (usable === undefined) continue;
    const ip = ctx.table.firstFree(state.pool.name, usable);
    if (ip !== undefined) return { ip, pool: state.pool.name };
  }
  if (firstBlock !== undefined && pools.every((p) => !p.allocatable)) return firstBlock;
  const names = pools.filter((p) => p.allocatable).map((p) => p.pool.name);
  return {
    family,
    reason: 'PoolExhausted',
    message: `every address of Eip ${names.join(', ')} is in use; ${request.key} waits for one to be released`,
  };
}

function notAllocatable(state: PoolState): ((family: IpFamily) => FamilyFailure) | undefined {
  const name = state.pool.name;
  switch (state.allocatableReason) {
    case 'Allocatable':
      return undefined;
    case 'Disabled':
      return (family) => ({
        family,
        reason: 'PoolDisabled',
        message: `Eip ${name} is disabled (spec.disable: true); it hands out no new addresses`,
      });
    case 'Deleting':
      return (family) => ({ family, reason: 'PoolDeleting', message: `Eip ${name} is being deleted; it hands out no new addresses` });
    case 'NotReady':
      return (family) => ({ family, reason: 'PoolNotReady', message: `Eip ${name} is not ready (${state.reason}): ${state.message}` });
  }
}
