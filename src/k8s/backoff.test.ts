import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles its step per failure up to the cap, each pause in [step/2, step)', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    const high = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999 });
    const steps = [100, 200, 400, 800, 1_000, 1_000];
    for (const step of steps) {
      assert.equal(low.next(), step / 2, 'the fixed half: never an immediate retry');
      const h = high.next();
      assert.ok(h < step && h > step * 0.99, `the random half stays below the step (${h} < ${step})`);
    }
  });

  it('starts again from the first step after reset()', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    b.next();
    b.next();
    b.next();
    assert.equal(b.attempts, 3);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 50);
  });

  it('never overflows, however many failures', () => {
    const b = new Backoff({ initialMs: 1, maxMs: 10_000, random: () => 0.5 });
    for (let i = 0; i < 2_000; i++) assert.ok(Number.isFinite(b.next()));
    assert.equal(b.next(), 7_500);
  });

  it('refuses steps that make no sense', () => {
    assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 20, maxMs: 10 }), RangeError);
  });
});
