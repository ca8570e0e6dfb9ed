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

function flushMicrotasks(): Promise<void> {
  // An immediate runs only once the microtask queue is empty, however deep the
  // await chains in it: one turn settles everything a timer started that does
  // not wait on real I/O. (Fewer promises matter: the test runner's async
  // hooks track each one, and they were a third of a simulation's CPU.)
  return new Promise<void>((resolve) => setImmediate(resolve));
}
