// Time is injected everywhere it is read. Logic asks a Clock, never Date or
// performance directly, so lease timing is tested by moving a FakeClock
// instead of sleeping.

/** A handle returned by Clock.setTimeout, cancelled with Clock.clearTimeout. */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds. Only differences are meaningful; never compare across hosts. */
  now(): number;
  /** Wall-clock time, for timestamps written to the API (Lease renewTime, Events). */
  wallNow(): Date;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after ms of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The process's real clock: performance.now() for intervals, Date for timestamps. */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return performance.now();
  }

  wallNow(): Date {
    return new Date();
  }

  /**
   * Runs fn no earlier than ms from now on now()'s scale. Node's timers run
   * on the event loop's cached, whole-millisecond time and can fire up to
   * about a millisecond early by performance.now(); a caller that checks a
   * deadline in its callback (a lease expiry) would see it not yet passed.
   * So an early timer is set again for what is left.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const due = this.now() + Math.max(0, ms);
    const arm = (delay: number): void => {
      this.timers.set(
        id,
        setTimeout(() => {
          const left = due - this.now();
          if (left > 0) {
            arm(left);
            return;
          }
          this.timers.delete(id);
          fn();
        }, delay),
      );
    };
    arm(Math.max(0, ms));
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.id);
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}
