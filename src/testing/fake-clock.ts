// A Clock for tests that only moves when told to, so lease timing is tested
// exactly and without sleeping. Never shipped (src/testing/ is not built into
// the image).
import type { Clock, TimerHandle } from '../clock.js';

interface PendingTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. advance() fires due timers in due
 * order, each seeing now() equal to its own due time, so code under test
 * observes the same sequence it would in real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly wallEpochMs: number;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  constructor(startMs = 0, wallEpochMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
    this.wallEpochMs = wallEpochMs;
  }

  now(): number {
    return this.current;
  }

  wallNow(): Date {
    return new Date(this.wallEpochMs + this.current);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, due: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((t) => t.id !== handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of timers not yet fired. */
  pendingTimers(): number {
    return this.pending.length;
  }

  /**
   * Moves time forward by ms, firing every timer that falls due, including
   * timers scheduled by the callbacks themselves. Awaits microtasks between
   * timers so promise chains started by one timer settle before the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.earliestDue();
      if (next === undefined || next.due > target) break;
      this.pending = this.pending.filter((t) => t !== next);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = target;
    await flushMicrotasks();
  }

  private earliestDue(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.pending) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}

async function flushMicrotasks(): Promise<void> {
  // A few turns of the microtask queue: enough for await chains a handful deep.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
