import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LeaseRecord } from '../k8s/lease-store.js';
import { decide, type IpSituation } from './ip-decision.js';
import { rank } from './rendezvous.js';

function lease(holder: string): LeaseRecord {
  return {
    name: 'baton-ip-192-0-2-200',
    holder,
    durationSeconds: 0,
    acquireTime: undefined,
    renewTime: undefined,
    transitions: 0,
    resourceVersion: '7',
  };
}

const base: IpSituation = {
  ip: '192.0.2.200',
  me: 'node-1',
  lease: undefined,
  holderLive: false,
  eligible: ['node-1', 'node-2', 'node-3'],
  selfHealthy: true,
};

describe('decide', () => {
  it('holds what the lease gives it, and hands it over when no longer eligible', () => {
    assert.deepEqual(decide({ ...base, lease: lease('node-1'), holderLive: true }), { action: 'hold' });
    assert.deepEqual(decide({ ...base, lease: lease('node-1'), holderLive: true, eligible: ['node-2'] }), {
      action: 'release',
      reason: 'not-eligible',
    });
  });

  it('F12: keeps an IP no node may take when only the cluster’s view of every node changed (all NotReady, no endpoints)', () => {
    const held = { ...base, lease: lease('node-1'), holderLive: true, eligible: [] as string[] };
    for (const why of ['not-ready', 'network-unavailable', 'no-endpoints', 'no-node'] as const)
      assert.deepEqual(decide({ ...held, selfIneligible: why }), { action: 'hold' }, why);
    // An operator's exclusion, a lost interface, a leaving speaker: released even with nobody to take it.
    for (const why of ['excluded', 'no-interface', 'not-live'] as const)
      assert.deepEqual(decide({ ...held, selfIneligible: why }), { action: 'release', reason: 'not-eligible' }, why);
    // As soon as another node may take it, the last resort ends with a hand-over.
    assert.deepEqual(decide({ ...held, eligible: ['node-2'], selfIneligible: 'not-ready' }), { action: 'release', reason: 'not-eligible' });
    // And a free IP is not taken by an ineligible node on this ground.
    assert.equal(decide({ ...base, lease: lease(''), eligible: [], selfIneligible: 'not-ready' }).action, 'idle');
  });

  it('holds even while unhealthy: fencing an unhealthy holder is the speaker’s job (outage mode decides)', () => {
    assert.deepEqual(decide({ ...base, lease: lease('node-1'), holderLive: false, selfHealthy: false }), { action: 'hold' });
  });

  it('hands an IP to the best-ranked settled node (rebalancing), only when allowed and healthy', () => {
    const best = rank('192.0.2.200', ['node-1', 'node-2', 'node-3'])[0] as string;
    const holder = best === 'node-1' ? 'node-2' : 'node-1';
    const s = { ...base, me: holder, lease: lease(holder), holderLive: true };
    assert.deepEqual(decide({ ...s, rebalance: { settled: ['node-1', 'node-2', 'node-3'], allowed: true } }), {
      action: 'release',
      reason: 'rebalance',
      to: best,
    });
    assert.deepEqual(
      decide({ ...s, rebalance: { settled: ['node-1', 'node-2', 'node-3'], allowed: false } }),
      { action: 'hold' },
      'rate limited',
    );
    assert.deepEqual(decide({ ...s, rebalance: { settled: [], allowed: true } }), { action: 'hold' }, 'nobody settled in: sticky');
    assert.deepEqual(
      decide({ ...s, selfHealthy: false, rebalance: { settled: [best], allowed: true } }),
      { action: 'hold' },
      'no hand-over while unhealthy',
    );
    assert.deepEqual(
      decide({ ...s, eligible: [holder], rebalance: { settled: [best], allowed: true } }),
      { action: 'hold' },
      'a settled node that is not eligible gets nothing',
    );
  });

  it('follows a live holder, even one that is no longer eligible', () => {
    assert.deepEqual(decide({ ...base, lease: lease('node-2'), holderLive: true }), { action: 'follow', holder: 'node-2' });
    assert.deepEqual(decide({ ...base, lease: lease('node-2'), holderLive: true, eligible: ['node-1'] }), {
      action: 'follow',
      holder: 'node-2',
    });
  });

  it('tries to take a free IP or one whose holder died, at its rank among the eligible', () => {
    const free = decide(base);
    assert.equal(free.action, 'acquire');
    assert.equal(free.action === 'acquire' && free.rank, rank('192.0.2.200', base.eligible).indexOf('node-1'));
    const dead = decide({ ...base, lease: lease('node-3'), holderLive: false, eligible: ['node-1', 'node-2'] });
    assert.deepEqual(dead, {
      action: 'acquire',
      rank: rank('192.0.2.200', ['node-1', 'node-2']).indexOf('node-1'),
      previousHolder: 'node-3',
    });
    const released = decide({ ...base, lease: lease('') });
    assert.equal(released.action === 'acquire' && released.previousHolder, undefined);
  });

  it('takes nothing new while unhealthy or not eligible', () => {
    assert.deepEqual(decide({ ...base, selfHealthy: false }), { action: 'idle', reason: 'unhealthy' });
    assert.deepEqual(decide({ ...base, eligible: ['node-2'] }), { action: 'idle', reason: 'not-eligible' });
  });

  it('gives every eligible node a distinct rank, so exactly one goes first (property)', () => {
    const nodes = fc.uniqueArray(fc.stringMatching(/^node-[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 7 });
    fc.assert(
      fc.property(nodes, fc.nat(255), (eligible, octet) => {
        const ip = `192.0.2.${octet}`;
        const ranks = eligible.map((me) => {
          const d = decide({ ...base, ip, me, eligible });
          assert.equal(d.action, 'acquire');
          return d.action === 'acquire' ? d.rank : -1;
        });
        assert.deepEqual(
          [...ranks].sort((a, b) => a - b),
          eligible.map((_, i) => i),
        );
      }),
    );
  });

  it('never lets two nodes both decide to hold (property): only the lease holder holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', 'node-1', 'node-2', 'node-3'),
        fc.boolean(),
        fc.subarray(['node-1', 'node-2', 'node-3']),
        (holder, live, eligible) => {
          const holding = ['node-1', 'node-2', 'node-3'].filter(
            (me) => decide({ ...base, me, lease: lease(holder), holderLive: live, eligible }).action === 'hold',
          );
          assert.ok(holding.length <= 1);
          if (holding.length === 1) assert.equal(holding[0], holder);
        },
      ),
    );
  });
});
