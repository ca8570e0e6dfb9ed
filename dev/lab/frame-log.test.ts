import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arpReplyFor, encodeArpFrame, gratuitousArp } from '../../src/layer2/packet/arp.js';
import { encodeNdpFrame, neighborAdvertisementFor, neighborSolicitation, unsolicitedAdvertisement } from '../../src/layer2/packet/ndp.js';
import { describeFrame, framesAround } from './frame-log.js';

const CLIENT = { mac: '02:ba:70:00:00:64', ip: '192.0.2.100', ip6: '2001:db8:ba70::64' };
const NODE2 = '02:ba:70:00:00:0c';
const NODE3 = '02:ba:70:00:00:0d';
const V4 = '192.0.2.200';
const V6 = '2001:db8:ba70:e::100';
const names: Record<string, string> = { [CLIENT.mac]: 'client', [NODE2]: 'node-2', [NODE3]: 'node-3', 'ff:ff:ff:ff:ff:ff': 'broadcast' };
const name = (m: string): string => names[m] ?? m;

const whoHas = {
  operation: 'request' as const,
  ethernetSource: CLIENT.mac,
  ethernetDestination: 'ff:ff:ff:ff:ff:ff',
  senderMac: CLIENT.mac,
  senderIp: CLIENT.ip,
  targetMac: '00:00:00:00:00:00',
  targetIp: V4,
};
const ns = neighborSolicitation(V6, { mac: CLIENT.mac, ip: CLIENT.ip6 });

describe('frame log', () => {
  it('tells each kind of ARP and NDP frame in words, with names for MACs', () => {
    assert.equal(describeFrame(encodeArpFrame(whoHas), name), 'arp who-has 192.0.2.200 from client (192.0.2.100)');
    assert.equal(describeFrame(encodeArpFrame(arpReplyFor(whoHas, NODE2)), name), 'arp reply 192.0.2.200 is-at node-2 to client');
    assert.equal(describeFrame(encodeArpFrame(gratuitousArp(V4, NODE3, 'reply')), name), 'arp gratuitous reply 192.0.2.200 is-at node-3');
    assert.equal(describeFrame(encodeNdpFrame(ns), name), `ns who-has ${V6} from client (${CLIENT.ip6}) to ff02::1:ff00:100`);
    assert.equal(describeFrame(encodeNdpFrame(neighborAdvertisementFor(ns, NODE2)), name), `na S=1 O=1 ${V6} is-at node-2 to client`);
    assert.equal(
      describeFrame(encodeNdpFrame(unsolicitedAdvertisement(V6, NODE3))),
      `na S=0 O=1 ${V6} is-at ${NODE3} to 33:33:00:00:00:01`,
    );
    assert.match(describeFrame(Buffer.alloc(20)), /^other frame of 20 bytes/);
  });

  it('keeps the frames about one IP inside the window, timed from the moment', () => {
    const records = [
      { timeMs: 990, data: encodeNdpFrame(ns) }, // before the window
      { timeMs: 999.5, data: encodeNdpFrame(unsolicitedAdvertisement(V6, NODE3)) },
      { timeMs: 1_000, data: encodeArpFrame(whoHas) }, // another IP
      { timeMs: 1_000.25, data: encodeNdpFrame(neighborAdvertisementFor(ns, NODE2)) },
      { timeMs: 1_011, data: encodeNdpFrame(neighborAdvertisementFor(ns, NODE3)) }, // after it
    ];
    assert.deepEqual(framesAround(records, V6, 1_000, { beforeMs: 5, afterMs: 10 }, name), [
      `-0.500 ms na S=0 O=1 ${V6} is-at node-3 to 33:33:00:00:00:01`,
      `+0.250 ms na S=1 O=1 ${V6} is-at node-2 to client`,
    ]);
    assert.deepEqual(
      framesAround(records, V4, 1_000, { beforeMs: 0, afterMs: 0 }, name),
      ['arp who-has 192.0.2.200 from client (192.0.2.100)'].map((l) => `+0.000 ms ${l}`),
    );
  });
});
