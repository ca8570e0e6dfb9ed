import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SPEAKER_DEFAULTS } from '../speaker/config.js';
import { analyseIp, DEFAULT_REBALANCE_SETTLE_MS } from './analysis.js';
import type { ProbeEvent } from './probe-events.js';

const IP = '192.0.2.200';
const A = '02:ba:70:00:00:0b';
const B = '02:ba:70:00:00:0c';

function rounds(from: number, to: number, every: number, make: (t: number) => ProbeEvent[]): ProbeEvent[] {
  const out: ProbeEvent[] = [];
  for (let t = from; t < to; t += every) out.push(...make(t));
  return out;
}

describe('analyseIp', () => {
  it('measures a failover: downtime, time to the new holder, its announcement, no two MACs', () => {
    const events: ProbeEvent[] = [
      ...rounds(0, 1_000, 20, (t) => [
        { t: t + 1, kind: 'arp-reply', ip: IP, mac: A },
        { t, kind: 'http', ip: IP, ok: true, from: 'node-1', ms: 2 },
      ]),
      ...rounds(1_000, 2_300, 20, (t) => [{ t, kind: 'http', ip: IP, ok: false, from: 'ECONNREFUSED', ms: 1 }]),
      { t: 2_290, kind: 'garp', ip: IP, mac: B },
      ...rounds(2_300, 3_000, 20, (t) => [
        { t: t + 1, kind: 'arp-reply', ip: IP, mac: B },
        { t, kind: 'http', ip: IP, ok: true, from: 'node-2', ms: 2 },
      ]),
    ];
    const r = analyseIp(events, IP, 1_000, 3_000);
    assert.equal(r.downtimeMs, 1_300);
    assert.equal(r.newHolderAfterMs, 1_290);
    assert.deepEqual([r.macBefore, r.macAfter], [A, B]);
    assert.deepEqual(r.garps, [{ t: 2_290, mac: B }]);
    assert.deepEqual(r.twoMacMoments, []);
    assert.deepEqual(
      r.holders.map((h) => h.mac),
      [A, B],
    );
    assert.equal(r.outages.length, 1);
    assert.deepEqual(r.pageLoads, { ok: 85, failed: 65 });
  });

  it('flags the old holder answering right after the new one announced itself (one request, two MACs)', () => {
    const events: ProbeEvent[] = [
      { t: 10, kind: 'arp-reply', ip: IP, mac: A },
      { t: 100, kind: 'garp', ip: IP, mac: B },
      { t: 120, kind: 'arp-reply', ip: IP, mac: B },
      { t: 121, kind: 'arp-reply', ip: IP, mac: A },
    ];
    assert.deepEqual(analyseIp(events, IP, 50, 200).twoMacMoments, [{ t: 121, macs: [B, A] }]);
  });

  it('flags two MACs taking turns: the old holder still answering after the new one announced', () => {
    const events: ProbeEvent[] = [
      { t: 10, kind: 'arp-reply', ip: IP, mac: A },
      { t: 100, kind: 'garp', ip: IP, mac: B },
      { t: 110, kind: 'arp-reply', ip: IP, mac: A },
      { t: 120, kind: 'arp-reply', ip: IP, mac: B },
    ];
    assert.deepEqual(analyseIp(events, IP, 50, 200).twoMacMoments, [
      { t: 110, macs: [B, A] },
      { t: 120, macs: [A, B] },
    ]);
  });

  it('flags a frozen holder that comes back talking after its heir took over', () => {
    const events: ProbeEvent[] = [
      ...rounds(0, 1_000, 20, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: A } as ProbeEvent]),
      { t: 2_100, kind: 'garp', ip: IP, mac: B },
      ...rounds(2_100, 12_000, 20, (t) => [{ t: t + 1, kind: 'arp-reply', ip: IP, mac: B } as ProbeEvent]),
      { t: 12_005, kind: 'garp', ip: IP, mac: A },
      ...rounds(12_010, 13_000, 20, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: B } as ProbeEvent]),
    ];
    assert.deepEqual(analyseIp(events, IP, 1_000, 13_000).twoMacMoments, [{ t: 12_010, macs: [A, B] }]);
  });

  it('does not flag a move and a move back (takeover, then rebalancing home), nor the old holder’s last answer just before a clean move', () => {
    const events: ProbeEvent[] = [
      ...rounds(0, 1_000, 10, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: A } as ProbeEvent]),
      // The old holder's last answer, 3 ms before the heir announces and then answers (a hand-over's tight end).
      { t: 2_097, kind: 'arp-reply', ip: IP, mac: A },
      { t: 2_099, kind: 'garp', ip: IP, mac: B },
      { t: 2_100, kind: 'arp-reply', ip: IP, mac: B },
      ...rounds(2_110, 14_000, 10, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: B } as ProbeEvent]),
      // Rebalancing home, after a hand-over window with no answer from either: announced, then answering.
      { t: 14_015, kind: 'garp', ip: IP, mac: A },
      ...rounds(14_020, 16_000, 10, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: A } as ProbeEvent]),
    ];
    assert.deepEqual(analyseIp(events, IP, 1_000, 16_000).twoMacMoments, []);
  });

  it('does not flag clean moves that alternate: a settling move, a takeover by a fault, rebalancing home (chaos cut-link, CI)', () => {
    // The runs of a CI capture: B had just rebalanced the IP home when the experiment began (A's last
    // answer at 447 ms, B's announcement at 482), the fault cut B's link at 1,501, A took over by
    // silence at 2,107, and B rebalanced home at 19,441 after its 10 s of acks. Each run opens with its
    // announcement; of the two middle turns only B's (cut short by the fault) is under the settle time.
    const answering = (from: number, to: number, mac: string): ProbeEvent[] => [
      { t: from, kind: 'garp', ip: IP, mac },
      ...rounds(from + 10, to, 20, (t) => [{ t, kind: 'arp-reply', ip: IP, mac } as ProbeEvent]),
    ];
    const events: ProbeEvent[] = [
      ...rounds(75, 450, 20, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: A } as ProbeEvent]),
      ...answering(482, 1_514, B),
      ...answering(2_107, 19_414, A),
      ...answering(19_441, 21_556, B),
    ];
    const r = analyseIp(events, IP, 1_501, 21_575);
    assert.deepEqual(
      r.holders.map((h) => h.mac),
      [A, B, A, B],
    );
    assert.deepEqual(r.twoMacMoments, []);
  });

  it('flags a garp war: two claimants, each announcing before it answers, taking turns faster than rebalancing can', () => {
    // Each defends at once, then after 1 s and 2 s (the announcer's backoff): every turn is announced.
    const events: ProbeEvent[] = [
      { t: 0, kind: 'garp', ip: IP, mac: A },
      { t: 10, kind: 'arp-reply', ip: IP, mac: A },
      { t: 1_000, kind: 'garp', ip: IP, mac: B },
      { t: 1_010, kind: 'arp-reply', ip: IP, mac: B },
      { t: 2_000, kind: 'garp', ip: IP, mac: A },
      { t: 2_010, kind: 'arp-reply', ip: IP, mac: A },
      { t: 4_000, kind: 'garp', ip: IP, mac: B },
      { t: 4_010, kind: 'arp-reply', ip: IP, mac: B },
    ];
    assert.deepEqual(analyseIp(events, IP, 0, 5_000).twoMacMoments, [{ t: 4_000, macs: [A, B] }]);
    // With a settle time shorter than the turns, the same moves are rebalancing and not flagged.
    assert.deepEqual(analyseIp(events, IP, 0, 5_000, { rebalanceSettleMs: 900 }).twoMacMoments, []);
  });

  it('assumes the speakers’ default settle time', () => {
    assert.equal(DEFAULT_REBALANCE_SETTLE_MS, SPEAKER_DEFAULTS.rebalanceSettleMs);
  });

  it('flags turns a MAC took without announcing, however slow', () => {
    const events: ProbeEvent[] = [
      { t: 0, kind: 'garp', ip: IP, mac: A },
      { t: 20_000, kind: 'garp', ip: IP, mac: B },
      { t: 40_000, kind: 'arp-reply', ip: IP, mac: A },
      { t: 60_000, kind: 'garp', ip: IP, mac: B },
    ];
    // The owner rule sees A answer after B announced (40 s); taking turns adds B's return (60 s).
    assert.deepEqual(analyseIp(events, IP, 0, 70_000).twoMacMoments, [
      { t: 40_000, macs: [B, A] },
      { t: 60_000, macs: [A, B] },
    ]);
  });

  it('flags an heir answering before its own announcement while the old holder’s stands, however soon before', () => {
    const events: ProbeEvent[] = [
      { t: 0, kind: 'garp', ip: IP, mac: A },
      ...rounds(10, 1_000, 10, (t) => [{ t, kind: 'arp-reply', ip: IP, mac: A } as ProbeEvent]),
      { t: 2_095, kind: 'arp-reply', ip: IP, mac: B },
      { t: 2_096, kind: 'garp', ip: IP, mac: B },
      { t: 2_110, kind: 'arp-reply', ip: IP, mac: B },
    ];
    assert.deepEqual(analyseIp(events, IP, 1_000, 3_000).twoMacMoments, [{ t: 2_095, macs: [A, B] }]);
  });

  it('flags two MACs answering the same request, even with no announcement', () => {
    const events: ProbeEvent[] = [
      { t: 10, kind: 'arp-reply', ip: IP, mac: A },
      { t: 12, kind: 'arp-reply', ip: IP, mac: B },
    ];
    assert.deepEqual(analyseIp(events, IP, 0, 100).twoMacMoments, [{ t: 12, macs: [A, B] }]);
  });

  it('reports zero downtime and no new holder when nothing changed', () => {
    const events = rounds(0, 1_000, 20, (t) => [
      { t: t + 1, kind: 'arp-reply', ip: IP, mac: A } as ProbeEvent,
      { t, kind: 'http', ip: IP, ok: true, from: 'node-1', ms: 1 } as ProbeEvent,
    ]);
    const r = analyseIp(events, IP, 500, 1_000);
    assert.equal(r.downtimeMs, 0);
    assert.equal(r.newHolderAfterMs, undefined);
  });

  it('counts an outage still running at the end up to the end', () => {
    const events: ProbeEvent[] = [
      { t: 0, kind: 'http', ip: IP, ok: true, from: 'n', ms: 1 },
      { t: 600, kind: 'http', ip: IP, ok: false, from: 'timeout', ms: 150 },
    ];
    assert.equal(analyseIp(events, IP, 500, 2_000).downtimeMs, 1_400);
  });

  it('ignores other IPs’ events', () => {
    const r = analyseIp([{ t: 1, kind: 'garp', ip: '192.0.2.201', mac: A }], IP, 0, 10);
    assert.deepEqual([r.garps, r.holders], [[], []]);
  });
});
