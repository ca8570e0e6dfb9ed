import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eip } from '../testing/ipam-fixtures.js';
import { poolFromEip } from './pool.js';
import { PoolSet, selectorMatches } from './pool-set.js';

describe('poolFromEip', () => {
  it('accepts the seed pool as written', () => {
    const p = poolFromEip(
      eip(
        'eip-sample-pool',
        { address: '192.168.0.91-192.168.0.100', protocol: 'layer2', interface: 'eth0', disable: false },
        { default: true },
      ),
    );
    assert.deepEqual(p.problems, []);
    assert.equal(p.annotatedDefault, true);
    assert.equal(p.disabled, false);
    assert.equal(p.address?.form, 'range');
  });

  it('refuses BGP with a message that says Baton does not do BGP', () => {
    const p = poolFromEip(eip('bgp', { address: '192.0.2.0/28', protocol: 'bgp' }));
    assert.equal(p.problems[0]?.reason, 'UnsupportedProtocol');
    assert.match(p.problems[0]?.message ?? '', /Baton does not do BGP/);
  });

  it('reads a missing protocol as OpenELB does (bgp) and says how to fix it', () => {
    const p = poolFromEip(eip('noproto', { address: '192.0.2.0/28', protocol: undefined }));
    assert.equal(p.problems[0]?.reason, 'UnsupportedProtocol');
    assert.match(p.problems[0]?.message ?? '', /without spec.protocol means bgp.*layer2 or vip/);
  });

  it('accepts vip like layer2', () => {
    assert.deepEqual(poolFromEip(eip('vip', { address: '192.0.2.9', protocol: 'vip' })).problems, []);
  });

  it('requires an interface, by name or can_reach:<ip>', () => {
    assert.equal(poolFromEip(eip('a', { address: '192.0.2.9', interface: '' })).problems[0]?.reason, 'InterfaceRequired');
    assert.equal(poolFromEip(eip('b', { address: '192.0.2.9', interface: 'can_reach:nope' })).problems[0]?.reason, 'InterfaceRequired');
    assert.deepEqual(poolFromEip(eip('c', { address: '192.0.2.9', interface: 'can_reach:192.0.2.1' })).problems, []);
  });

  it('reports a malformed address and a reversed range by name', () => {
    assert.equal(poolFromEip(eip('bad', { address: '192.168.0.300' })).problems[0]?.reason, 'InvalidAddress');
    assert.equal(poolFromEip(eip('rev', { address: '192.0.2.20-192.0.2.10' })).problems[0]?.reason, 'RangeReversed');
  });

  it('notices an address edited in place against the range recorded in status', () => {
    const status = { firstIP: '192.0.2.10', lastIP: '192.0.2.20' };
    assert.deepEqual(poolFromEip(eip('same', { address: '192.0.2.10-192.0.2.20' }, { status })).problems, []);
    assert.deepEqual(
      poolFromEip(eip('cidr-view', { address: '192.0.2.0/24' }, { status })).problems,
      [],
      'a wider spelling of the same addresses is fine',
    );
    const moved = poolFromEip(eip('moved', { address: '192.0.2.100-192.0.2.120' }, { status }));
    assert.equal(moved.problems[0]?.reason, 'AddressChanged');
  });
});

describe('PoolSet', () => {
  it('blocks the newer of two overlapping pools and names the older', () => {
    const older = poolFromEip(eip('older', { address: '192.0.2.0/28' }));
    const newer = poolFromEip(eip('newer', { address: '192.0.2.10-192.0.2.40' }));
    const set = PoolSet.evaluate([newer, older]);
    assert.equal(set.get('older')?.ready, true);
    assert.equal(set.get('newer')?.ready, false);
    assert.equal(set.get('newer')?.reason, 'Overlap');
    assert.match(set.get('newer')?.message ?? '', /overlaps Eip older/);
  });

  it('lets a pool in use win an overlap even against an older one (nothing working is lost)', () => {
    const older = poolFromEip(eip('older', { address: '192.0.2.0/28' }));
    const used = poolFromEip(eip('used', { address: '192.0.2.8/29' }));
    const set = PoolSet.evaluate([older, used], (n) => (n === 'used' ? 3 : 0));
    assert.equal(set.get('used')?.ready, true);
    assert.equal(set.get('older')?.reason, 'Overlap');
  });

  it('ignores refused pools when judging overlap', () => {
    const bgp = poolFromEip(eip('bgp', { address: '192.0.2.0/28', protocol: 'bgp' }));
    const l2 = poolFromEip(eip('l2', { address: '192.0.2.0/28' }));
    const set = PoolSet.evaluate([bgp, l2]);
    assert.equal(set.get('l2')?.ready, true);
    assert.equal(set.get('bgp')?.reason, 'UnsupportedProtocol');
  });

  it('makes the older of two default pools the default and tells the other', () => {
    const first = poolFromEip(eip('first', { address: '192.0.2.0/28' }, { default: true }));
    const second = poolFromEip(eip('second', { address: '192.0.2.16/28' }, { default: true }));
    const set = PoolSet.evaluate([second, first]);
    assert.equal(set.get('first')?.isDefault, true);
    assert.equal(set.get('second')?.isDefault, false);
    assert.equal(set.get('second')?.defaultLostTo, 'first');
    assert.equal(set.get('second')?.ready, true, 'still usable by name');
  });

  it('keeps disabled and deleting pools ready but not allocatable', () => {
    const off = poolFromEip(eip('off', { address: '192.0.2.0/28', disable: true }));
    const gone = poolFromEip(eip('gone', { address: '192.0.2.16/28' }, { deleting: true }));
    const set = PoolSet.evaluate([off, gone]);
    assert.deepEqual([set.get('off')?.ready, set.get('off')?.allocatableReason], [true, 'Disabled']);
    assert.deepEqual([set.get('gone')?.ready, set.get('gone')?.allocatableReason], [true, 'Deleting']);
  });

  it('orders automatic candidates: namespace-bound by priority, then the default; unbound pools never', () => {
    const pools = [
      poolFromEip(eip('default', { address: '192.0.2.0/28' }, { default: true })),
      poolFromEip(eip('ns-low', { address: '192.0.2.16/28', namespaces: ['team-a'], priority: 5 })),
      poolFromEip(eip('ns-high', { address: '192.0.2.32/28', namespaceSelector: { tier: 'gold' }, priority: 1 })),
      poolFromEip(eip('unbound', { address: '192.0.2.48/28' })),
      poolFromEip(eip('v6-default', { address: '2001:db8::/120' }, { default: true })),
      poolFromEip(eip('v6-second', { address: '2001:db8::1:0/120' }, { default: true })),
    ];
    const set = PoolSet.evaluate(pools);
    const names = (ns: string, labels: Record<string, string>, family: 4 | 6 = 4): string[] =>
      set.candidatesFor(ns, labels, family).map((s) => s.pool.name);
    assert.deepEqual(names('team-a', { tier: 'gold' }), ['ns-high', 'ns-low', 'default']);
    assert.deepEqual(names('team-a', {}), ['ns-low', 'default']);
    assert.deepEqual(names('other', {}), ['default']);
    assert.deepEqual(names('other', {}, 6), ['v6-default'], 'each family has its own default');
    assert.equal(set.get('v6-second')?.defaultLostTo, 'v6-default');
  });

  it('finds the pool of an address among ready pools only', () => {
    const set = PoolSet.evaluate([poolFromEip(eip('a', { address: '192.0.2.0/28' })), poolFromEip(eip('b', { address: '192.0.2.0/28' }))]);
    assert.equal(set.poolFor({ family: 4, value: 0xc0000205n })?.pool.name, 'a');
    assert.equal(set.poolFor({ family: 4, value: 0xc0000285n }), undefined);
  });

  it('matches namespace selectors as matchLabels; an empty selector matches nothing', () => {
    assert.equal(selectorMatches({ a: '1' }, { a: '1', b: '2' }), true);
    assert.equal(selectorMatches({ a: '1', b: '3' }, { a: '1', b: '2' }), false);
    assert.equal(selectorMatches({}, { a: '1' }), false);
    assert.equal(selectorMatches(undefined, { a: '1' }), false);
  });
});
