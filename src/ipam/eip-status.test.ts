import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp } from '../net/ip.js';
import { poolFromEip } from '../pools/pool.js';
import { PoolSet } from '../pools/pool-set.js';
import { eip } from '../testing/ipam-fixtures.js';
import { AddressTable } from './address-table.js';
import { desiredEipStatus, sameStatus } from './eip-status.js';

const NOW = new Date('2026-01-01T00:00:00Z');

function statusOf(address: string, annotations: Record<string, string> = {}): ReturnType<typeof desiredEipStatus> {
  const state = PoolSet.evaluate([poolFromEip(eip('pool', { address }, { annotations }))]).get('pool');
  assert.ok(state?.ready, address);
  return desiredEipStatus(state, new AddressTable(), undefined, NOW, 1);
}

describe('Eip status: pool size', () => {
  it('reports an exact poolSize and no poolSizeExact while the size fits in 2^53 - 1', () => {
    const s = statusOf('192.0.2.0/24');
    assert.equal(s.poolSize, 254);
    assert.equal('poolSizeExact' in s, false);
    assert.equal(statusOf('2001:db8::/120').poolSize, 255, 'the Subnet-Router anycast address is not counted');
    const edge = statusOf('::-::1f:ffff:ffff:fffe');
    assert.equal(edge.poolSize, Number.MAX_SAFE_INTEGER);
    assert.equal('poolSizeExact' in edge, false, '2^53 - 1 itself is exact');
  });

  it('caps poolSize at 2^53 - 1 for larger pools and publishes the exact size as poolSizeExact', () => {
    const just = statusOf('::-::20:0:0:0');
    assert.equal(just.poolSize, Number.MAX_SAFE_INTEGER);
    assert.equal(just.poolSizeExact, '9007199254740993');
    const s = statusOf('2001:db8:1::/64');
    assert.equal(s.poolSize, Number.MAX_SAFE_INTEGER);
    assert.equal(s.poolSizeExact, '18446744073709551487', '2^64 minus the zero ID and the 128 of RFC 2526');
    assert.equal(BigInt(s.poolSizeExact ?? '0'), (1n << 64n) - 129n);
    assert.deepEqual([s.firstIP, s.lastIP, s.v4, s.occupied], ['2001:db8:1::1', '2001:db8:1:0:ffff:ffff:ffff:ffff', false, false]);
    assert.equal(
      statusOf('2001:db8:1::/64', { 'eip.baton.dev/include-network-and-broadcast': 'true' }).poolSizeExact,
      '18446744073709551616',
    );
    assert.equal(statusOf('::/0').poolSizeExact, ((1n << 128n) - (129n << 64n)).toString());
    assert.doesNotThrow(() => JSON.stringify(s), 'no bigint leaks into the status');
  });

  it('a status read back with poolSizeExact needs no rewrite', () => {
    const s = statusOf('2001:db8:1::/64');
    assert.ok(sameStatus(JSON.parse(JSON.stringify(s)), s));
  });

  it('the first address a /64 pool hands out is prefix::1, not prefix:: (the bug report)', () => {
    const state = PoolSet.evaluate([poolFromEip(eip('v6', { address: '2001:db8:1::/64' }))]).get('v6');
    const usable = state?.pool.address?.usable;
    assert.ok(usable !== undefined);
    const first = new AddressTable().firstFree('v6', usable);
    assert.equal(first === undefined ? undefined : formatIp(first), '2001:db8:1::1');
  });
});
