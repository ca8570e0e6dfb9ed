import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { ABSENT, OwnWrites } from './own-writes.js';

describe('OwnWrites: ignore the echo of my own write', () => {
  it('waits while the cache still shows a version our write replaced, and stops waiting once it moved on', () => {
    const w = new OwnWrites(new FakeClock(), 5_000);
    w.wrote('ns/a', ['7', '8']);
    assert.equal(w.awaitingEcho('ns/a', '7'), true);
    assert.equal(w.awaitingEcho('ns/a', '8'), true);
    assert.equal(w.awaitingEcho('ns/a', '9'), false, 'our write arrived');
    assert.equal(w.awaitingEcho('ns/a', '7'), false, 'and the record is gone');
  });

  it('treats a create as replacing "nothing": an absent object is our write not yet seen', () => {
    const w = new OwnWrites(new FakeClock(), 5_000);
    w.wrote('ip', [undefined]);
    assert.equal(w.awaitingEcho('ip', undefined), true);
    assert.equal(w.awaitingEcho('ip', ABSENT), true);
    assert.equal(w.awaitingEcho('ip', '1'), false);
  });

  it('stops waiting after maxWait: a watch that never delivers must not freeze the object', async () => {
    const clock = new FakeClock();
    const w = new OwnWrites(clock, 5_000);
    w.wrote('k', ['3']);
    await clock.advance(4_999);
    assert.equal(w.awaitingEcho('k', '3'), true);
    await clock.advance(1);
    assert.equal(w.awaitingEcho('k', '3'), false);
  });

  it('knows nothing of keys it never wrote, and forgets on request', () => {
    const w = new OwnWrites(new FakeClock(), 5_000);
    assert.equal(w.awaitingEcho('other', '1'), false);
    w.wrote('k', ['1']);
    w.forget('k');
    assert.equal(w.awaitingEcho('k', '1'), false);
  });
});
