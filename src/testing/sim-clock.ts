// One simulated process's view of the shared FakeClock, with the two ways
// a real process stops running: frozen (SIGSTOP, a blocked event loop) and
// dead (kill -9). Time goes on for everyone; a frozen process's callbacks
// (timers, API answers, watch events, reader events) wait and run, late and
// in order, when it thaws; a dead process's never run.
import type { Clock, TimerHandle } from '../clock.js';
import type { FakeClock } from './fake-clock.js';

export class ProcessClock implements Clock {
  private frozen = false;
  private dead = false;
  private readonly deferred: Array<() => void> = [];
  private readonly timers = new Map<number, TimerHandle>();
  private nextId = 1;

  constructor(readonly base: FakeClock) {}

  now(): number {
    return this.base.now();
  }

  wallNow(): Date {
    return this.base.wallNow();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const inner = this.base.setTimeout(() => {
      this.timers.delete(id);
      this.run(fn);
    }, ms);
    this.timers.set(id, inner);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const inner = this.timers.get(handle.id);
    if (inner !== undefined) this.base.clearTimeout(inner);
    this.timers.delete(handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Runs fn as this process: now, later (frozen), or never (dead). */
  run(fn: () => void): void {
    if (this.dead) return;
    if (this.frozen) this.deferred.push(fn);
    else fn();
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  get isDead(): boolean {
    return this.dead;
  }

  freeze(): void {
    this.frozen = true;
  }

  /** Thaws: everything that came due meanwhile runs now, in the order it came due. */
  thaw(): void {
    this.frozen = false;
    while (!this.frozen && !this.dead) {
      const fn = this.deferred.shift();
      if (fn === undefined) return;
      fn();
    }
  }

  kill(): void {
    this.dead = true;
    this.deferred.length = 0;
    for (const inner of this.timers.values()) this.base.clearTimeout(inner);
    this.timers.clear();
  }
}
