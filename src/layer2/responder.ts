// Answers ARP for the addresses this node announces on one link, and
// announces them with gratuitous ARP when it takes them. Everything else on
// the wire is ignored under a named reason. It also listens for anyone else
// claiming one of our addresses: that is how a holder cut off from the API
// server learns that a new holder has taken over (it then yields at once).
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { FrameLink } from './link.js';
import { arpReplyFor, decodeArpFrame, encodeArpFrame, gratuitousArp } from './packet/arp.js';
import type { DropReason } from './packet/drop-reason.js';

export interface ResponderMetrics {
  request(ip: string): void;
  reply(ip: string): void;
  gratuitous(ip: string): void;
  dropped(reason: DropReason): void;
  sendFailed(code: string): void;
}

export interface ResponderOptions {
  link: FrameLink;
  clock: Clock;
  log: Logger;
  metrics: ResponderMetrics;
  /**
   * When, after taking an address, to send gratuitous ARP (both forms each
   * time). Default 0, 0.5, 1 and 2 s: the first reaches every neighbour at
   * once, the repeats cover a lost frame or a switch still learning.
   */
  announceScheduleMs?: readonly number[];
  /** Re-announce every so often while holding (0 = never); for switches whose MAC tables age out. */
  refreshIntervalMs?: number;
  /** Called when another MAC claims an address this link announces. */
  onForeignClaim?: (ip: string, mac: string) => void;
}

export const DEFAULT_ANNOUNCE_SCHEDULE_MS = [0, 500, 1_000, 2_000] as const;

interface Announced {
  timers: TimerHandle[];
  since: number;
}

export class ArpResponder {
  private readonly held = new Map<string, Announced>();
  private readonly schedule: readonly number[];

  constructor(private readonly o: ResponderOptions) {
    this.schedule = o.announceScheduleMs ?? DEFAULT_ANNOUNCE_SCHEDULE_MS;
    o.link.onFrame((frame, answered) => this.onFrame(frame, answered));
  }

  get link(): FrameLink {
    return this.o.link;
  }

  holds(ip: string): boolean {
    return this.held.has(ip);
  }

  addresses(): string[] {
    return [...this.held.keys()];
  }

  /** Starts answering for ip and sends the gratuitous burst. Idempotent. */
  announce(ip: string): void {
    if (this.held.has(ip)) return;
    const entry: Announced = { timers: [], since: this.o.clock.now() };
    this.held.set(ip, entry);
    // Announce first, then answer: the old holder yields on our gratuitous ARP, so no client sees a reply
    // from us while the old holder may still answer too.
    for (const at of this.schedule) if (at <= 0) this.sendGratuitous(ip);
    this.syncFastPath();
    for (const at of this.schedule) if (at > 0) entry.timers.push(this.o.clock.setTimeout(() => this.sendGratuitous(ip), at));
    const refresh = this.o.refreshIntervalMs ?? 0;
    if (refresh > 0) {
      const tick = (): void => {
        if (this.held.get(ip) !== entry) return;
        this.sendGratuitous(ip);
        entry.timers.push(this.o.clock.setTimeout(tick, refresh));
      };
      entry.timers.push(this.o.clock.setTimeout(tick, refresh));
    }
  }

  /** Stops answering for ip at once; pending announcements are cancelled. */
  withdraw(ip: string): void {
    const entry = this.held.get(ip);
    if (entry === undefined) return;
    for (const t of entry.timers) this.o.clock.clearTimeout(t);
    this.held.delete(ip);
    this.syncFastPath();
  }

  /** Tells a link with its own fast path which addresses to answer for. */
  private syncFastPath(): void {
    this.o.link.answerFor?.([...this.held.keys()]);
  }

  withdrawAll(): void {
    for (const ip of [...this.held.keys()]) this.withdraw(ip);
  }

  close(): void {
    this.withdrawAll();
    this.o.link.close();
  }

  private onFrame(frame: Buffer, answeredByLink = false): void {
    const decoded = decodeArpFrame(frame);
    if (!decoded.ok) {
      this.o.metrics.dropped(decoded.reason);
      return;
    }
    const arp = decoded.value;
    const mac = this.o.link.mac;
    if (arp.senderMac === mac || arp.ethernetSource === mac) {
      this.o.metrics.dropped('own-frame');
      return;
    }
    // Anyone else using one of our addresses as their own: the new holder's announcement, or a conflict.
    if (this.held.has(arp.senderIp)) {
      this.o.log.warn({ ip: arp.senderIp, mac: arp.senderMac, operation: arp.operation }, 'another MAC claims an address we announce');
      this.o.onForeignClaim?.(arp.senderIp, arp.senderMac);
      if (!this.held.has(arp.senderIp)) return;
    }
    if (arp.operation === 'request' && arp.senderIp !== arp.targetIp) {
      if (!this.held.has(arp.targetIp)) {
        this.o.metrics.dropped('not-held');
        return;
      }
      this.o.metrics.request(arp.targetIp);
      if (answeredByLink) this.o.metrics.reply(arp.targetIp);
      // A link with a fast path has already decided: if it did not answer, it had yielded the address to a
      // claim read with this request. Answering late from here would be a second MAC after the new holder's.
      else if (this.o.link.answerFor !== undefined) this.o.metrics.dropped('yielded');
      else if (this.trySend(encodeArpFrame(arpReplyFor(arp, mac)))) this.o.metrics.reply(arp.targetIp);
      else this.o.metrics.dropped('not-ready');
      return;
    }
    this.o.metrics.dropped(arp.senderIp === arp.targetIp ? 'gratuitous' : 'reply');
  }

  private sendGratuitous(ip: string): void {
    if (!this.held.has(ip)) return;
    const mac = this.o.link.mac;
    const ok =
      this.trySend(encodeArpFrame(gratuitousArp(ip, mac, 'request'))) && this.trySend(encodeArpFrame(gratuitousArp(ip, mac, 'reply')));
    if (ok) this.o.metrics.gratuitous(ip);
  }

  private trySend(frame: Buffer): boolean {
    try {
      this.o.link.send(frame);
      return true;
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? 'EIO');
      this.o.metrics.sendFailed(code);
      this.o.log.warn({ err, code, interface: this.o.link.name }, 'could not send an ARP frame');
      return false;
    }
  }
}
