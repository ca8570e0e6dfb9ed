// One alarm per remote speaker, set for the moment its liveness lease
// expires by local observation, so the IPs it holds are looked at again at
// that very moment rather than on some later resync: this is what makes a
// crashed node's IPs move within the lease duration.
//
// The alarm must never be lost. A crashed speaker writes nothing more, so
// nothing would set the alarm again: if it rings while the speaker still
// counts as live (a timer that fired a little early, or an observation
// refreshed meanwhile), it is set again for the new expiry. While this
// process is blind (its watch is broken) everyone counts as live and there
// is no expiry to wait for; resume() sets every alarm again.
import type { Clock, TimerHandle } from '../clock.js';
import type { PeerLiveness } from './peer-liveness.js';

export class PeerExpiryAlarms {
  private readonly alarms = new Map<string, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly liveness: Pick<PeerLiveness, 'expiresAt' | 'live' | 'nodes'>,
    /** Called once per expiry, when the node stops being live. */
    private readonly onExpired: (node: string) => void,
  ) {}

  /** (Re)sets the node's alarm for its current expiry; clears it if the node is not live. */
  watch(node: string): void {
    this.clear(node);
    const at = this.liveness.expiresAt(node);
    if (at === undefined) return;
    const now = this.clock.now();
    // Blind: live() is true but the expiry lies in the past; resume() re-arms. Without this, ring-and-re-arm would spin.
    if (at <= now && this.liveness.live(node)) return;
    // +1 ms: ring just after the expiry instant, when live() has certainly turned false.
    this.alarms.set(
      node,
      this.clock.setTimeout(() => this.ring(node), Math.max(0, at - now) + 1),
    );
  }

  /** After a time of not watching: every known speaker gets its alarm again. */
  resume(): void {
    for (const n of this.liveness.nodes()) this.watch(n);
  }

  clear(node: string): void {
    const old = this.alarms.get(node);
    if (old !== undefined) this.clock.clearTimeout(old);
    this.alarms.delete(node);
  }

  clearAll(): void {
    for (const n of [...this.alarms.keys()]) this.clear(n);
  }

  /** Nodes with an alarm set (for tests and debugging). */
  armed(): string[] {
    return [...this.alarms.keys()].sort();
  }

  private ring(node: string): void {
    this.alarms.delete(node);
    if (this.liveness.live(node)) {
      this.watch(node);
      return;
    }
    this.onExpired(node);
  }
}
