import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FakeLink } from '../testing/fake-link.js';
import { type ArpFrame, decodeArpFrame, encodeArpFrame, gratuitousArp } from './packet/arp.js';
import type { DropReason } from './packet/drop-reason.js';
import { ArpResponder, type ResponderMetrics } from './responder.js';

const OUR_MAC = '02:ba:70:00:00:0b';
const CLIENT_MAC = '02:ba:70:00:00:64';
const OTHER_NODE_MAC = '02:ba:70:00:00:0c';

function whoHas(ip: string, from = '192.0.2.100', mac = CLIENT_MAC): Buffer {
  return encodeArpFrame({
    operation: 'request',
    ethernetSource: mac,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: mac,
    senderIp: from,
    targetMac: '00:00:00:00:00:00',
    targetIp: ip,
  });
}

function decodeAll(frames: Buffer[]): ArpFrame[] {
  return frames.map((f) => {
    const d = decodeArpFrame(f);
    assert.ok(d.ok);
    return d.value;
  });
}

class CountingMetrics implements ResponderMetrics {
  requests: string[] = [];
  replies: string[] = [];
  gratuitousSent: string[] = [];
  drops: DropReason[] = [];
  sendFailures: string[] = [];
  request(ip: string): void {
    this.requests.push(ip);
  }
  reply(ip: string): void {
    this.replies.push(ip);
  }
  gratuitous(ip: string): void {
    this.gratuitousSent.push(ip);
  }
  dropped(reason: DropReason): void {
    this.drops.push(reason);
  }
  sendFailed(code: string): void {
    this.sendFailures.push(code);
  }
}

function setup(options: { refreshIntervalMs?: number; fastPath?: boolean } = {}) {
  const clock = new FakeClock();
  const link = new FakeLink('eth0', OUR_MAC, { fastPath: options.fastPath });
  const metrics = new CountingMetrics();
  const claims: Array<[string, string]> = [];
  const responder = new ArpResponder({
    link,
    clock,
    log: silentLogger(),
    metrics,
    onForeignClaim: (ip, mac) => claims.push([ip, mac]),
    ...options,
  });
  return { clock, link, metrics, claims, responder };
}

describe('ArpResponder', () => {
  it('on a link with a fast path, sends its gratuitous ARP before the link starts answering, and stops it at once on withdraw', () => {
    const { link, responder } = setup({ fastPath: true });
    responder.announce('192.0.2.200');
    assert.deepEqual(link.calls, ['send', 'send', 'answerFor'], 'both gratuitous forms leave before the first reply could');
    assert.deepEqual(link.fastPathIps, ['192.0.2.200']);
    responder.withdraw('192.0.2.200');
    assert.deepEqual(link.fastPathIps, []);
  });

  it('on a link with a fast path, never replies itself: a request the link left unanswered is dropped as yielded', () => {
    const { link, metrics, responder } = setup({ fastPath: true });
    responder.announce('192.0.2.200');
    link.sent.length = 0;
    link.inject(whoHas('192.0.2.200'), true);
    assert.deepEqual(link.sent, [], 'the link answered; nothing more from us');
    assert.deepEqual(metrics.replies, ['192.0.2.200']);
    // The link read this request together with another MAC's claim and yielded: a late reply would be a second MAC.
    link.inject(whoHas('192.0.2.200'), false);
    assert.deepEqual(link.sent, []);
    assert.deepEqual(metrics.drops, ['yielded']);
  });

  it('answers a request for a held address, unicast to the asker, with our MAC as Ethernet source and ARP sender', () => {
    const { link, metrics, responder } = setup();
    responder.announce('192.0.2.200');
    link.sent.length = 0;
    link.inject(whoHas('192.0.2.200'));
    const [reply] = decodeAll(link.sent);
    assert.deepEqual(reply, {
      operation: 'reply',
      ethernetSource: OUR_MAC,
      ethernetDestination: CLIENT_MAC,
      senderMac: OUR_MAC,
      senderIp: '192.0.2.200',
      targetMac: CLIENT_MAC,
      targetIp: '192.0.2.100',
    });
    assert.deepEqual([metrics.requests, metrics.replies], [['192.0.2.200'], ['192.0.2.200']]);
  });

  it('sends the gratuitous burst in both forms on the schedule, and stops it at once on withdraw', async () => {
    const { clock, link, metrics, responder } = setup();
    responder.announce('192.0.2.200');
    assert.deepEqual(
      decodeAll(link.sent).map((f) => `${f.operation} ${f.senderIp}->${f.targetIp} ${f.targetMac}`),
      ['request 192.0.2.200->192.0.2.200 00:00:00:00:00:00', 'reply 192.0.2.200->192.0.2.200 ff:ff:ff:ff:ff:ff'],
    );
    await clock.advance(1_000);
    assert.equal(link.sent.length, 6, 'bursts at 0, 0.5 and 1 s');
    responder.withdraw('192.0.2.200');
    await clock.advance(5_000);
    assert.equal(link.sent.length, 6, 'the 2 s burst was cancelled');
    assert.equal(metrics.gratuitousSent.length, 3);
  });

  it('is silent the moment an address is withdrawn', () => {
    const { link, metrics, responder } = setup();
    responder.announce('192.0.2.200');
    responder.withdraw('192.0.2.200');
    link.sent.length = 0;
    link.inject(whoHas('192.0.2.200'));
    assert.equal(link.sent.length, 0);
    assert.deepEqual(metrics.drops, ['not-held']);
  });

  it('refreshes periodically when asked', async () => {
    const { clock, link, responder } = setup({ refreshIntervalMs: 10_000 });
    responder.announce('192.0.2.200');
    await clock.advance(35_000);
    assert.equal(link.sent.length, 2 * (4 + 3), 'burst of 4, then 3 refreshes');
  });

  it('ignores everything not ours, each under a named reason', () => {
    const { link, metrics, responder } = setup();
    responder.announce('192.0.2.200');
    link.sent.length = 0;
    link.inject(whoHas('192.0.2.201'));
    link.inject(whoHas('192.0.2.200', '192.0.2.11', OUR_MAC));
    link.inject(encodeArpFrame(gratuitousArp('192.0.2.210', OTHER_NODE_MAC, 'request')));
    link.inject(
      encodeArpFrame({
        operation: 'reply',
        ethernetSource: CLIENT_MAC,
        ethernetDestination: OUR_MAC,
        senderMac: CLIENT_MAC,
        senderIp: '192.0.2.100',
        targetMac: OUR_MAC,
        targetIp: '192.0.2.11',
      }),
    );
    link.inject(Buffer.alloc(10));
    assert.deepEqual(metrics.drops, ['not-held', 'own-frame', 'gratuitous', 'reply', 'truncated-ethernet']);
    assert.equal(link.sent.length, 0);
  });

  it('reports another MAC claiming a held address, and stays silent if the claim makes it yield', () => {
    const { link, claims, responder } = setup();
    responder.announce('192.0.2.200');
    const yielding = new ArpResponder({
      link,
      clock: new FakeClock(),
      log: silentLogger(),
      metrics: new CountingMetrics(),
      onForeignClaim: (ip) => yielding.withdraw(ip),
    });
    yielding.announce('192.0.2.200');
    link.sent.length = 0;
    link.inject(encodeArpFrame(gratuitousArp('192.0.2.200', OTHER_NODE_MAC, 'request')));
    assert.deepEqual(claims, [['192.0.2.200', OTHER_NODE_MAC]]);
    assert.equal(yielding.holds('192.0.2.200'), false);
    assert.equal(responder.holds('192.0.2.200'), true, 'the responder itself leaves the decision to its owner');
  });

  it('answers an ARP probe (sender 0.0.0.0) for a held address, defending it', () => {
    const { link, responder } = setup();
    responder.announce('192.0.2.200');
    link.sent.length = 0;
    link.inject(whoHas('192.0.2.200', '0.0.0.0'));
    assert.equal(decodeAll(link.sent)[0]?.senderIp, '192.0.2.200');
  });

  it('counts a failed send by its code and keeps running', () => {
    const { link, metrics, responder } = setup();
    link.down = true;
    responder.announce('192.0.2.200');
    link.inject(whoHas('192.0.2.200'));
    assert.deepEqual(metrics.sendFailures, ['ENETDOWN', 'ENETDOWN']);
    assert.deepEqual(metrics.drops, ['not-ready']);
    link.down = false;
    link.inject(whoHas('192.0.2.200'));
    assert.equal(link.sent.length, 1);
  });
});
