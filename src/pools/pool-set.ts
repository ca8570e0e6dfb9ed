// All pools judged together: which are ready, which one is the default, and
// in what order a Service's automatic allocation tries them.
//
// Conflicts between pools (overlapping ranges, two defaults) cannot be
// refused at admission — an admission rule sees one object — so they are
// settled here, the same way on every evaluation: a pool already handing out
// addresses beats one that is not (nothing that works is lost), then the
// older beats the newer, then the name decides.
import type { IpAddress, IpFamily } from '../net/ip.js';
import { rangeContains, rangesOverlap } from './address-range.js';
import { olderFirst, type Pool } from './pool.js';

export type PoolNotReadyReason = Pool['problems'][number]['reason'] | 'Overlap';

export interface PoolState {
  readonly pool: Pool;
  /** Valid on its own and in conflict with no other pool. */
  readonly ready: boolean;
  readonly reason: PoolNotReadyReason | 'Accepted';
  readonly message: string;
  /** Ready, enabled and not being deleted: new addresses may come from it. */
  readonly allocatable: boolean;
  readonly allocatableReason: 'Allocatable' | 'Disabled' | 'Deleting' | 'NotReady';
  /** The effective default pool of its family. */
  readonly isDefault: boolean;
  /** Set when the pool is annotated default but another pool of its family is the default. */
  readonly defaultLostTo: string | undefined;
}

export class PoolSet {
  private readonly states: Map<string, PoolState>;

  private constructor(states: Map<string, PoolState>) {
    this.states = states;
  }

  /** inUse(name) is the number of addresses a pool has handed out (pools in use win conflicts). */
  static evaluate(pools: readonly Pool[], inUse: (name: string) => number = () => 0): PoolSet {
    const ordered = [...pools].sort((a, b) => {
      const used = Number(inUse(b.name) > 0) - Number(inUse(a.name) > 0);
      return used !== 0 ? used : olderFirst(a, b);
    });
    const states = new Map<string, PoolState>();
    const accepted: Pool[] = [];
    // One default per family: a dual-stack cluster has an IPv4 and an IPv6 default.
    const defaultPool = new Map<number, string>();
    for (const pool of ordered) {
      let reason: PoolState['reason'] = 'Accepted';
      let message = 'the pool is valid and hands out addresses';
      const problem = pool.problems[0];
      if (problem !== undefined) {
        reason = problem.reason;
        message = pool.problems.map((p) => p.message).join('; ');
      } else if (pool.address !== undefined) {
        // A pool without problems has a parsed address (an unparsable one is a problem).
        const declared = pool.address.declared;
        const clash = accepted.find((other) => other.address !== undefined && rangesOverlap(other.address.declared, declared));
        if (clash !== undefined) {
          reason = 'Overlap';
          message = `spec.address overlaps Eip ${clash.name}, which holds those addresses already; pools must not share addresses`;
        }
      }
      const ready = reason === 'Accepted';
      if (ready) accepted.push(pool);
      let isDefault = false;
      let defaultLostTo: string | undefined;
      const family = pool.address?.declared.family ?? 4;
      if (pool.annotatedDefault && ready) {
        const winner = defaultPool.get(family);
        if (winner === undefined) {
          defaultPool.set(family, pool.name);
          isDefault = true;
        } else {
          defaultLostTo = winner;
        }
      }
      const allocatableReason = !ready ? 'NotReady' : pool.deleting ? 'Deleting' : pool.disabled ? 'Disabled' : 'Allocatable';
      states.set(pool.name, {
        pool,
        ready,
        reason,
        message,
        allocatable: allocatableReason === 'Allocatable',
        allocatableReason,
        isDefault,
        defaultLostTo,
      });
    }
    return new PoolSet(states);
  }

  get(name: string): PoolState | undefined {
    return this.states.get(name);
  }

  all(): PoolState[] {
    return [...this.states.values()];
  }

  /** The ready pool whose range holds ip: ranges of ready pools never overlap, so there is at most one. */
  poolFor(ip: IpAddress): PoolState | undefined {
    for (const s of this.states.values()) if (s.ready && rangeContains(s.pool.address?.declared, ip)) return s;
    return undefined;
  }

  /**
   * Pools a Service in `namespace` may get an address of `family` from,
   * without naming a pool: first the pools bound to its namespace (by
   * spec.namespaces or spec.namespaceSelector), lowest priority value first;
   * then the default pool. A pool bound to nothing and not default serves
   * only Services that name it, as in OpenELB.
   */
  candidatesFor(namespace: string, namespaceLabels: Readonly<Record<string, string>>, family: IpFamily): PoolState[] {
    // Ready but not allocatable pools (disabled, being deleted) stay in the list so a refusal can say why.
    const usable = [...this.states.values()].filter((s) => s.ready && s.pool.address?.declared.family === family);
    const bound = usable
      .filter((s) => s.pool.namespaces.includes(namespace) || selectorMatches(s.pool.namespaceSelector, namespaceLabels))
      .sort((a, b) => a.pool.priority - b.pool.priority || olderFirst(a.pool, b.pool));
    const fallback = usable.find((s) => s.isDefault && !bound.includes(s));
    return fallback === undefined ? bound : [...bound, fallback];
  }
}

/** matchLabels semantics: every pair present. An empty or missing selector selects nothing (it would otherwise bind every namespace). */
export function selectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return false;
  const pairs = Object.entries(selector);
  return pairs.length > 0 && pairs.every(([k, v]) => labels[k] === v);
}
