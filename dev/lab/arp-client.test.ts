import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CapturedArp, CLAIM_IN_FLIGHT_MS, claimViolations, parseArping, repliesBeforeAnnouncement } from './arp-client.js';

const IP = '198.51.100.21';
const CLIENT = '02:00:00:00:00:01';
const OLD = '02:00:00:00:00:0b';
const HEIR = '02:00:00:00:00:0d';

function garp(mac: string, timeMs: number): CapturedArp {
  return frame('request', mac, IP, IP, timeMs);
}
function reply(mac: string, timeMs: number): CapturedArp {
  return frame('reply', mac, IP, '198.51.100.1', timeMs);
}
function frame(operation: 'request' | 'reply', mac: string, senderIp: string, targetIp: string, timeMs: number): CapturedArp {
  return {
    operation,
    senderMac: mac,
    senderIp,
    targetMac: operation === 'reply' ? CLIENT : '00:00:00:00:00:00',
    targetIp,
    ethernetSource: mac,
    ethernetDestination: operation === 'reply' ? CLIENT : 'ff:ff:ff:ff:ff:ff',
    gratuitous: senderIp === targetIp,
    timeMs,
  } as CapturedArp;
}

describe('claimViolations', () => {
  it('finds nothing in a clean hand-over: old holder silent, heir announces, heir answers', () => {
    const frames = [garp(OLD, 0), reply(OLD, 100), garp(HEIR, 2_000), reply(HEIR, 2_100)];
    assert.deepEqual(claimViolations(frames, IP), []);
  });

  it('flags the old holder answering after the heir announced itself', () => {
    const frames = [garp(OLD, 0), garp(HEIR, 2_000), reply(OLD, 2_300)];
    assert.deepEqual(claimViolations(frames, IP), [{ timeMs: 2_300, mac: OLD, owner: HEIR }]);
  });

  it('flags an heir whose reply comes before its own gratuitous ARP, however soon after (the reader answers only once announced)', () => {
    const frames = [garp(OLD, 0), reply(OLD, 1_000), reply(HEIR, 22_316.7), garp(HEIR, 22_317.1), reply(HEIR, 22_400)];
    assert.deepEqual(claimViolations(frames, IP), [{ timeMs: 22_316.7, mac: HEIR, owner: OLD }]);
  });

  it('with an in-flight window, spares only the previous holder, only that soon after the claim', () => {
    // The old holder's reply 1 µs after the heir's claim (a CI flood run): it read the request before the claim reached it.
    const frames = [garp(OLD, 0), garp(HEIR, 2_000), reply(OLD, 2_000.001), reply(OLD, 2_002), reply(HEIR, 2_003)];
    assert.deepEqual(claimViolations(frames, IP), [
      { timeMs: 2_000.001, mac: OLD, owner: HEIR },
      { timeMs: 2_002, mac: OLD, owner: HEIR },
    ]);
    assert.deepEqual(claimViolations(frames, IP, { inFlightMs: CLAIM_IN_FLIGHT_MS }), [{ timeMs: 2_002, mac: OLD, owner: HEIR }]);
    // A third MAC gets no such window, nor does an heir answering before its own claim.
    const third = '02:00:00:00:00:0e';
    assert.deepEqual(claimViolations([garp(OLD, 0), garp(HEIR, 2_000), reply(third, 2_000.5)], IP, { inFlightMs: 1 }), [
      { timeMs: 2_000.5, mac: third, owner: HEIR },
    ]);
    assert.deepEqual(claimViolations([garp(OLD, 0), reply(HEIR, 1_999.9), garp(HEIR, 2_000)], IP, { inFlightMs: 1 }), [
      { timeMs: 1_999.9, mac: HEIR, owner: OLD },
    ]);
  });

  it('flags a reply with no gratuitous ARP of its own at all, and ignores other IPs', () => {
    const other = frame('reply', HEIR, '198.51.100.99', '198.51.100.1', 10);
    const frames = [garp(OLD, 0), other, reply(HEIR, 50)];
    assert.deepEqual(claimViolations(frames, IP), [{ timeMs: 50, mac: HEIR, owner: OLD }]);
  });

  it('sorts frames by time before judging them', () => {
    const frames = [reply(HEIR, 2_005), garp(HEIR, 2_000), garp(OLD, 0)];
    assert.deepEqual(claimViolations(frames, IP), []);
  });
});

describe('repliesBeforeAnnouncement', () => {
  it('finds the heir’s replies that came before its first gratuitous ARP, from the given moment on', () => {
    const frames = [reply(HEIR, 10), garp(OLD, 0), reply(HEIR, 1_998), reply(HEIR, 1_999.5), garp(HEIR, 2_000), reply(HEIR, 2_001)];
    assert.deepEqual(
      repliesBeforeAnnouncement(frames, IP, HEIR, 1_000).map((f) => f.timeMs),
      [1_998, 1_999.5],
    );
  });

  it('is empty for an heir that announced first, and counts every reply of one that never announced', () => {
    assert.deepEqual(repliesBeforeAnnouncement([garp(HEIR, 5), reply(HEIR, 6), reply(OLD, 1)], IP, HEIR, 0), []);
    assert.equal(repliesBeforeAnnouncement([reply(HEIR, 6), reply(HEIR, 7)], IP, HEIR, 0).length, 2);
  });
});

describe('parseArping', () => {
  it('counts replies and distinct MACs, lower-cased', () => {
    const out = [
      'ARPING 198.51.100.21 from 198.51.100.1 c0',
      'Unicast reply from 198.51.100.21 [02:00:00:00:00:0B]  0.6ms',
      'Unicast reply from 198.51.100.21 [02:00:00:00:00:0b]  0.5ms',
      'Sent 2 probes (2 broadcast(s))',
    ].join('\n');
    assert.deepEqual(parseArping(out), { macs: [OLD], replies: 2, sent: 2 });
  });
});
