// The addresses this node announces on one link, as JavaScript sees them:
// which it holds at which generation, the gratuitous bursts after taking
// one and the periodic refresh, the counting of every frame the reader
// read, and the reader's yields and conflicts passed on to the election.
// The reader thread (native/af_packet.c) is the only thing that answers or
// announces; every announcement asked for here goes through its license
// check at the moment of sending (see link.ts). For IPv6 addresses it also
// holds their solicited-node groups (multicast-groups.ts) from the grant to
// the withdraw, so multicast Neighbour Solicitations reach the reader; a
// yield keeps the group, since a newer grant may follow at once and an MLD
// report takes time to reach a snooping switch.
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import { AfPacketLink } from './af-packet-link.js';
import type { AnnounceResult, FrameVerdict, Grant, Link, LinkEvents, YieldReason } from './link.js';
import { type MembershipOp, MulticastGroups, type OpenMembershipSocket, openDgramMembership } from './multicast-groups.js';

export interface ResponderMetrics {
  /** One frame read by the reader, with what it did about it. */
  frame(verdict: FrameVerdict): void;
  gratuitous(ip: string): void;
  /** An announcement the reader did not send: not licensed (any more), or the kernel refused it. */
  announceRefused(reason: string): void;
  /** A solicited-node group step failed (code: an errno name); the address is still answered. */
  membershipFailed?(op: MembershipOp, code: string): void;
}

export interface ResponderEvents {
  yielded(ip: string, gen: number, reason: YieldReason, mac: string | undefined): void;
  conflict(ip: string, gen: number, mac: string): void;
  /** The link's socket failed for good (the interface went away): reopen. */
  failed(code: string): void;
}

export interface ResponderOptions {
  /** Opens the link, routing its events to this responder. */
  open: (events: LinkEvents) => Link;
  clock: Clock;
  log: Logger;
  metrics: ResponderMetrics;
  events: ResponderEvents;
  /**
   * When, after taking an address, to send gratuitous ARP (both forms each
   * time). Default 0, 0.5, 1 and 2 s: the first reaches every neighbour at
   * once, the repeats cover a lost frame or a switch still learning.
   */
  announceScheduleMs?: readonly number[];
  /** Re-announce every so often while holding (0 = never); see SPEAKER_DEFAULTS.garpRefreshMs for why it is on. */
  refreshIntervalMs?: number;
  /**
   * Opens the socket that holds this link's solicited-node groups. Default: a udp6 socket when the
   * link is an AfPacketLink, none otherwise (a VirtualLink has no interface to join on).
   */
  membershipSocket?: OpenMembershipSocket;
}

export const DEFAULT_ANNOUNCE_SCHEDULE_MS = [0, 500, 1_000, 2_000] as const;

interface Held {
  gen: number;
  timers: TimerHandle[];
  /** The reader yielded this generation; the entry stays (refusing stale grants) until a newer grant or a withdraw. */
  yielded: boolean;
}

export class ArpResponder {
  readonly link: Link;
  private readonly held = new Map<string, Held>();
  private readonly schedule: readonly number[];
  private readonly groups: MulticastGroups | undefined;

  constructor(private readonly options: ResponderOptions) {
    this.schedule = options.announceScheduleMs ?? DEFAULT_ANNOUNCE_SCHEDULE_MS;
    this.link = options.open({
      frame: (_frame, verdict) => options.metrics.frame(verdict),
      yielded: (ip, gen, reason, mac) => {
        const entry = this.held.get(ip);
        if (entry?.gen === gen) {
          this.stopTimers(ip);
          entry.yielded = true;
        }
        options.events.yielded(ip, gen, reason, mac);
      },
      conflict: (ip, gen, mac) => options.events.conflict(ip, gen, mac),
      failed: (code) => options.events.failed(code),
    });
    this.groups = this.openGroups();
  }

  get name(): string {
    return this.link.name;
  }

  /** Whether the reader holds ip (granted and not yielded since). */
  holds(ip: string): boolean {
    const entry = this.held.get(ip);
    return entry !== undefined && !entry.yielded;
  }

  addresses(): string[] {
    return [...this.held].flatMap(([ip, e]) => (e.yielded ? [] : [ip]));
  }

  /**
   * Licenses the reader to answer ip at gen (answer and defend windows from
   * now, see Link.grant). Returns false if the reader refused: it yielded
   * that generation already (its yield event is on the way).
   */
  license(ip: string, gen: number, answerMs: number, defendMs: number): boolean {
    return this.licenseMany([{ ip, gen }], answerMs, defendMs).length === 0;
  }

  /** License several addresses with the same windows at once; returns the refused ones. */
  licenseMany(grants: readonly Grant[], answerMs: number, defendMs: number): string[] {
    if (grants.length === 0) return [];
    const refused = new Set(this.link.grant(grants, answerMs, defendMs));
    for (const g of grants) {
      if (refused.has(g.ip)) continue;
      const entry = this.held.get(g.ip);
      if (entry === undefined) {
        this.held.set(g.ip, { gen: g.gen, timers: [], yielded: false });
        this.groups?.join(g.ip);
      } else if (entry.gen !== g.gen) {
        this.stopTimers(g.ip);
        entry.gen = g.gen;
        entry.yielded = false;
      }
    }
    return [...refused];
  }

  /** The gratuitous burst for a held address, then the periodic refresh. Idempotent per generation. */
  announce(ip: string): void {
    const entry = this.held.get(ip);
    if (entry === undefined || entry.yielded) return;
    this.stopTimers(ip);
    const gen = entry.gen;
    for (const at of this.schedule) {
      if (at <= 0) this.sendGratuitous(ip, gen);
      else entry.timers.push(this.options.clock.setTimeout(() => this.sendGratuitous(ip, gen), at));
    }
    const refresh = this.options.refreshIntervalMs ?? 0;
    if (refresh > 0) {
      const tick = (): void => {
        if (this.held.get(ip)?.gen !== gen) return;
        this.sendGratuitous(ip, gen);
        entry.timers.push(this.options.clock.setTimeout(tick, refresh));
      };
      entry.timers.push(this.options.clock.setTimeout(tick, refresh));
    }
  }

  /**
   * Cancels ip's pending gratuitous burst and refresh, and keeps answering: a node handing an IP over
   * must not re-announce itself during its window, or clients move back to it just before the switch.
   */
  quiet(ip: string): void {
    this.stopTimers(ip);
  }

  /** One gratuitous pair now (a defence against a conflicting claim). */
  reannounce(ip: string): AnnounceResult | undefined {
    const entry = this.held.get(ip);
    return entry === undefined || entry.yielded ? undefined : this.sendGratuitous(ip, entry.gen);
  }

  /** Stops answering ip at once; pending announcements are cancelled. */
  withdraw(ip: string): void {
    if (!this.held.has(ip)) return;
    this.stopTimers(ip);
    this.held.delete(ip);
    this.link.revoke([ip]);
    this.groups?.leave(ip);
  }

  withdrawAll(): void {
    const ips = [...this.held.keys()];
    for (const ip of ips) this.stopTimers(ip);
    this.held.clear();
    if (ips.length > 0) this.link.revoke(ips);
    for (const ip of ips) this.groups?.leave(ip);
  }

  close(): void {
    // Closing the groups' socket drops them all in one go; the withdraws after it have none left to leave.
    this.groups?.close();
    this.withdrawAll();
    this.link.close();
  }

  private openGroups(): MulticastGroups | undefined {
    const { link, options } = this;
    const open = options.membershipSocket ?? (link instanceof AfPacketLink ? openDgramMembership(link.name, link.ifindex) : undefined);
    if (open === undefined) return undefined;
    return new MulticastGroups({
      ifname: link.name,
      open,
      failed: (op, code, group, err) => {
        options.metrics.membershipFailed?.(op, code);
        options.log.warn({ op, code, group, err, interface: link.name }, 'solicited-node group failed: multicast NS may not arrive');
      },
    });
  }

  private stopTimers(ip: string): void {
    const entry = this.held.get(ip);
    if (entry === undefined) return;
    for (const t of entry.timers) this.options.clock.clearTimeout(t);
    entry.timers = [];
  }

  private sendGratuitous(ip: string, gen: number): AnnounceResult {
    const result = this.link.announce(ip, gen);
    if (result === 'sent') this.options.metrics.gratuitous(ip);
    else {
      this.options.metrics.announceRefused(result);
      this.options.log.debug({ ip, gen, reason: result, interface: this.link.name }, 'gratuitous ARP not sent');
    }
    return result;
  }
}
