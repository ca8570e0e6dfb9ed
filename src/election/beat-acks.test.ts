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
