import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatIp, type IpAddress, type IpFamily, MAX_V4, MAX_V6, parseIp } from '../net/ip.js';
import {
  type AddressRange,
  isSubnetAnycast,
  nthAddress,
  parseEipAddress,
  RESERVED_IDS_PER_SUBNET,
  rangeContains,
  rangeSize,
  rangesOverlap,
} from './address-range.js';

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
  });

  it('skips the Subnet-Router anycast address of IPv6 CIDRs (RFC 4291 2.6.1) unless asked; IPv6 has no broadcast', () => {
    assert.deepEqual(usableText('2001:db8::/126'), ['2001:db8::1', '2001:db8::3', 3n]);
    assert.deepEqual(usableText('2001:db8::/126', true), ['2001:db8::', '2001:db8::3', 4n]);
    assert.deepEqual(usableText('2001:db8::/120'), ['2001:db8::1', '2001:db8::ff', 255n]);
    assert.deepEqual(usableText('2001:db8:5ec::/112'), ['2001:db8:5ec::1', '2001:db8:5ec::ffff', 65_535n]);
    assert.deepEqual(usableText('2001:db8::/127'), ['2001:db8::', '2001:db8::1', 2n], '/127: both usable (RFC 6164)');
    assert.deepEqual(usableText('2001:db8::5/128'), ['2001:db8::5', '2001:db8::5', 1n]);
    assert.deepEqual(usableText('2001:db8::-2001:db8::3'), ['2001:db8::', '2001:db8::3', 4n], 'a range is taken as written');
  });

  it('a /64 never hands out prefix:: nor the RFC 2526 anycast IDs FDFF:FFFF:FFFF:FF80-FF, and says how many it holds', () => {
    const r = parseEipAddress('2001:db8:1::/64');
    assert.ok(r.ok);
    const u = r.value.usable as AddressRange;
    assert.equal(formatIp({ family: 6, value: u.first }), '2001:db8:1::1', 'the bug report: 2001:db8:1:: was handed out');
    assert.equal(formatIp({ family: 6, value: u.last }), '2001:db8:1:0:ffff:ffff:ffff:ffff');
    assert.equal(rangeSize(u), (1n << 64n) - 129n);
    assert.equal(RESERVED_IDS_PER_SUBNET, 129n);
    const at = (text: string): boolean => rangeContains(u, parseIp(text) as IpAddress);
    assert.equal(at('2001:db8:1::'), false);
    assert.equal(at('2001:db8:1::1'), true);
    assert.equal(at('2001:db8:1:0:fdff:ffff:ffff:ff7f'), true);
    for (const id of ['ff80', 'ff81', 'ffc0', 'fffe', 'ffff']) assert.equal(at(`2001:db8:1:0:fdff:ffff:ffff:${id}`), false, id);
    assert.equal(at('2001:db8:1:0:fe00::'), true, 'above the reserved block, usable again');
    assert.equal(at('2001:db8:1:0:fcff:ffff:ffff:ffff'), true, 'u/l bit set: not an RFC 2526 ID');
    assert.equal(at('2001:db8:2::1'), false, 'outside');
    assert.equal(formatIp(nthAddress(u, 0n) as IpAddress), '2001:db8:1::1');
    assert.equal(formatIp(nthAddress(u, 0xfdff_ffff_ffff_ff7en) as IpAddress), '2001:db8:1:0:fdff:ffff:ffff:ff7f');
    assert.equal(formatIp(nthAddress(u, 0xfdff_ffff_ffff_ff7fn) as IpAddress), '2001:db8:1:0:fe00::', 'the next member skips the 128');
    assert.equal(formatIp(nthAddress(u, rangeSize(u) - 1n) as IpAddress), '2001:db8:1:0:ffff:ffff:ffff:ffff');
    assert.equal(nthAddress(u, rangeSize(u)), undefined);
    const all = parseEipAddress('2001:db8:1::/64', { includeNetworkAndBroadcast: true });
    assert.ok(all.ok);
    assert.equal(rangeSize(all.value.usable), 1n << 64n, 'the annotation hands out everything, as OpenELB does');
    assert.equal(rangeContains(all.value.usable, parseIp('2001:db8:1::') as IpAddress), true);
  });

  it('a prefix shorter than /64 skips the anycast IDs of every /64 it spans', () => {
    const r = parseEipAddress('2001:db8::/62');
    assert.ok(r.ok);
    const u = r.value.usable as AddressRange;
    assert.equal(rangeSize(u), (1n << 66n) - 4n * 129n);
    for (const subnet of ['2001:db8::', '2001:db8:0:1::', '2001:db8:0:2::', '2001:db8:0:3::']) {
      assert.equal(rangeContains(u, parseIp(subnet) as IpAddress), false, subnet);
      assert.equal(rangeContains(u, parseIp(subnet.replace(/::$/, '::1')) as IpAddress), true, subnet);
    }
    assert.equal(rangeContains(u, parseIp('2001:db8:0:2:fdff:ffff:ffff:ffaa') as IpAddress), false);
    const everything = parseEipAddress('::/0');
    assert.ok(everything.ok);
    assert.equal(rangeSize(everything.value.usable), (1n << 128n) - 129n * (1n << 64n), '2^64 subnets of 2^64 - 129');
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

  it('an IPv6 CIDR holds exactly 2^(128-p) addresses less its subnet anycast ones, and never its first', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_V6 }), fc.integer({ min: 0, max: 128 }), fc.boolean(), (v, prefix, include) => {
        const parsed = parseEipAddress(`${formatIp({ family: 6, value: v })}/${prefix}`, { includeNetworkAndBroadcast: include });
        assert.ok(parsed.ok);
        const { declared, usable } = parsed.value;
        const all = 1n << BigInt(128 - prefix);
        const subnets = prefix <= 64 ? 1n << BigInt(64 - prefix) : 0n;
        const expected = include || prefix >= 127 ? all : prefix > 64 ? all - 1n : all - RESERVED_IDS_PER_SUBNET * subnets;
        assert.equal(rangeSize(usable), expected);
        assert.equal(rangeContains(usable, { family: 6, value: declared.first }), include || prefix >= 127);
        assert.equal((usable as AddressRange).last, declared.last);
      }),
    );
  });

  it('with subnet anycast skipped, membership is the declared range minus those IDs, and nthAddress walks exactly the members', () => {
    const nearHoles = (base: bigint): fc.Arbitrary<bigint> =>
      fc
        .tuple(
          fc.integer({ min: 0, max: 3 }),
          fc.constantFrom(0n, 0xfdff_ffff_ffff_ff80n, 0xfe00_0000_0000_0000n, (1n << 64n) - 1n),
          fc.integer({ min: -3, max: 3 }),
        )
        .map(([subnet, id, delta]) => base + (BigInt(subnet) << 64n) + id + BigInt(delta));
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_V6 >> 66n }).map((v) => v << 66n),
        (base) => {
          const parsed = parseEipAddress(`${formatIp({ family: 6, value: base })}/62`);
          assert.ok(parsed.ok);
          const u = parsed.value.usable as AddressRange;
          fc.assert(
            fc.property(nearHoles(base), (x) => {
              const inside = x >= base && x <= parsed.value.declared.last;
              assert.equal(rangeContains(u, { family: 6, value: x }), inside && !isSubnetAnycast(x));
            }),
            { numRuns: 50 },
          );
          // Members in order: each nthAddress is a member, the next one is the next member after it.
          const perSubnet = (1n << 64n) - RESERVED_IDS_PER_SUBNET;
          for (const n of [
            0n,
            1n,
            0xfdff_ffff_ffff_ff7dn,
            0xfdff_ffff_ffff_ff7en,
            0xfdff_ffff_ffff_ff7fn,
            perSubnet - 1n,
            perSubnet,
            3n * perSubnet - 1n,
            4n * perSubnet - 1n,
          ]) {
            const a = nthAddress(u, n) as IpAddress;
            const b = nthAddress(u, n + 1n);
            assert.ok(rangeContains(u, a), `member ${n}`);
            if (b === undefined) {
              assert.equal(n, rangeSize(u) - 1n);
              continue;
            }
            assert.ok(b.value > a.value);
            for (let between = a.value + 1n; between < b.value && between < a.value + 200n; between++) assert.ok(isSubnetAnycast(between));
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
