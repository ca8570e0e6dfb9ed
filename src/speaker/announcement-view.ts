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

export class AnnouncementView {
  private view: Map<string, Announcement> | undefined;

  constructor(private readonly compute: () => Map<string, Announcement>) {}

  current(): ReadonlyMap<string, Announcement> {
    this.view ??= this.compute();
    return this.view;
  }

  /** Recomputes now; returns the IPs whose announcement changed (appeared, went, or differs). */
  refresh(): string[] {
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
    this.view = undefined;
  }
}
