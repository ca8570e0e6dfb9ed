import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CapturedArp, claimViolations, HEIR_ANNOUNCE_GRACE_MS, parseArping } from './arp-client.js';

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

  it('accepts an heir whose reply comes a few ms before its own gratuitous ARP (what CI captured: 5 ms)', () => {
    const frames = [garp(OLD, 0), reply(OLD, 1_000), reply(HEIR, 22_316.7), garp(HEIR, 22_321.7), reply(HEIR, 22_400)];
    assert.deepEqual(claimViolations(frames, IP), []);
  });

  it('still flags the old holder once the heir took over by that early reply', () => {
    const frames = [garp(OLD, 0), reply(HEIR, 5_000), garp(HEIR, 5_010), reply(OLD, 5_020)];
    assert.deepEqual(claimViolations(frames, IP), [{ timeMs: 5_020, mac: OLD, owner: HEIR }]);
  });

  it('flags a foreign reply whose gratuitous ARP comes later than the grace', () => {
    const late = 3_000 + HEIR_ANNOUNCE_GRACE_MS + 1;
    const frames = [garp(OLD, 0), reply(HEIR, 3_000), garp(HEIR, late)];
    assert.deepEqual(claimViolations(frames, IP), [{ timeMs: 3_000, mac: HEIR, owner: OLD }]);
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
