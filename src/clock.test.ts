import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SystemClock } from './clock.js';
import { FakeClock } from './testing/fake-clock.js';

describe('FakeClock', () => {
  it('fires timers in due order, each seeing its own due time', async () => {
    const clock = new FakeClock(1000);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 200);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 100);
    clock.setTimeout(() => seen.push(['c', clock.now()]), 300);
    await clock.advance(250);
    assert.deepEqual(seen, [
      ['a', 1100],
      ['b', 1200],
    ]);
    assert.equal(clock.now(), 1250);
    assert.equal(clock.pendingTimers(), 1);
  });

  it('fires timers scheduled by other timers within the same advance', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const tick = (): void => {
      seen.push(clock.now());
      if (seen.length < 4) clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await clock.advance(100);
    assert.deepEqual(seen, [10, 20, 30, 40]);
  });

  it('does not fire a cleared timer', async () => {
    const clock = new FakeClock();
    let fired = false;
    const h = clock.setTimeout(() => {
      fired = true;
    }, 5);
    clock.clearTimeout(h);
    await clock.advance(10);
    assert.equal(fired, false);
  });

  it('resolves sleep() only when time is advanced past it, and lets the awaiting code run', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const task = (async () => {
      await clock.sleep(50);
      order.push(`woke at ${clock.now()}`);
      await clock.sleep(50);
      order.push(`woke at ${clock.now()}`);
    })();
    await clock.advance(49);
    assert.deepEqual(order, []);
    await clock.advance(51);
    await task;
    assert.deepEqual(order, ['woke at 50', 'woke at 100']);
  });

  it('derives wall time from the same timeline', async () => {
    const clock = new FakeClock(0, Date.UTC(2026, 10, 26));
    await clock.advance(1500);
    assert.equal(clock.wallNow().toISOString(), '2026-11-26T00:00:01.500Z');
  });
});

describe('SystemClock', () => {
  it('is monotonic and its sleep waits at least the asked time', async () => {
    const clock = new SystemClock();
    const t0 = clock.now();
    await clock.sleep(20);
    const elapsed = clock.now() - t0;
    assert.ok(elapsed >= 19, `slept only ${elapsed} ms`);
  });

  it("never runs a timer before its time on now()'s scale, fractional delays included", async () => {
    const clock = new SystemClock();
    const early: number[] = [];
    // Many short timers with fractional delays: the case where Node's whole-millisecond loop time fires early.
    await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const ms = 0.3 + (i % 7) * 0.7;
            const due = clock.now() + ms;
            clock.setTimeout(() => {
              if (clock.now() < due) early.push(due - clock.now());
              resolve();
            }, ms);
          }),
      ),
    );
    assert.deepEqual(early, []);
  });

  it('cancels a timer', async () => {
    const clock = new SystemClock();
    let fired = false;
    clock.clearTimeout(
      clock.setTimeout(() => {
        fired = true;
      }, 5),
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fired, false);
  });
});
