import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ApiError } from './api-error.js';
import { runReconcileLoop } from './reconcile-loop.js';
import { WorkQueue } from './work-queue.js';

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

  it('forgets the failures of a key once it succeeds, reports each outcome and logs the error code', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100 });
    const outcomes: string[] = [];
    const codes: unknown[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => codes.push((JSON.parse(line) as { code?: unknown }).code) });
    let failNext = 2;
    const loop = runReconcileLoop({
      name: 'test',
      queue: q,
      workers: 1,
      log,
      observer: { onReconciled: (_name, _ms, outcome) => outcomes.push(outcome) },
      reconcile: async () => {
        if (failNext > 0) {
          failNext--;
          throw new ApiError('K8S_CONFLICT', 409, 'stale', 'Conflict');
        }
      },
    });
    q.add('k');
    await clock.advance(100 + 200);
    assert.deepEqual(outcomes, ['error', 'error', 'ok']);
    assert.equal(q.failuresOf('k'), 0, 'forgotten on success');
    assert.deepEqual(codes, ['K8S_CONFLICT', 'K8S_CONFLICT']);
    failNext = 1;
    q.add('k');
    await clock.advance(99);
    assert.equal(q.failuresOf('k'), 1, 'a new failure counts from zero again');
    assert.deepEqual(outcomes, ['error', 'error', 'ok', 'error'], 'and waits the first step, 100 ms, not the third');
    await clock.advance(1);
    assert.deepEqual(outcomes, ['error', 'error', 'ok', 'error', 'ok']);
    q.shutDown();
    await loop;
  });
});
