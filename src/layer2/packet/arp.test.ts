import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type ArpFrame, arpReplyFor, decodeArp, decodeArpFrame, encodeArp, encodeArpFrame, gratuitousArp, isGratuitous } from './arp.js';
import { DROP_REASONS } from './drop-reason.js';

// A who-has for 192.0.2.200 from 192.0.2.100 (02:ba:70:00:00:64), as the
// kernel puts it on the wire: broadcast, 42 bytes of header and ARP, padded
// with zeros to the 60-byte minimum.
const WHO_HAS_HEX =
  'ffffffffffff' +
  '02ba70000064' +
  '0806' + // Ethernet: dst, src, type ARP
  '0001' +
  '0800' +
  '06' +
  '04' +
  '0001' + // htype Ethernet, ptype IPv4, hlen, plen, op request
  '02ba70000064' +
  'c0000264' + // sender 02:ba:70:00:00:64 192.0.2.100
  '000000000000' +
  'c00002c8' + // target 00:00:00:00:00:00 192.0.2.200
  '00'.repeat(18); // padding to 60 bytes

const whoHas: ArpFrame = {
  operation: 'request',
  ethernetDestination: 'ff:ff:ff:ff:ff:ff',
  ethernetSource: '02:ba:70:00:00:64',
  senderMac: '02:ba:70:00:00:64',
  senderIp: '192.0.2.100',
  targetMac: '00:00:00:00:00:00',
  targetIp: '192.0.2.200',
};

describe('ARP codec', () => {
  it('encodes a request byte for byte, padded to the Ethernet minimum', () => {
    const bytes = encodeArpFrame(whoHas);
    assert.equal(bytes.length, 60);
    assert.equal(bytes.toString('hex'), WHO_HAS_HEX);
  });

  it('decodes the same bytes back to the same request', () => {
    const decoded = decodeArpFrame(Buffer.from(WHO_HAS_HEX, 'hex'));
    assert.deepEqual(decoded, { ok: true, value: whoHas });
  });

  it('builds the reply with our MAC as both the Ethernet source and the ARP sender', () => {
    const reply = arpReplyFor(whoHas, '02:ba:70:00:00:11');
    const bytes = encodeArpFrame(reply);
    assert.equal(
      bytes.toString('hex'),
      '02ba70000064' +
        '02ba70000011' +
        '0806' +
        '0001' +
        '0800' +
        '06' +
        '04' +
        '0002' +
        '02ba70000011' +
        'c00002c8' +
        '02ba70000064' +
        'c0000264' +
        '00'.repeat(18),
    );
  });

  it('encodes both gratuitous forms of RFC 5227', () => {
    const req = encodeArpFrame(gratuitousArp('192.0.2.200', '02:ba:70:00:00:11', 'request'));
    assert.equal(
      req.subarray(0, 42).toString('hex'),
      'ffffffffffff' + '02ba70000011' + '0806' + '0001080006040001' + '02ba70000011' + 'c00002c8' + '000000000000' + 'c00002c8',
    );
    const rep = encodeArpFrame(gratuitousArp('192.0.2.200', '02:ba:70:00:00:11', 'reply'));
    assert.equal(
      rep.subarray(0, 42).toString('hex'),
      'ffffffffffff' + '02ba70000011' + '0806' + '0001080006040002' + '02ba70000011' + 'c00002c8' + 'ffffffffffff' + 'c00002c8',
    );
    const decoded = decodeArpFrame(rep);
    assert.ok(decoded.ok && isGratuitous(decoded.value));
    assert.ok(!isGratuitous(whoHas));
  });

  it('names the reason for each malformed frame', () => {
    const good = Buffer.from(WHO_HAS_HEX, 'hex');
    const cases: Array<[string, (b: Buffer) => Buffer, string]> = [
      ['13-byte frame', (b) => b.subarray(0, 13), 'truncated-ethernet'],
      [
        '802.1Q tag',
        (b) => {
          const c = Buffer.from(b);
          c.writeUInt16BE(0x8100, 12);
          return c;
        },
        'vlan-tagged',
      ],
      [
        'IPv4 EtherType',
        (b) => {
          const c = Buffer.from(b);
          c.writeUInt16BE(0x0800, 12);
          return c;
        },
        'not-arp',
      ],
      ['ARP cut at 27 bytes', (b) => b.subarray(0, 14 + 27), 'truncated-arp'],
      [
        'token ring htype',
        (b) => {
          const c = Buffer.from(b);
          c.writeUInt16BE(6, 14);
          return c;
        },
        'unsupported-hardware-type',
      ],
      [
        'IPv6 ptype',
        (b) => {
          const c = Buffer.from(b);
          c.writeUInt16BE(0x86dd, 16);
          return c;
        },
        'unsupported-protocol-type',
      ],
      [
        'hlen 8',
        (b) => {
          const c = Buffer.from(b);
          c[18] = 8;
          return c;
        },
        'bad-address-length',
      ],
      [
        'RARP opcode 3',
        (b) => {
          const c = Buffer.from(b);
          c.writeUInt16BE(3, 20);
          return c;
        },
        'unknown-opcode',
      ],
    ];
    for (const [name, mutate, reason] of cases) {
      assert.deepEqual(decodeArpFrame(mutate(good)), { ok: false, reason }, name);
    }
  });

  it('round-trips any valid ARP packet (property)', () => {
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) =>
      Buffer.from(b)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1:'),
    );
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    fc.assert(
      fc.property(
        fc.constantFrom('request' as const, 'reply' as const),
        mac,
        ip,
        mac,
        ip,
        mac,
        mac,
        (operation, sm, si, tm, ti, es, ed) => {
          const frame: ArpFrame = {
            operation,
            senderMac: sm,
            senderIp: si,
            targetMac: tm,
            targetIp: ti,
            ethernetSource: es,
            ethernetDestination: ed,
          };
          assert.deepEqual(decodeArpFrame(encodeArpFrame(frame)), { ok: true, value: frame });
          assert.deepEqual(decodeArp(encodeArp(frame)), {
            ok: true,
            value: { operation, senderMac: sm, senderIp: si, targetMac: tm, targetIp: ti },
          });
        },
      ),
    );
  });

  it('never throws on random or truncated frames and always names a known drop reason (fuzz)', () => {
    const valid = Buffer.from(WHO_HAS_HEX, 'hex');
    const arbitraryFrame = fc.oneof(
      fc.uint8Array({ maxLength: 128 }).map((b) => Buffer.from(b)),
      fc.nat(valid.length).map((n) => valid.subarray(0, n)),
      fc.tuple(fc.nat(valid.length - 1), fc.nat(255)).map(([i, v]) => {
        const c = Buffer.from(valid);
        c[i] = v;
        return c;
      }),
    );
    fc.assert(
      fc.property(arbitraryFrame, (frame) => {
        const result = decodeArpFrame(frame);
        if (!result.ok) assert.ok((DROP_REASONS as readonly string[]).includes(result.reason), result.reason);
        else assert.ok(frame.length >= 42, 'a decoded ARP frame is at least 42 bytes');
      }),
      { numRuns: 20_000 },
    );
  });
});
