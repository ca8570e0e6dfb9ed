import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { SilenceFence } from './silence-fence.js';

const QUIET = 700;

function fence(clock: FakeClock) {
  const src = { renewedAt: Number.NEGATIVE_INFINITY, acks: Number.NEGATIVE_INFINITY };
  const events: string[] = [];
  const f = new SilenceFence(
    clock,
    { renewedAt: () => src.renewedAt, quietMs: QUIET, ackHorizon: () => src.acks },
    { lapsed: () => events.push(`lapsed@${clock.now()}`), restored: () => events.push(`restored@${clock.now()}`) },
  );
  return { f, src, events };
}

describe('SilenceFence', () => {
  it('holds until the later of the last renewal plus the quiet time and the ack horizon', async () => {
    const clock = new FakeClock(1_000);
    const { f, src, events } = fence(clock);
    assert.equal(f.holds(), false, 'nothing proven yet');
    src.renewedAt = 1_000;
    f.refresh();
    assert.equal(f.until(), 1_000 + QUIET);
    src.acks = 1_900;
    f.refresh();
    assert.equal(f.until(), 1_900, 'acks carry it past the renewal');
    src.renewedAt = 1_500;
    f.refresh();
    assert.equal(f.until(), 1_500 + QUIET);
    assert.deepEqual(events, ['restored@1000'], 'no lapse while it was extended in time');
  });

  it('tells a lapse on time, by its own timer, and a restore once it is extended again', async () => {
    const clock = new FakeClock(0);
    const { f, src, events } = fence(clock);
    src.renewedAt = 0;
    f.refresh();
    await clock.advance(QUIET - 1);
    assert.equal(f.holds(), true);
    await clock.advance(1);
    assert.equal(f.holds(), false, 'over at the promise');
    await clock.advance(1);
    assert.deepEqual(events, ['restored@0', `lapsed@${QUIET + 1}`], 'told just after, with nothing refreshing it');
    src.renewedAt = 900;
    await clock.advance(200);
    f.refresh();
    assert.equal(f.until(), 900 + QUIET);
    assert.deepEqual(events.at(-1), `restored@${QUIET + 201}`);
  });

  it('a promise that ran out before a refresh is a lapse, told before the new promise is given', async () => {
    const clock = new FakeClock(0);
    const { f, src, events } = fence(clock);
    src.renewedAt = 0;
    f.refresh();
    f.stop(); // as if its timer had not run yet (a stalled loop): the next refresh must still see the lapse
    await clock.advance(QUIET + 50);
    src.renewedAt = QUIET + 40;
    f.refresh();
    assert.deepEqual(events, ['restored@0', `lapsed@${QUIET + 50}`, `restored@${QUIET + 50}`]);
  });
});
