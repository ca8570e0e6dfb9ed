// What there is to announce, computed from the caches only when something it
// depends on changed, and which IPs a change touched. A Service or
// EndpointSlice event touches few IPs: with 1,000 IPs, re-running all of
// them per event would be a million reconciles to set up.
import type { Announcement } from '../election/announcements.js';

/** What about an announcement matters to the election: its pool, interface, Services and endpoint nodes. */
export function announcementKey(a: Announcement | undefined): string {
  if (a === undefined) return '';
  const services = a.services
    .map((s) => `${s.metadata.namespace}/${s.metadata.name}@${s.metadata.resourceVersion}`)
    .sort()
    .join(',');
  const nodes = a.endpointNodes === undefined ? '*' : [...a.endpointNodes].sort().join(',');
  return `${a.pool}|${a.interfaceSpec}|${nodes}|${services}|${a.follows ?? ''}`;
}

/**
 * The announcements, recomputed at most once per burst of changes. A relist
 * or a watch chunk delivers many Services in one go, and each event used to
 * recompute every announcement: 1,000 Services listed at once cost a million
 * address parses, half of a 50-speaker benchmark's CPU (a V8 profile of
 * bench-scale at 1,000 IPs). Now an event marks the view stale; the view
 * settles once, after the synchronous work that delivered the events (a
 * microtask), or earlier when someone reads it, so reads never see a view
 * older than the caches.
 */
export class AnnouncementView {
  private view: Map<string, Announcement> | undefined;
  private stale = false;

  /** onChanged: the IPs whose announcement changed when a stale view settled (not after invalidate()). */
  constructor(
    private readonly compute: () => Map<string, Announcement>,
    private readonly onChanged: (ips: string[]) => void = () => {},
  ) {}

  current(): ReadonlyMap<string, Announcement> {
    this.settle();
    this.view ??= this.compute();
    return this.view;
  }

  /** A source changed: recompute before the next read, and within this turn of the event loop anyway. */
  changed(): void {
    if (this.stale) return;
    this.stale = true;
    queueMicrotask(() => this.settle());
  }

  /** Recomputes now; returns the IPs whose announcement changed (appeared, went, or differs). */
  refresh(): string[] {
    this.stale = false;
    const before = this.view ?? new Map<string, Announcement>();
    this.view = this.compute();
    const changed: string[] = [];
    for (const ip of new Set([...before.keys(), ...this.view.keys()])) {
      if (announcementKey(before.get(ip)) !== announcementKey(this.view.get(ip))) changed.push(ip);
    }
    return changed;
  }

  /** Recompute on next use (the caller re-examines every IP anyway). */
  invalidate(): void {
    this.stale = false;
    this.view = undefined;
  }

  private settle(): void {
    if (!this.stale) return;
    this.onChanged(this.refresh());
  }
}
