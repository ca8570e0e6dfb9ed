import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  neighborAdvertisementFor,
  neighborSolicitation,
  unsolicitedAdvertisement,
} from '../../src/layer2/packet/ndp.js';
import { claimViolations } from './arp-client.js';
import type { LanHost } from './lan.js';
import { advertisements, parseNdisc, solicitationsFrom, unicastSolicitation } from './ndp-client.js';

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
