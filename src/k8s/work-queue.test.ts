import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { runReconcileLoop } from './reconcile-loop.js';
import { WorkQueue } from './work-queue.js';

describe('WorkQueue', () => {
  it('hands out each key once however often it is added', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('re-runs a key that was added while it was being handled, after done()', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const key = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'not handed to a second worker while in progress');
    q.done(key as string);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.add('x');
    assert.equal(await waiting, 'x');
  });

  it('backs off exponentially per key, capped, and forgets on success', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 1_000 });
    assert.deepEqual(
      [q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k')],
      [100, 200, 400, 800, 1000],
    );
    q.forget('k');
    assert.equal(q.addRateLimited('k'), 100);
  });

  it('delays addAfter by the clock and keeps the earlier of two delays', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('k', 500);
    q.addAfter('k', 200);
    q.addAfter('k', 900);
    await clock.advance(199);
    assert.equal(q.length, 0);
    await clock.advance(1);
    assert.equal(q.length, 1);
    await clock.advance(1_000);
    assert.equal(q.length, 1, 'the later timers were dropped');
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add('late');
    assert.equal(q.length, 0);
  });
});

describe('runReconcileLoop', () => {
  it('retries a failing key with backoff until it succeeds, and never runs one key twice at once', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100 });
    let attempts = 0;
    let running = 0;
    let maxRunning = 0;
    const loop = runReconcileLoop({
      name: 'test',
      queue: q,
      workers: 4,
      log: silentLogger(),
      reconcile: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        attempts++;
        await clock.sleep(10);
        running--;
        if (attempts < 3) throw Object.assign(new Error('flaky'), { code: 'K8S_CONFLICT' });
      },
    });
    q.add('svc');
    await clock.advance(10);
    assert.equal(attempts, 1);
    await clock.advance(100 + 10);
    assert.equal(attempts, 2);
    await clock.advance(200 + 10);
    assert.equal(attempts, 3);
    await clock.advance(10_000);
    assert.equal(attempts, 3, 'no more runs after success');
    assert.equal(maxRunning, 1);
    q.shutDown();
    await loop;
  });

  it('requeues after the asked delay', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const seen: number[] = [];
    const loop = runReconcileLoop({
      name: 'test',
      queue: q,
      workers: 1,
      log: silentLogger(),
      reconcile: async () => {
        seen.push(clock.now());
        return seen.length < 3 ? { requeueAfterMs: 1_000 } : {};
      },
    });
    q.add('k');
    await clock.advance(5_000);
    assert.deepEqual(seen, [0, 1_000, 2_000]);
    q.shutDown();
    await loop;
  });
});
