import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DROP_REASONS } from './drop-reason.js';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  fixIcmpv6Checksum,
  icmpv6Checksum,
  ipv6FromBytes,
  ipv6MulticastMac,
  ipv6ToBytes,
  isDadProbe,
  type NdpFrame,
  type NeighborSolicitation,
  neighborAdvertisementFor,
  neighborSolicitation,
  solicitedNodeAddress,
  unsolicitedAdvertisement,
} from './ndp.js';

const OURS = '02:ba:70:00:00:0b';
const CLIENT = '02:ba:70:00:00:64';
const RIVAL = '02:ba:70:00:00:0c';

// The checksums below were computed by an independent implementation and
// confirmed by tcpdump 4.99 ("[icmp6 sum ok]") on a pcap of these frames.

// Who has 2001:db8::c8, from 2001:db8::64 (02:ba:70:00:00:64), as Linux sends it.
const NS_HEX =
  '3333ff0000c8' + // Ethernet destination: the solicited-node group's MAC
  '02ba70000064' + // Ethernet source: the asker
  '86dd' + // IPv6
  '60000000' + // version 6, traffic class 0, flow label 0
  '0020' + // payload length 32
  '3a' + // next header ICMPv6
  'ff' + // hop limit 255
  '20010db8000000000000000000000064' + // source 2001:db8::64
  'ff0200000000000000000001ff0000c8' + // destination ff02::1:ff00:c8
  '87' + // type 135, Neighbour Solicitation
  '00' + // code
  'a91a' + // checksum
  '00000000' + // reserved
  '20010db80000000000000000000000c8' + // target 2001:db8::c8
  '01' + // option: Source link-layer address
  '01' + // one unit of 8 octets
  '02ba70000064'; // the asker's MAC

const ns: NeighborSolicitation = {
  type: 'solicitation',
  ethernetDestination: '33:33:ff:00:00:c8',
  ethernetSource: CLIENT,
  source: '2001:db8::64',
  destination: 'ff02::1:ff00:c8',
  target: '2001:db8::c8',
  sourceLinkLayer: CLIENT,
};

// What the reader answers that NS with, from 02:ba:70:00:00:0b.
const NA_REPLY_HEX =
  '02ba70000064' + // Ethernet destination: the asker
  '02ba7000000b' + // Ethernet source: us
  '86dd' +
  '60000000' +
  '0020' +
  '3a' +
  'ff' +
  '20010db80000000000000000000000c8' + // source: the target
  '20010db8000000000000000000000064' + // destination: the asker
  '88' + // type 136, Neighbour Advertisement
  '00' +
  '17bf' + // checksum
  '60000000' + // R=0, S=1, O=1, reserved
  '20010db80000000000000000000000c8' + // target
  '02' + // option: Target link-layer address
  '01' +
  '02ba7000000b'; // our MAC

// The unsolicited NA announcing 2001:db8::c8 at 02:ba:70:00:00:0b, also the answer to a DAD probe.
const NA_UNSOLICITED_HEX =
  '333300000001' + // Ethernet destination: all-nodes' MAC
  '02ba7000000b' +
  '86dd' +
  '60000000' +
  '0020' +
  '3a' +
  'ff' +
  '20010db80000000000000000000000c8' + // source: the address itself
  'ff020000000000000000000000000001' + // destination ff02::1
  '88' +
  '00' +
  '86d8' + // checksum
  '20000000' + // R=0, S=0, O=1
  '20010db80000000000000000000000c8' +
  '02' +
  '01' +
  '02ba7000000b';

// A DAD probe for 2001:db8::c8: source ::, no options.
const DAD_HEX =
  '3333ff0000c8' +
  '02ba7000000c' +
  '86dd' +
  '60000000' +
  '0018' + // payload length 24
  '3a' +
  'ff' +
  '00000000000000000000000000000000' + // source ::
  'ff0200000000000000000001ff0000c8' +
  '87' +
  '00' +
  '4b5f' + // checksum
  '00000000' +
  '20010db80000000000000000000000c8';

describe('NDP codec', () => {
  it('encodes an NS byte for byte', () => {
    assert.equal(encodeNdpFrame(ns).toString('hex'), NS_HEX);
    assert.equal(encodeNdpFrame(neighborSolicitation('2001:db8::c8', { mac: CLIENT, ip: '2001:db8::64' })).toString('hex'), NS_HEX);
  });

  it('decodes the same bytes back to the same NS', () => {
    assert.deepEqual(decodeNdpFrame(Buffer.from(NS_HEX, 'hex')), { ok: true, value: ns });
  });

  it('builds the solicited reply: unicast to the asker, S=1 O=1, our Target option', () => {
    assert.equal(encodeNdpFrame(neighborAdvertisementFor(ns, OURS)).toString('hex'), NA_REPLY_HEX);
    assert.deepEqual(decodeNdpFrame(Buffer.from(NA_REPLY_HEX, 'hex')), {
      ok: true,
      value: {
        type: 'advertisement',
        ethernetDestination: CLIENT,
        ethernetSource: OURS,
        source: '2001:db8::c8',
        destination: '2001:db8::64',
        target: '2001:db8::c8',
        router: false,
        solicited: true,
        override: true,
        targetLinkLayer: OURS,
      },
    });
  });

  it('answers a solicitation without a Source option at its Ethernet source', () => {
    const nud = neighborSolicitation('2001:db8::c8', { mac: CLIENT, ip: '2001:db8::64' }, { unicastTo: OURS, sourceLinkLayer: false });
    assert.deepEqual([nud.destination, nud.ethernetDestination, nud.sourceLinkLayer], ['2001:db8::c8', OURS, undefined]);
    assert.equal(neighborAdvertisementFor(nud, OURS).ethernetDestination, CLIENT);
  });

  it('encodes the unsolicited NA byte for byte: all-nodes, S=0 O=1, Target option', () => {
    assert.equal(encodeNdpFrame(unsolicitedAdvertisement('2001:db8::c8', OURS)).toString('hex'), NA_UNSOLICITED_HEX);
  });

  it('encodes a DAD probe byte for byte, and defends against it to all-nodes', () => {
    const probe = neighborSolicitation('2001:db8::c8', { mac: RIVAL, ip: '::' });
    assert.equal(encodeNdpFrame(probe).toString('hex'), DAD_HEX);
    assert.ok(isDadProbe(probe));
    assert.ok(!isDadProbe(ns));
    assert.equal(encodeNdpFrame(neighborAdvertisementFor(probe, OURS)).toString('hex'), NA_UNSOLICITED_HEX);
  });

  it('computes solicited-node groups and IPv6 multicast MACs', () => {
    assert.equal(solicitedNodeAddress('2001:db8::c8'), 'ff02::1:ff00:c8');
    assert.equal(solicitedNodeAddress('2001:db8:1:2:3:4:5678:9abc'), 'ff02::1:ff78:9abc');
    assert.equal(solicitedNodeAddress('fe80::ba:70ff:fe00:b'), 'ff02::1:ff00:b');
    assert.equal(ipv6MulticastMac('ff02::1:ff78:9abc'), '33:33:ff:78:9a:bc');
    assert.equal(ipv6MulticastMac('ff02::1'), '33:33:00:00:00:01');
    assert.throws(() => ipv6MulticastMac('2001:db8::1'), RangeError);
    assert.throws(() => ipv6ToBytes('192.0.2.1'), TypeError);
    assert.equal(ipv6FromBytes(ipv6ToBytes('2001:DB8:0::C8')), '2001:db8::c8');
  });

  it('checksums: the value on the wire, 0 over a correct message, RFC 1071 odd-byte padding', () => {
    const frame = Buffer.from(NS_HEX, 'hex');
    const src = frame.subarray(22, 38);
    const dst = frame.subarray(38, 54);
    assert.equal(icmpv6Checksum(src, dst, frame.subarray(54)), 0);
    const zeroed = Buffer.from(frame.subarray(54));
    zeroed.writeUInt16BE(0, 2);
    assert.equal(icmpv6Checksum(src, dst, zeroed), 0xa91a);
    // An odd message counts its last byte as the high byte of a word: [0x01] weighs 0x0100.
    const zero16 = Buffer.alloc(16);
    assert.equal(icmpv6Checksum(zero16, zero16, Buffer.from([0x01])), ~(0x0100 + 1 + 58) & 0xffff);
    const broken = Buffer.from(frame);
    broken.writeUInt16BE(0xdead, 56);
    assert.equal(fixIcmpv6Checksum(broken).toString('hex'), NS_HEX);
  });

  it("names the rule each invalid frame breaks (RFC 4861 7.1.1, 7.1.2, and Baton's destination rule)", () => {
    const good = (): Buffer => Buffer.from(NS_HEX, 'hex');
    const na = (): Buffer => encodeNdpFrame(unsolicitedAdvertisement('2001:db8::c8', RIVAL));
    const patch = (b: Buffer, offset: number, bytes: number[], fix = true): Buffer => {
      Buffer.from(bytes).copy(b, offset);
      return fix ? fixIcmpv6Checksum(b) : b;
    };
    const options = (b: Buffer, hex: string): Buffer => {
      const grown = Buffer.concat([b.subarray(0, 78), Buffer.from(hex, 'hex')]);
      grown.writeUInt16BE(grown.length - 54, 18);
      return fixIcmpv6Checksum(grown);
    };
    const cases: Array<[string, Buffer, string]> = [
      ['13-byte frame', good().subarray(0, 13), 'truncated-ethernet'],
      ['ARP EtherType', patch(good(), 12, [0x08, 0x06], false), 'not-ipv6'],
      ['cut in the IPv6 header', good().subarray(0, 50), 'truncated-ipv6'],
      ['IP version 4', patch(good(), 14, [0x40]), 'bad-ip-version'],
      ['fragment header first', patch(good(), 20, [44]), 'not-icmpv6'],
      ['payload length beyond the frame', good().subarray(0, 80), 'truncated-ipv6'],
      ['payload length 0', patch(good(), 18, [0, 0], false), 'truncated-ndp'],
      ['ICMPv6 echo request', patch(good(), 54, [128]), 'not-ndp'],
      ['router solicitation', patch(good(), 54, [133]), 'not-ndp'],
      ['16-octet NS', fixIcmpv6Checksum(patch(good().subarray(0, 70), 18, [0, 16], false)), 'truncated-ndp'],
      ['hop limit 64', patch(good(), 21, [64]), 'bad-hop-limit'],
      ['code 1', patch(good(), 55, [1]), 'bad-icmp-code'],
      ['checksum off by one', patch(good(), 56, [0xa9, 0x1b], false), 'bad-checksum'],
      ['multicast source', patch(good(), 22, [0xff, 0x02]), 'multicast-source'],
      ['multicast target', patch(good(), 62, [0xff, 0x02]), 'multicast-target'],
      ['option of length 0', patch(good(), 79, [0]), 'bad-option-length'],
      ['option past the end', patch(good(), 79, [2]), 'bad-option-length'],
      ['a stray byte after the options', options(good(), '010102ba7000006401'), 'bad-option-length'],
      ['Source option of 2 units', options(good(), `0102${'00'.repeat(14)}`), 'bad-link-layer-option'],
      ['DAD probe with a Source option', options(Buffer.from(DAD_HEX, 'hex'), '010102ba7000000c'), 'source-lla-from-unspecified'],
      ['NS to all-nodes', patch(good(), 38, [...ipv6ToBytes('ff02::1')]), 'bad-destination'],
      ['NS to another group', patch(good(), 51, [0x00, 0x00, 0xc9]), 'bad-destination'],
      ['NS unicast to another address', patch(good(), 38, [...ipv6ToBytes('2001:db8::c9')]), 'bad-destination'],
      ['DAD unicast to the target', patch(Buffer.from(DAD_HEX, 'hex'), 38, [...ipv6ToBytes('2001:db8::c8')]), 'bad-destination'],
      ['solicited NA to all-nodes', patch(na(), 58, [0x60]), 'solicited-to-multicast'],
    ];
    for (const [name, frame, reason] of cases) {
      const d = decodeNdpFrame(frame);
      assert.ok(!d.ok, `${name} is refused`);
      assert.equal(d.reason, reason, name);
      assert.ok((DROP_REASONS as readonly string[]).includes(reason));
    }
    // And these are fine: a unicast NUD NS to the target, an NA with S=1 to a unicast address.
    assert.ok(decodeNdpFrame(patch(good(), 38, [...ipv6ToBytes('2001:db8::c8')])).ok);
    assert.ok(decodeNdpFrame(Buffer.from(NA_REPLY_HEX, 'hex')).ok);
  });

  it('encodes and decodes any NS or NA to the same frame (property)', () => {
    const mac = fc.constantFrom(OURS, CLIENT, RIVAL);
    const unicast = fc
      .bigInt({ min: 1n, max: (1n << 120n) - 1n })
      .map((v) => ipv6FromBytes(Buffer.from(v.toString(16).padStart(32, '0'), 'hex')));
    const frame: fc.Arbitrary<NdpFrame> = fc.oneof(
      fc
        .record({ target: unicast, source: unicast, mac, lla: fc.boolean(), unicastTo: fc.option(mac, { nil: undefined }) })
        .map(
          ({ target, source, mac: m, lla, unicastTo }): NdpFrame =>
            neighborSolicitation(
              target,
              { mac: m, ip: source },
              { sourceLinkLayer: lla, ...(unicastTo !== undefined ? { unicastTo } : {}) },
            ),
        ),
      fc.record({ target: unicast, dst: unicast, mac, router: fc.boolean(), solicited: fc.boolean(), override: fc.boolean() }).map(
        ({ target, dst, mac: m, router, solicited, override }): NdpFrame => ({
          type: 'advertisement',
          ethernetSource: m,
          ethernetDestination: CLIENT,
          source: target,
          destination: dst,
          target,
          router,
          solicited,
          override,
          targetLinkLayer: m,
        }),
      ),
    );
    fc.assert(
      fc.property(frame, (f) => {
        assert.deepEqual(decodeNdpFrame(encodeNdpFrame(f)), { ok: true, value: f });
      }),
    );
  });

  it('never throws on arbitrary bytes behind a valid IPv6 header (fuzz)', () => {
    const header = Buffer.from(NS_HEX, 'hex').subarray(0, 54);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 0xffff }), (tail, length) => {
        const f = Buffer.concat([header, tail]);
        f.writeUInt16BE(length, 18);
        const d = decodeNdpFrame(f);
        if (!d.ok) assert.ok((DROP_REASONS as readonly string[]).includes(d.reason));
      }),
      { numRuns: 2_000 },
    );
  });
});
