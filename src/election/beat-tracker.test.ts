import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import type { Beat } from './beat-codec.js';
import { BeatTracker, DEFAULT_BEAT_TIMING } from './beat-tracker.js';

const WALL_EPOCH = Date.UTC(2026, 11, 4);

function beat(clock: FakeClock, sequence: bigint, over: Partial<Beat> = {}): Beat {
  return {
    kind: 'beat',
    sender: 'node-1',
    bootId: '0102030405060708',
    sequence,
    sentAtMs: clock.wallNow().getTime(),
    heldDigest: '0000000000000000',
    ...over,
  };
}

describe('BeatTracker', () => {
  it('calls a holder silent after missedBeats intervals without a fresh beat, not one tick before', async () => {
    const clock = new FakeClock(0, WALL_EPOCH);
    const t = new BeatTracker(clock);
    assert.equal(t.isSilent('node-1'), false, 'never heard: not silent (Lease-speed liveness for it)');
    assert.equal(t.silentForMs('node-1'), undefined);
    assert.equal(t.heard(beat(clock, 1n)), 'fresh');
    const limit = DEFAULT_BEAT_TIMING.intervalMs * DEFAULT_BEAT_TIMING.missedBeats;
    await clock.advance(limit - 1);
    assert.equal(t.isSilent('node-1'), false);
    assert.equal(t.heard(beat(clock, 2n)), 'fresh', 'a beat resets the count');
    await clock.advance(limit - 1);
    assert.equal(t.isSilent('node-1'), false);
    await clock.advance(1);
    assert.equal(t.isSilent('node-1'), true);
    assert.equal(t.silentForMs('node-1'), limit);
  });

  it('refuses a replay within a boot: a sequence not newer than the last one heard', async () => {
    const clock = new FakeClock(0, WALL_EPOCH);
    const t = new BeatTracker(clock);
    assert.equal(t.heard(beat(clock, 10n)), 'fresh');
    await clock.advance(300);
    assert.equal(t.heard(beat(clock, 10n)), 'replay');
    assert.equal(t.heard(beat(clock, 9n)), 'replay');
    await clock.advance(100);
    assert.equal(t.isSilent('node-1'), true, 'replays keep nobody alive');
  });

  it('believes a restarted sender (new boot id, sequence from 0) only when its wall clock is near ours', async () => {
    const clock = new FakeClock(0, WALL_EPOCH);
    const t = new BeatTracker(clock);
    assert.equal(t.heard(beat(clock, 500n)), 'fresh');
    assert.equal(t.heard(beat(clock, 0n, { bootId: '1112131415161718' })), 'fresh', 'a restart');
    // A beat of an older process, captured a minute ago and replayed now.
    const old = beat(clock, 501n, { sentAtMs: clock.wallNow().getTime() - 60_000 });
    assert.equal(t.heard(old), 'skewed');
    const skewedHolder = beat(clock, 1n, { sender: 'node-2', sentAtMs: clock.wallNow().getTime() + DEFAULT_BEAT_TIMING.maxSkewMs + 1 });
    assert.equal(t.heard(skewedHolder), 'skewed');
    assert.equal(t.silentForMs('node-2'), undefined, 'a holder whose clock is off is never heard, so never judged silent');
  });

  it('forgets a holder it no longer watches', () => {
    const clock = new FakeClock(0, WALL_EPOCH);
    const t = new BeatTracker(clock);
    t.heard(beat(clock, 1n));
    t.forget('node-1');
    assert.equal(t.silentForMs('node-1'), undefined);
  });
});
