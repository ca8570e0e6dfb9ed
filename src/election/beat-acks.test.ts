import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AckLedger } from './beat-acks.js';
import { DEFAULT_BEAT_TIMING, silenceMs } from './beat-tracker.js';

const T = DEFAULT_BEAT_TIMING;
const SILENCE = silenceMs(T);
const READ_LATE = 2 * T.intervalMs;
const TAIL = READ_LATE + SILENCE + T.believeMs + T.intervalMs;

describe('AckLedger', () => {
  it('fails after a start for as long as a previous process may still be accused, then looks one silence window ahead', () => {
    const l = new AckLedger(1_000, T, READ_LATE);
    assert.equal(l.horizon(1_000), Number.NEGATIVE_INFINITY);
    assert.equal(l.horizon(1_000 + TAIL - 1), Number.NEGATIVE_INFINITY);
    assert.equal(
      l.horizon(1_000 + TAIL),
      1_000 + TAIL + SILENCE - T.intervalMs,
      'nobody beaten: nobody can accuse before a first beat could',
    );
  });

  it('counts a node from its first beat, then from the newest beat it acked', () => {
    const l = new AckLedger(-TAIL, T, READ_LATE);
    l.sent('b', 1n, 100);
    assert.equal(l.horizon(150), 100 + SILENCE - T.intervalMs, 'beaten, never acked: from the first beat');
    l.sent('b', 2n, 200);
    l.sent('b', 3n, 300);
    assert.equal(l.acked('b', 2n), true);
    assert.equal(l.horizon(310), 200 + SILENCE - T.intervalMs);
    assert.equal(l.acked('b', 1n), true, 'a late ack of an older beat');
    assert.equal(l.horizon(320), 200 + SILENCE - T.intervalMs, 'moves nothing back');
    assert.equal(l.acked('c', 3n), false, 'beat 3 went to b, not c');
    assert.equal(l.acked('b', 99n), false, 'never sent');
    l.sent('c', 4n, 330);
    assert.equal(l.horizon(330), 200 + SILENCE - T.intervalMs, 'the earliest of every node beaten');
  });

  it('forgets an ack older than the beats it remembers, and a node once its tail is over', () => {
    const l = new AckLedger(-TAIL, T, READ_LATE);
    for (let i = 1; i <= 9; i++) l.sent('b', BigInt(i), i * 100);
    assert.equal(l.acked('b', 1n), false, 'only the 8 newest beats are matched');
    assert.equal(l.acked('b', 2n), true);
    assert.equal(l.horizon(900), 200 + SILENCE - T.intervalMs);
    assert.equal(l.horizon(900 + TAIL - 1), 200 + SILENCE - T.intervalMs, 'not beaten since 900, may still accuse');
    assert.equal(l.horizon(900 + TAIL), 900 + TAIL + SILENCE - T.intervalMs);
    l.prune(900 + TAIL);
    assert.deepEqual(l.nodes(), []);
    l.sent('b', 10n, 900 + TAIL);
    assert.equal(l.horizon(900 + TAIL), 900 + TAIL + SILENCE - T.intervalMs, 'a new stretch counts from its own first beat');
  });

  // The safety property the fence relies on, over random schedules: beats lost or read late (up to READ_LATE),
  // acks lost or late by anything, a standby that keeps or drops its record. Whenever the standby could call the
  // holder silent, the ledger's horizon is already past; and the horizon never moves back.
  it('never promises past the moment a standby could call the holder silent (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            lost: fc.boolean(),
            readAfter: fc.integer({ min: 0, max: READ_LATE }),
            ackLost: fc.boolean(),
            ackAfter: fc.integer({ min: 0, max: 2_000 }),
            skip: fc.integer({ min: 0, max: 40 }),
          }),
          { minLength: 1, maxLength: 120 },
        ),
        fc.integer({ min: 0, max: 3 }),
        (beats, forgetEvery) => {
          const l = new AckLedger(0, T, READ_LATE);
          const events: Array<{ at: number; run: () => void }> = [];
          let lastRecord = Number.NEGATIVE_INFINITY;
          let t = TAIL;
          let seq = 0n;
          beats.forEach((b, i) => {
            // Gaps between beats: whole intervals, sometimes long (the holder stopped beating this node).
            t += T.intervalMs * (1 + (b.skip > 35 ? b.skip * 10 : 0));
            const s = ++seq;
            const sentAt = t;
            events.push({ at: sentAt, run: () => l.sent('b', s, sentAt) });
            if (b.lost) return;
            const readAt = sentAt + b.readAfter;
            events.push({
              at: readAt,
              run: () => {
                // The standby may have forgotten the holder meanwhile (a stall); it records and acks what it reads.
                if (forgetEvery > 0 && i % (forgetEvery + 3) === 0) lastRecord = Number.NEGATIVE_INFINITY;
                lastRecord = Math.max(lastRecord, readAt);
                if (!b.ackLost) events.push({ at: readAt + b.ackAfter, run: () => l.acked('b', s) });
              },
            });
          });
          let previous = Number.NEGATIVE_INFINITY;
          const end = t + TAIL + 1_000;
          for (let now = TAIL; now <= end; now += 10) {
            events.sort((a, b) => a.at - b.at);
            while (events.length > 0 && (events[0] as { at: number }).at <= now) (events.shift() as { run: () => void }).run();
            const h = l.horizon(now);
            assert.ok(h >= previous, `the horizon moved back at ${now}: ${previous} -> ${h}`);
            previous = h;
            const accusable = now >= lastRecord + SILENCE && now < lastRecord + SILENCE + T.believeMs;
            if (accusable) assert.ok(h <= now, `at ${now} the standby may accuse (record ${lastRecord}) but the horizon is ${h}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('AckLedger with a witness (slow liveness)', () => {
  const SLOW = { witnesses: 2, startTail: false, extraTailMs: 150 };

  it('promises the second-earliest moment: one standby that stops acking does not end it, two do', () => {
    const l = new AckLedger(0, T, READ_LATE, SLOW);
    assert.equal(l.horizon(0), SILENCE - T.intervalMs, 'no tail after a start: the boot id on the Lease fences the previous process');
    for (let t = 100, seq = 1n; t <= 1_000; t += 100) {
      l.sent('b', seq++, t);
      l.sent('c', seq++, t);
      // b acks everything; c stops acking after 300.
      l.acked('b', seq - 2n);
      if (t <= 300) l.acked('c', seq - 1n);
    }
    assert.equal(l.horizon(1_000), 1_000 + SILENCE - T.intervalMs, 'c is the earliest, b and a stand-in come next');
    assert.equal(l.ackedSince('b', 1_000), true);
    assert.equal(l.ackedSince('c', 400), false);
    // b stops too: the two earliest are c and b.
    l.sent('b', 100n, 1_100);
    l.sent('c', 101n, 1_100);
    assert.equal(l.horizon(1_500), 1_000 + SILENCE - T.intervalMs, 'b is second now');
  });

  it('vouches for a node that acked steadily for the whole time, renewing: a gap or an ack that says it cannot renew starts over', () => {
    const l = new AckLedger(0, T, READ_LATE, SLOW);
    let seq = 0n;
    const beat = (t: number, ack: 'ok' | 'lost' | 'lease-only'): void => {
      l.sent('b', ++seq, t);
      if (ack !== 'lost') l.acked('b', seq, ack === 'ok');
    };
    for (let t = 0; t <= 10_000; t += 100) beat(t, 'ok');
    assert.equal(l.ackedSteadily('b', 10_000, 10_000), true);
    for (let t = 10_100; t <= 11_200; t += 100) beat(t, 'lost');
    beat(11_300, 'ok');
    assert.equal(l.ackedSteadily('b', 11_300, 10_000), false, 'a gap longer than a second');
    assert.equal(l.ackedSteadily('b', 11_300, 0), true, 'from the gap on');
    beat(11_400, 'lease-only');
    assert.equal(l.ackedSteadily('b', 11_400, 0), false, 'it says it cannot renew');
    beat(11_500, 'ok');
    assert.equal(l.ackedSteadily('b', 11_500, 0), true, 'renewing again: a new streak');
    assert.equal(l.ackedSteadily('b', 13_000, 0), false, 'and nothing acked for over a second');
  });

  // The property the slow fence relies on: a takeover needs the deciding standby to find the holder silent now
  // and a witness that found it silent within its answer's validity (VALID_MS) before; a witness withholds its acks
  // for EMBARGO_MS after answering. Whenever such a pair exists, the horizon is already past. The holder beats
  // every standby each tick, as the exchange does; each datagram may be lost or late on its own.
  it('never promises past a moment two standbys could take over together (property)', () => {
    const VALID_MS = 150;
    const EMBARGO_MS = 250;
    const standbys = ['b', 'c', 'd'];
    const delivery = fc.record({
      lost: fc.integer({ min: 0, max: 9 }).map((x) => x < 3),
      readAfter: fc.integer({ min: 0, max: READ_LATE }),
      ackLost: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
      ackAfter: fc.integer({ min: 0, max: 300 }),
    });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            to: fc.tuple(delivery, delivery, delivery),
            skip: fc.integer({ min: 0, max: 40 }),
            answers: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
          }),
          { minLength: 1, maxLength: 150 },
        ),
        (ticks) => {
          const l = new AckLedger(0, T, READ_LATE, SLOW);
          const events: Array<{ at: number; run: () => void }> = [];
          const lastRecord = new Map<string, number>();
          const embargoUntil = new Map<string, number>();
          const answeredAt = new Map<string, number[]>();
          let answers: readonly boolean[] = [true, true, true];
          const accusable = (n: string, at: number): boolean => {
            const r = lastRecord.get(n) ?? Number.NEGATIVE_INFINITY;
            return at >= r + SILENCE && at < r + SILENCE + T.believeMs;
          };
          let t = 0;
          let seq = 0n;
          for (const tick of ticks) {
            t += T.intervalMs * (1 + (tick.skip > 37 ? tick.skip * 5 : 0));
            const sentAt = t;
            const willAnswer = tick.answers;
            events.push({
              at: sentAt,
              run: () => {
                answers = willAnswer;
              },
            });
            tick.to.forEach((d, i) => {
              const n = standbys[i] as string;
              const s = ++seq;
              events.push({ at: sentAt, run: () => l.sent(n, s, sentAt) });
              if (d.lost) return;
              const readAt = sentAt + d.readAfter;
              events.push({
                at: readAt,
                run: () => {
                  lastRecord.set(n, Math.max(lastRecord.get(n) ?? Number.NEGATIVE_INFINITY, readAt));
                  // A witness that answered holds its acks back for the embargo.
                  if (!d.ackLost && readAt >= (embargoUntil.get(n) ?? Number.NEGATIVE_INFINITY))
                    events.push({ at: readAt + d.ackAfter, run: () => l.acked(n, s) });
                },
              });
            });
          }
          let previous = Number.NEGATIVE_INFINITY;
          for (let now = 0; now <= t + 12_000; now += 10) {
            events.sort((a, b) => a.at - b.at);
            while (events.length > 0 && (events[0] as { at: number }).at <= now) (events.shift() as { run: () => void }).run();
            // Standbys that find the holder silent may answer a query now (and then withhold acks).
            standbys.forEach((n, i) => {
              if (!accusable(n, now) || answers[i] !== true) return;
              answeredAt.set(n, [...(answeredAt.get(n) ?? []).filter((x) => x >= now - VALID_MS), now]);
              embargoUntil.set(n, now + EMBARGO_MS);
            });
            const h = l.horizon(now);
            assert.ok(h >= previous, `the horizon moved back at ${now}: ${previous} -> ${h}`);
            previous = h;
            for (const a of standbys) {
              if (!accusable(a, now)) continue;
              const witness = standbys.find((w) => w !== a && (answeredAt.get(w) ?? []).some((x) => x >= now - VALID_MS));
              if (witness !== undefined)
                assert.ok(h <= now, `at ${now} ${a} may take over with ${witness} as witness, but the horizon is ${h}`);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
