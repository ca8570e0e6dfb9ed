// Link over a real interface: the addon's two AF_PACKET sockets, one bound to
// the ARP EtherType and one to IPv6 behind a filter for Neighbour
// Solicitations and Advertisements, and their one reader thread, which
// answers and announces under the license rule of link.ts
// (native/responder_core.c). Needs CAP_NET_RAW. Deadlines are on the addon's
// CLOCK_MONOTONIC, counted from each call: JS passes durations, never times.
// The solicited-node group joins IPv6 needs are the caller's (see link.ts).
import { type AfPacketAddon, dispatchControl, grantArrays, loadAddon, type NativeHandle } from './addon.js';
import type { AnnounceResult, Grant, Link, LinkEvents, LinkStats } from './link.js';

export class AfPacketLink implements Link {
  readonly name: string;
  readonly mac: string;
  readonly ifindex: number;
  private readonly native: AfPacketAddon;
  private readonly handle: NativeHandle;
  private closed = false;

  /** Opens the sockets and starts their reader; throws an Error with code (EPERM, ENODEV...) when it cannot. */
  constructor(ifname: string, events: LinkEvents) {
    this.native = loadAddon();
    // Events still queued when close() runs are not delivered: the link is gone for its owner.
    this.handle = this.native.open(
      ifname,
      (frame, verdict, reason) => {
        if (!this.closed) events.frame?.(frame, verdict, reason);
      },
      (e) => {
        if (!this.closed) dispatchControl(events, e);
      },
    );
    const info = this.native.info(this.handle);
    this.name = info.name;
    this.mac = info.mac;
    this.ifindex = info.ifindex;
  }

  heartbeat(aliveMs: number): void {
    this.native.heartbeat(this.handle, aliveMs);
  }

  grant(grants: readonly Grant[], answerMs: number, defendMs: number): string[] {
    const { ips, gens } = grantArrays(grants);
    return this.native.grant(this.handle, ips, gens, answerMs, defendMs).map((i) => ips[i] as string);
  }

  revoke(ips: readonly string[]): void {
    this.native.revoke(this.handle, [...ips]);
  }

  announce(ip: string, gen: number): AnnounceResult {
    return this.native.announce(this.handle, ip, gen);
  }

  stats(): LinkStats {
    return this.native.stats(this.handle);
  }

  /** Stops the reader (at once: it waits on an eventfd, not a timeout) and closes the sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }
}
