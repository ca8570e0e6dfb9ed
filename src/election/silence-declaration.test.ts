import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { DEFAULT_DECLARATION_TIMING as D, SilenceDeclaration } from './silence-declaration.js';

// The ack horizon of a holder whose two standbys ack every beat: a silence window (less a tick) ahead.
const AHEAD = 300;

function declaration(clock: FakeClock) {
  const src = { acking: true, lastHorizon: Number.NEGATIVE_INFINITY, declares: 0 };
  const events: string[] = [];
  const d = new SilenceDeclaration(
    {
      clock,
      ackHorizon: () => {
        if (src.acking) src.lastHorizon = clock.now() + AHEAD;
        return src.lastHorizon;
      },
      declare: () => {
        src.declares++;
      },
    },
    { lapsed: () => events.push(`lapsed@${clock.now()}`), restored: () => events.push(`restored@${clock.now()}`) },
  );
  // The speaker refreshes every 100 ms tick.
  const tick = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= 100) {
      await clock.advance(Math.min(100, left));
      d.refresh();
    }
  };
  return { d, src, events, tick };
}

describe('SilenceDeclaration', () => {
  it('starts open when the ack promise held since the start; then defends only while it holds', async () => {
    const clock = new FakeClock(0);
    const { d, events, tick } = declaration(clock);
    assert.equal(d.sending(), 'open');
    d.answered(true);
    await tick(1_000);
    assert.equal(d.until(), 1_000 + AHEAD, 'the ack promise bounds the defence while "open" may be read');
    assert.equal(d.holds(), true);
    assert.deepEqual(events, ['restored@0']);
  });

  it('acks stop: asks to close before the promise runs out; a close answered in time is no lapse, and the Lease bounds the defence', async () => {
    const clock = new FakeClock(0);
    const { d, src, events, tick } = declaration(clock);
    d.sending();
    d.answered(true);
    await tick(1_000);
    src.acking = false;
    const declares = src.declares;
    // The timer asks at the promise less closeAhead, between two ticks.
    await clock.advance(AHEAD - D.closeAheadMs);
    assert.equal(d.desired(), 'closed');
    assert.ok(src.declares > declares, 'asked for a renewal');
    assert.equal(d.holds(), true, 'still defending: the close is not answered yet');
    assert.equal(d.sending(), 'closed');
    await clock.advance(10);
    d.answered(true);
    assert.equal(d.until(), Number.POSITIVE_INFINITY, 'closed: only the Lease expiry moves an IP; the renew deadline bounds the defence');
    await tick(2_000);
    assert.deepEqual(events, ['restored@0'], 'no lapse');
    assert.equal(d.desired(), 'closed', 'no acks: stays closed');
  });

  it('a close answered too late, or not at all: the lapse is told, the promise keeps bounding the defence', async () => {
    const clock = new FakeClock(0);
    const { d, src, events, tick } = declaration(clock);
    d.sending();
    d.answered(true);
    await tick(1_000);
    src.acking = false;
    await clock.advance(AHEAD - D.closeAheadMs);
    assert.equal(d.sending(), 'closed');
    // The write hangs past the promise: the timer tells the lapse on time.
    await clock.advance(D.closeAheadMs + 1);
    assert.deepEqual(events, ['restored@0', `lapsed@${1_000 + AHEAD + 1}`]);
    assert.equal(d.holds(), false);
    d.answered(false);
    assert.equal(d.holds(), false, 'a failed close may not have been written: "open" may still be read');
    assert.equal(d.sending(), 'closed');
    d.answered(true);
    assert.equal(d.holds(), true);
    assert.equal(events.at(-1), `restored@${clock.now()}`);
  });

  it('reopens once acks flowed longer than a request can take, later each time it had to close again', async () => {
    const clock = new FakeClock(0);
    const { d, src, tick } = declaration(clock);
    d.sending();
    d.answered(true);
    const reopenAfter: number[] = [];
    for (let round = 0; round < 3; round++) {
      await tick(1_000);
      src.acking = false;
      await tick(1_000);
      assert.equal(d.sending(), 'closed');
      d.answered(true);
      src.acking = true;
      const back = clock.now();
      while (d.desired() === 'closed' && clock.now() < back + 60_000) await tick(100);
      reopenAfter.push(clock.now() - back);
      assert.equal(d.holds(), true);
      assert.equal(d.sending(), 'open');
      assert.ok(d.until() < Number.POSITIVE_INFINITY, 'open from the moment it is sent');
      d.answered(true);
    }
    // Counted from the first tick that sees the acks again (100 ms after they return).
    assert.deepEqual(
      reopenAfter,
      [D.openAfterMs + 100, 2 * D.openAfterMs + 100, 4 * D.openAfterMs + 100],
      'a flapping network costs fewer writes each time',
    );
  });

  it('a change asks for a renewal; the renewal that carries it asks for no other (one write per change)', async () => {
    const clock = new FakeClock(0);
    const { d, src, tick } = declaration(clock);
    d.sending();
    d.answered(true);
    await tick(1_000);
    src.acking = false;
    await clock.advance(AHEAD - D.closeAheadMs);
    assert.ok(src.declares > 0, 'the close asked for a renewal');
    // The renewer composes that renewal (LivenessRenewer: sending() runs inside it, after it took the ask):
    // the declaration it carries is the change, and nothing is left to ask for, then or after its answer.
    let asked = src.declares;
    assert.equal(d.sending(), 'closed');
    assert.equal(src.declares, asked, 'composing the renewal asks for no other');
    d.answered(true);
    await tick(1_000);
    assert.equal(src.declares, asked, 'nothing left to write');
    // And back: acks again, reopened after openAfterMs of them.
    src.acking = true;
    await tick(D.openAfterMs + 200);
    assert.equal(d.desired(), 'open');
    assert.ok(src.declares > asked, 'the reopening asked for a renewal');
    asked = src.declares;
    assert.equal(d.sending(), 'open');
    assert.equal(src.declares, asked, 'composing the renewal asks for no other');
    d.answered(true);
    await tick(1_000);
    assert.equal(src.declares, asked, 'nothing left to write');
  });

  it('without any ack promise (no heartbeat socket) the Lease says closed from the start', () => {
    const clock = new FakeClock(0);
    const d = new SilenceDeclaration(
      { clock, ackHorizon: () => Number.NEGATIVE_INFINITY, declare: () => {} },
      { lapsed: () => {}, restored: () => {} },
    );
    assert.equal(d.sending(), 'closed');
    d.answered(true);
    assert.equal(d.holds(), true);
  });
});
