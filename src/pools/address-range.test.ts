import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatIp, type IpFamily, MAX_V4, MAX_V6, parseIp } from '../net/ip.js';
import { type AddressRange, nthAddress, parseEipAddress, rangeContains, rangeSize, rangesOverlap } from './address-range.js';

function usableText(spec: string, include = false): [string, string, bigint] {
  const r = parseEipAddress(spec, { includeNetworkAndBroadcast: include });
  assert.ok(r.ok, `${spec} parses`);
  const u = r.value.usable as AddressRange;
  return [formatIp({ family: u.family, value: u.first }), formatIp({ family: u.family, value: u.last }), rangeSize(u)];
}

describe('Eip address forms', () => {
  it('reads the seed pool: a range of ten addresses', () => {
    assert.deepEqual(usableText('192.168.0.91-192.168.0.100'), ['192.168.0.91', '192.168.0.100', 10n]);
  });

  it('reads single addresses of both families', () => {
    assert.deepEqual(usableText('192.0.2.7'), ['192.0.2.7', '192.0.2.7', 1n]);
    assert.deepEqual(usableText('2001:db8::7'), ['2001:db8::7', '2001:db8::7', 1n]);
  });

  it('skips network and broadcast of IPv4 CIDRs wider than /31 unless asked', () => {
    assert.deepEqual(usableText('192.0.2.0/24'), ['192.0.2.1', '192.0.2.254', 254n]);
    assert.deepEqual(usableText('192.0.2.0/24', true), ['192.0.2.0', '192.0.2.255', 256n]);
    assert.deepEqual(usableText('192.0.2.8/30'), ['192.0.2.9', '192.0.2.10', 2n]);
    assert.deepEqual(usableText('192.0.2.8/31'), ['192.0.2.8', '192.0.2.9', 2n], '/31 is point-to-point: both usable (RFC 3021)');
    assert.deepEqual(usableText('192.0.2.8/32'), ['192.0.2.8', '192.0.2.8', 1n]);
    assert.deepEqual(usableText('2001:db8::/126'), ['2001:db8::', '2001:db8::3', 4n], 'IPv6 has no broadcast');
  });

  it('masks host bits of a CIDR, as OpenELB (Go net.ParseCIDR) does', () => {
    const r = parseEipAddress('192.0.2.77/24');
    assert.ok(r.ok);
    assert.equal(formatIp({ family: 4, value: r.value.declared.first }), '192.0.2.0');
  });

  it('names what is wrong with a bad address', () => {
    const cases: Array<[string, string]> = [
      ['', 'InvalidAddress'],
      ['192.168.0.300', 'InvalidAddress'],
      ['192.0.2.0/33', 'InvalidAddress'],
      ['192.0.2.0/', 'InvalidAddress'],
      ['192.0.2.10-', 'InvalidAddress'],
      ['not-an-ip', 'InvalidAddress'],
      ['192.0.2.20-192.0.2.10', 'RangeReversed'],
      ['192.0.2.1-2001:db8::1', 'MixedFamilies'],
    ];
    for (const [spec, reason] of cases) {
      const r = parseEipAddress(spec);
      assert.ok(!r.ok, spec);
      assert.equal(r.reason, reason, spec);
      assert.ok(r.message.length > 0);
    }
  });
});

const family = fc.constantFrom<IpFamily>(4, 6);
// Math.min and Math.max take numbers only.
const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const rangeOf = (f: IpFamily): fc.Arbitrary<AddressRange> =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: f === 4 ? MAX_V4 : MAX_V6 }), fc.bigInt({ min: 0n, max: f === 4 ? MAX_V4 : MAX_V6 }))
    .map(([a, b]) => ({ family: f, first: minBig(a, b), last: maxBig(a, b) }));
const anyRange = family.chain(rangeOf);

describe('range arithmetic (properties)', () => {
  it('a range written as first-last parses back to itself', () => {
    fc.assert(
      fc.property(anyRange, (r) => {
        const text = `${formatIp({ family: r.family, value: r.first })}-${formatIp({ family: r.family, value: r.last })}`;
        const parsed = parseEipAddress(text);
        assert.ok(parsed.ok);
        assert.deepEqual(parsed.value.declared, r);
        assert.equal(rangeSize(parsed.value.usable), r.last - r.first + 1n);
      }),
    );
  });

  it('overlap is symmetric and agrees with a shared member', () => {
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(rangeOf(f), rangeOf(f))),
        ([a, b]) => {
          assert.equal(rangesOverlap(a, b), rangesOverlap(b, a));
          const lo = maxBig(a.first, b.first);
          const shared = rangeContains(a, { family: a.family, value: lo }) && rangeContains(b, { family: a.family, value: lo });
          assert.equal(rangesOverlap(a, b), shared);
        },
      ),
    );
  });

  it('ranges of different families never overlap', () => {
    fc.assert(fc.property(rangeOf(4), rangeOf(6), (a, b) => assert.equal(rangesOverlap(a, b), false)));
  });

  it('nthAddress walks exactly the members of a range', () => {
    fc.assert(
      fc.property(anyRange, fc.bigInt({ min: -2n, max: 1n << 40n }), (r, n) => {
        const ip = nthAddress(r, n);
        const inside = n >= 0n && n < rangeSize(r);
        assert.equal(ip !== undefined, inside);
        if (ip !== undefined) assert.ok(rangeContains(r, ip));
      }),
    );
  });

  it('a CIDR covers 2^(bits-prefix) addresses and contains its base', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_V4 }), fc.integer({ min: 0, max: 32 }), (v, prefix) => {
        const text = `${formatIp({ family: 4, value: v })}/${prefix}`;
        const parsed = parseEipAddress(text, { includeNetworkAndBroadcast: true });
        assert.ok(parsed.ok);
        assert.equal(rangeSize(parsed.value.declared), 1n << BigInt(32 - prefix));
        assert.ok(rangeContains(parsed.value.declared, parseIp(formatIp({ family: 4, value: v }))!));
        const skipped = parseEipAddress(text);
        assert.ok(skipped.ok);
        assert.equal(rangeSize(skipped.value.usable), prefix < 31 ? (1n << BigInt(32 - prefix)) - 2n : 1n << BigInt(32 - prefix));
      }),
    );
  });
});
