// "Ignore the echo of my own write", once for every reconciler. A
// reconcile that writes an object gets the new version back at once, but
// the informer's cache shows it only when the watch delivers it. Until then
// the cache shows the version our write replaced: deciding on it would undo
// what we just did (or earn a 409). So the reconciler records the versions
// it replaced and, while the cache still shows one of them, waits for the
// watch event that re-runs it anyway.
import type { Clock } from '../clock.js';

/** The version recorded for "there was no object" (our write created it). */
export const ABSENT = 'absent';

export class OwnWrites {
  private readonly replaced = new Map<string, { versions: ReadonlySet<string>; at: number }>();

  constructor(
    private readonly clock: Clock,
    /** Longest we trust a pending echo: a watch that never delivers must not freeze the object's reconciles. */
    private readonly maxWaitMs: number,
  ) {}

  /** Our write(s) of key replaced these versions (ABSENT for a create). */
  wrote(key: string, versions: ReadonlyArray<string | undefined>): void {
    if (versions.length === 0) return;
    this.replaced.set(key, { versions: new Set(versions.map((v) => v ?? ABSENT)), at: this.clock.now() });
  }

  /**
   * True while the cache still shows a version our last write replaced, so
   * our own write has not arrived yet. Forgets the record once the cache has
   * moved on, or once it waited maxWaitMs.
   */
  awaitingEcho(key: string, cachedVersion: string | undefined): boolean {
    const r = this.replaced.get(key);
    if (r === undefined) return false;
    if (r.versions.has(cachedVersion ?? ABSENT) && this.clock.now() - r.at < this.maxWaitMs) return true;
    this.replaced.delete(key);
    return false;
  }

  forget(key: string): void {
    this.replaced.delete(key);
  }
}
