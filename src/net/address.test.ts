import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ipv4FromBytes, ipv4FromNumber, ipv4ToBytes, ipv4ToNumber, isIpv4 } from './ipv4.js';
import { isMac, macFromBytes, macToBytes, normalizeMac } from './mac.js';

describe('IPv4 addresses', () => {
  it('converts between text, number and bytes', () => {
    assert.equal(ipv4ToNumber('192.0.2.1'), 0xc0000201);
    assert.equal(ipv4FromNumber(0xc0000201), '192.0.2.1');
    assert.equal(ipv4ToBytes('203.0.113.255').toString('hex'), 'cb0071ff');
    assert.equal(ipv4FromBytes(Buffer.from('c6336401', 'hex')), '198.51.100.1');
    assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4ToNumber('0.0.0.0'), 0);
  });

  it('rejects what is not a plain dotted quad', () => {
    for (const bad of ['192.0.2', '192.0.2.256', '192.0.02.1', ' 192.0.2.1', '192.0.2.1/32', '::1', '', '1.2.3.4.5']) {
      assert.equal(isIpv4(bad), false, bad);
      assert.throws(() => ipv4ToNumber(bad), TypeError, bad);
    }
    assert.throws(() => ipv4FromNumber(2 ** 32), RangeError);
    assert.throws(() => ipv4FromNumber(-1), RangeError);
  });

  it('round-trips every 32-bit number (property)', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), (n) => {
        const text = ipv4FromNumber(n);
        assert.ok(isIpv4(text));
        assert.equal(ipv4ToNumber(text), n);
        assert.equal(ipv4FromBytes(ipv4ToBytes(text)), text);
      }),
    );
  });
});

describe('MAC addresses', () => {
  it('normalizes case and separators', () => {
    assert.equal(normalizeMac('02-BA-70-00-00-0A'), '02:ba:70:00:00:0a');
    assert.equal(macFromBytes(macToBytes('AA:bb:CC:dd:EE:ff')), 'aa:bb:cc:dd:ee:ff');
  });

  it('rejects malformed MACs', () => {
    for (const bad of ['02:ba:70:00:00', '02:ba:70:00:00:0g', '02ba70000000', '']) {
      assert.equal(isMac(bad), false, bad);
      assert.throws(() => macToBytes(bad), TypeError, bad);
    }
  });
});
