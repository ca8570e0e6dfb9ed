import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatUdpEndpoint, parseUdpEndpoint } from './udp-socket.js';

describe('UDP endpoints', () => {
  it('parses IPv4 host:port and bracketed IPv6', () => {
    assert.deepEqual(parseUdpEndpoint('192.0.2.11:7474'), { host: '192.0.2.11', port: 7474 });
    assert.deepEqual(parseUdpEndpoint('[2001:db8::11]:7474'), { host: '2001:db8::11', port: 7474 });
  });

  it('refuses what is not an IP address and a port, naming the input', () => {
    for (const bad of [
      'node-a:7474',
      '192.0.2.11',
      ':7474',
      '192.0.2.11:0',
      '192.0.2.11:65536',
      '2001:db8::11:7474',
      '[192.0.2.300]:1',
      '',
    ])
      assert.throws(() => parseUdpEndpoint(bad), RangeError, bad);
  });

  it('formats what it parses back to the same text', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
    const v6 = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
      .map((w) => w.map((x) => x.toString(16)).join(':'));
    fc.assert(
      fc.property(fc.oneof(v4, v6), fc.integer({ min: 1, max: 65_535 }), (host, port) => {
        const text = formatUdpEndpoint({ host, port });
        assert.deepEqual(parseUdpEndpoint(text), { host, port });
      }),
    );
  });
});
