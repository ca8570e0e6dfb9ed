import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalIp, formatIp, MAX_V6, parseIp } from './ip.js';

describe('IP parsing and canonical text', () => {
  it('parses both families', () => {
    assert.deepEqual(parseIp('192.0.2.1'), { family: 4, value: 0xc0000201n });
    assert.deepEqual(parseIp('2001:db8::1'), { family: 6, value: 0x20010db8000000000000000000000001n });
    assert.deepEqual(parseIp('::'), { family: 6, value: 0n });
    assert.deepEqual(parseIp('::ffff:192.0.2.1'), { family: 6, value: 0xffffc0000201n });
  });

  it('formats IPv6 as RFC 5952 says', () => {
    const cases: Array<[string, string]> = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['0:0:0:0:0:0:0:0', '::'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:1', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ];
    for (const [input, expected] of cases) assert.equal(canonicalIp(input), expected, input);
  });

  it('rejects what is not an address', () => {
    for (const bad of ['', '192.0.2', '192.0.2.01', '2001:db8::1::2', 'fe80::1%eth0', '192.0.2.0/24', 'gggg::1', '1.2.3.4.5']) {
      assert.equal(parseIp(bad), undefined, bad);
    }
  });

  it('round-trips every IPv6 value through its canonical text (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_V6 }), (value) => {
        const text = formatIp({ family: 6, value });
        assert.deepEqual(parseIp(text), { family: 6, value });
        assert.equal(canonicalIp(text.toUpperCase()), text);
      }),
    );
  });
});
