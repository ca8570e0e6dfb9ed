import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  fixIcmpv6Checksum,
  icmpv6Checksum,
  ipv6ToBytes,
  neighborAdvertisementFor,
  neighborSolicitation,
  unsolicitedAdvertisement,
} from '../../src/layer2/packet/ndp.js';
import { claimViolations } from './arp-client.js';
import type { LanHost } from './lan.js';
import {
  advertisements,
  echoRequestFrame,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_REDIRECT,
  icmpv6Messages,
  parseNdisc,
  solicitationsFrom,
  unicastSolicitation,
} from './ndp-client.js';

const VIP = '2001:db8:ba70:e::10';
const CLIENT: LanHost = {
  name: 'client',
  netns: 'baton-client',
  ip: '192.0.2.100',
  ip6: '2001:db8:ba70::64',
  mac: '02:ba:70:00:00:64',
  iface: 'eth0',
  hostVeth: 'baton-client',
};
const NODE_B = '02:ba:70:00:00:0b';
const NODE_C = '02:ba:70:00:00:0c';

function capture(frames: Array<[number, Buffer]>): { records(): Promise<Array<{ timeMs: number; data: Buffer }>> } {
  return { records: async () => frames.map(([timeMs, data]) => ({ timeMs, data })) };
}

describe('parseNdisc', () => {
  it('reads every advertisement ndisc6 -m printed, MACs lower-cased and folded', () => {
    const out = [
      'Soliciting 2001:db8:ba70:e::10 (2001:db8:ba70:e::10) on eth0...',
      'Target link-layer address: 02:BA:70:00:00:0B',
      ' from 2001:db8:ba70:e::10',
      'Target link-layer address: 02:BA:70:00:00:0C',
      ' from 2001:db8:ba70:e::10',
      'Target link-layer address: 02:BA:70:00:00:0B',
      ' from 2001:db8:ba70:e::10',
    ].join('\n');
    assert.deepEqual(parseNdisc(out), { macs: [NODE_B, NODE_C], answers: 3 });
  });

  it('reads nothing from a timeout', () => {
    assert.deepEqual(parseNdisc('Soliciting 2001:db8::9 (2001:db8::9) on eth0...\nTimed out.\nNo response.\n'), { macs: [], answers: 0 });
  });
});

describe('unicastSolicitation', () => {
  it('goes to the given MAC and to the target address itself, with the asker’s Source option (RFC 4861 7.3.1)', () => {
    const d = decodeNdpFrame(unicastSolicitation(VIP, CLIENT, NODE_B));
    assert.ok(d.ok);
    assert.equal(d.value.type, 'solicitation');
    assert.equal(d.value.ethernetDestination, NODE_B);
    assert.equal(d.value.destination, VIP);
    assert.equal(d.value.source, CLIENT.ip6);
    assert.equal(d.value.target, VIP);
    assert.equal(d.value.type === 'solicitation' ? d.value.sourceLinkLayer : undefined, CLIENT.mac);
  });
});

describe('advertisements', () => {
  const ns = neighborSolicitation(VIP, { mac: CLIENT.mac, ip: CLIENT.ip6 });

  it('puts solicited NAs as replies and unsolicited Override NAs as announcements, skipping everything else', async () => {
    const frames = capture([
      [1, encodeNdpFrame(ns)],
      [2, encodeNdpFrame(neighborAdvertisementFor(ns, NODE_B))],
      [3, encodeNdpFrame(unsolicitedAdvertisement(VIP, NODE_C))],
      [4, Buffer.from('ffffffffffff02ba7000006408060001', 'hex')],
    ]);
    const nas = await advertisements(frames);
    assert.deepEqual(
      nas.map((n) => [n.timeMs, n.senderIp, n.senderMac, n.operation, n.gratuitous, n.solicited, n.override]),
      [
        [2, VIP, NODE_B, 'reply', false, true, true],
        [3, VIP, NODE_C, 'request', true, false, true],
      ],
    );
    assert.equal(nas[0]?.ethernetDestination, CLIENT.mac, 'a solicited NA goes to the asker');
  });

  it('feeds the ARP claim rules: the old holder answering after the heir’s unsolicited NA is two MACs', async () => {
    const frames = capture([
      [0, encodeNdpFrame(unsolicitedAdvertisement(VIP, NODE_B))],
      [1_000, encodeNdpFrame(unsolicitedAdvertisement(VIP, NODE_C))],
      [1_200, encodeNdpFrame(neighborAdvertisementFor(ns, NODE_B))],
    ]);
    assert.deepEqual(claimViolations(await advertisements(frames), VIP), [{ timeMs: 1_200, mac: NODE_B, owner: NODE_C }]);
  });

  it('finds the client’s own solicitations for an address from a time on', async () => {
    const other = neighborSolicitation('2001:db8:ba70:e::11', { mac: CLIENT.mac, ip: CLIENT.ip6 });
    const frames = capture([
      [5, encodeNdpFrame(ns)],
      [10, encodeNdpFrame(other)],
      [20, encodeNdpFrame(ns)],
    ]);
    assert.deepEqual(await solicitationsFrom(frames, VIP, CLIENT.mac, 6), [20]);
  });
});

describe('echoRequestFrame and icmpv6Messages', () => {
  it('builds an echo request to the address, sent to the given MAC, with a valid checksum and an ordinary hop limit', async () => {
    const f = echoRequestFrame(CLIENT, VIP, NODE_B);
    assert.equal(f.subarray(0, 6).toString('hex'), '02ba7000000b', 'Ethernet destination: the given MAC');
    assert.equal(f.readUInt16BE(12), 0x86dd);
    assert.equal(f[14 + 7], 64, 'hop limit 64');
    const icmp = f.subarray(54);
    assert.equal(icmp[0], ICMPV6_ECHO_REQUEST);
    assert.equal(icmpv6Checksum(ipv6ToBytes(CLIENT.ip6), ipv6ToBytes(VIP), icmp), 0, 'checksum verifies');
    const [m] = await icmpv6Messages(capture([[7, f]]));
    assert.deepEqual(m, {
      timeMs: 7,
      ethernetSource: CLIENT.mac,
      ethernetDestination: NODE_B,
      source: CLIENT.ip6,
      destination: VIP,
      type: ICMPV6_ECHO_REQUEST,
      code: 0,
    });
  });

  it('decodes a Redirect: its target, destination and Target link-layer option', async () => {
    const redirect = Buffer.alloc(40 + 8);
    redirect[0] = ICMPV6_REDIRECT;
    ipv6ToBytes(VIP).copy(redirect, 8);
    ipv6ToBytes(VIP).copy(redirect, 24);
    redirect[40] = 2; // Target link-layer address option
    redirect[41] = 1; // one 8-byte unit
    Buffer.from(NODE_C.replaceAll(':', ''), 'hex').copy(redirect, 42);
    const header = Buffer.alloc(40);
    header[0] = 0x60;
    header.writeUInt16BE(redirect.length, 4);
    header[6] = 58;
    header[7] = 255;
    ipv6ToBytes('fe80::ba:70ff:fe00:b').copy(header, 8);
    ipv6ToBytes(CLIENT.ip6).copy(header, 24);
    const eth = Buffer.concat([Buffer.from('02ba7000006402ba7000000b86dd', 'hex'), header, redirect]);
    const [m] = await icmpv6Messages(capture([[9, fixIcmpv6Checksum(eth)]]));
    assert.equal(m?.type, ICMPV6_REDIRECT);
    assert.equal(m?.ethernetSource, NODE_B);
    assert.deepEqual(m?.redirect, { target: VIP, destination: VIP, targetLinkLayer: NODE_C });
  });
});
