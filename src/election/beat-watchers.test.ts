import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { holdersToWatch, isStandby, standbysOf, watchersOf } from './beat-watchers.js';
import { rank } from './rendezvous.js';

const NODES = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];

describe('beat watchers', () => {
  it('picks as standbys the nodes that would take the IP over, in rendezvous order, never the holder', () => {
    const ip = '192.0.2.200';
    const order = rank(ip, NODES);
    const holder = order[0] as string;
    assert.deepEqual(standbysOf(ip, holder, NODES), order.slice(1, 3));
    assert.deepEqual(standbysOf(ip, holder, NODES, 1), order.slice(1, 2));
    assert.ok(!standbysOf(ip, holder, NODES).includes(holder));
    assert.deepEqual(standbysOf(ip, 'node-1', ['node-1']), [], 'a lone candidate has nobody to watch it');
  });

  it('tells whether a node is a standby exactly as the ranked standbys do, without ranking (property)', () => {
    const node = fc.constantFrom(...NODES, 'node-6', 'node-7');
    fc.assert(
      fc.property(
        node,
        node,
        fc.array(node, { maxLength: 10 }),
        fc.ipV4(),
        fc.integer({ min: 0, max: 4 }),
        (me, holder, candidates, ip, fanout) => {
          assert.equal(isStandby(me, ip, holder, candidates, fanout), standbysOf(ip, holder, candidates, fanout).includes(me));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('sends a holder’s beats to each standby once, however many of its IPs it stands by for', () => {
    const held = ['192.0.2.200', '192.0.2.201', '192.0.2.202', '192.0.2.203'].map((ip) => ({ ip, candidates: NODES }));
    const watchers = watchersOf('node-1', held);
    assert.deepEqual(watchers, [...new Set(watchers)].sort());
    assert.ok(!watchers.includes('node-1'));
    assert.ok(watchers.length >= 2 && watchers.length <= 4);
  });

  it('agrees on both sides: a node expects beats from a holder exactly when that holder sends them to it', () => {
    const node = fc.constantFrom(...NODES);
    const ipArb = fc.integer({ min: 1, max: 254 }).map((n) => `198.51.100.${n}`);
    const held = fc.uniqueArray(fc.record({ ip: ipArb, holder: node, candidates: fc.subarray(NODES, { minLength: 1 }) }), {
      selector: (h) => h.ip,
      maxLength: 20,
    });
    fc.assert(
      fc.property(held, fc.integer({ min: 1, max: 3 }), (ips, fanout) => {
        for (const me of NODES)
          for (const holder of NODES) {
            const sends = watchersOf(
              holder,
              ips.filter((h) => h.holder === holder),
              fanout,
            ).includes(me);
            const expects = holdersToWatch(me, ips, fanout).has(holder);
            assert.equal(sends, expects, `${holder} → ${me}`);
          }
      }),
    );
  });

  it('lists the IPs a standby watches a holder for', () => {
    const ips = ['192.0.2.200', '192.0.2.201'].map((ip) => ({ ip, holder: 'node-1', candidates: NODES }));
    const byHolder = new Map<string, string[]>();
    for (const me of NODES) for (const [h, list] of holdersToWatch(me, ips)) byHolder.set(`${h}->${me}`, list);
    for (const ip of ['192.0.2.200', '192.0.2.201'])
      for (const s of standbysOf(ip, 'node-1', NODES)) assert.ok(byHolder.get(`node-1->${s}`)?.includes(ip), `${s} watches ${ip}`);
  });
});
