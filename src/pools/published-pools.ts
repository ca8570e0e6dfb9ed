// The pools as the controller judged them. The controller is the only judge
// of a pool: it decides validity and overlaps from its live address table
// (pool-set.ts). A speaker does not judge again from what it can see (a
// status.usage written a moment ago); it announces an address only while
// the controller's published verdict on the address's Eip is Ready=True.
// Both read the Eip through the same poolFromEip, so they agree on ranges
// and interfaces. With the controller down nothing changes: verdicts stay as
// published, and no new address is handed out that would need one.
import type { Eip } from '../k8s/types.js';
import type { IpAddress } from '../net/ip.js';
import { rangeContains } from './address-range.js';
import { olderFirst, type Pool, poolFromEip } from './pool.js';

export class PublishedPools {
  private constructor(private readonly ready: readonly Pool[]) {}

  static fromEips(eips: readonly Eip[]): PublishedPools {
    const ready = eips
      .filter(publishedReady)
      .map(poolFromEip)
      .filter((p) => p.address !== undefined);
    return new PublishedPools(ready.sort(olderFirst));
  }

  /**
   * The ready pool whose range holds ip. Ranges of ready pools never overlap;
   * while the controller is between two verdicts, the older pool wins, as it
   * does in the controller's own evaluation.
   */
  poolFor(ip: IpAddress): Pool | undefined {
    return this.ready.find((p) => rangeContains(p.address?.declared, ip));
  }
}

/**
 * The controller's verdict: the Ready condition on the Eip's status; under
 * OpenELB's own CRD (a migration installed with --skip-crds), whose schema
 * has no conditions and prunes them, its `status.ready`, which the
 * controller writes too. No verdict yet counts as not ready.
 */
export function publishedReady(eip: Eip): boolean {
  const ready = eip.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready !== undefined) return ready.status === 'True';
  return eip.status?.ready === true;
}
