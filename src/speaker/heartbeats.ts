// The LAN heartbeats of one speaker (docs/heartbeats.md), as the composition
// root uses them: the socket, the exchange and its plan, and the fence that
// bounds how long this node may defend what it holds. Kept apart from
// speaker.ts so that it reads as one thing; the decisions are in
// election/beat-exchange.ts (who is silent), election/beat-acks.ts and
// election/silence-fence.ts (how long nobody can take over by silence).
// With the slow liveness Lease (witness), a silence counts once a second
// standby witnessed it, and the fence is the silence declaration
// (election/silence-declaration.ts) that the Lease carries.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { BeatExchange, type BeatMetrics, type BeatTransport } from '../election/beat-exchange.js';
import { type BeatPlanSources, beatPlan } from '../election/beat-plan.js';
import { SLOW_BEAT_TIMING } from '../election/beat-tracker.js';
import { DEFAULT_FANOUT, holdersToWatch } from '../election/beat-watchers.js';
import { DEFAULT_WITNESS_TIMING } from '../election/beat-witness.js';
import { SilenceDeclaration } from '../election/silence-declaration.js';
import { type FenceEvents, SilenceFence } from '../election/silence-fence.js';
import { errorCode } from '../errors.js';
import { BOOT_ANNOTATION, HEARTBEAT_ANNOTATION, QUIET_ANNOTATION, SILENCE_ANNOTATION } from '../k8s/lease-names.js';
import { formatUdpEndpoint, type UdpEndpoint } from '../net/udp-socket.js';
import type { Logger } from '../observability/logger.js';

export interface HeartbeatDeps {
  /** The cluster's heartbeat key (the chart's Secret). */
  key: Buffer;
  /** Where this speaker takes beats: the node's address, advertised on its liveness Lease. */
  address: UdpEndpoint;
  open: (
    at: UdpEndpoint,
    onMessage: (datagram: Buffer, from: UdpEndpoint) => void,
    onError: (err: Error) => void,
  ) => Promise<BeatTransport>;
}

export interface SpeakerHeartbeatsOptions {
  clock: Clock;
  log: Logger;
  metrics: BeatMetrics;
  sources: BeatPlanSources;
  /** How long this node's Lease must go unrenewed before its standbys may act on its silence (declared on the Lease). */
  quietMs: number;
  /** Send time of this node's last successful liveness renewal. */
  renewedAt: () => number;
  /** A watched holder went silent, or is no longer silent (slow liveness: once a witness confirmed it). */
  onSilence: (holder: string, silent: boolean) => void;
  fence: FenceEvents;
  /**
   * Slow liveness: a silence needs a witness, and the fence is what the Lease declares; renewNow() writes it.
   * beating() says what the beats say while this node cannot renew (beat-exchange.ts BeatExchangeOptions).
   */
  slow?: { renewNow(): void; beating(): 'beat' | 'lease-only' | 'none' };
}

/** How long this node may defend: until() and holds() are what the speaker licenses its readers by. */
export interface DefenceFence {
  until(): number;
  holds(): boolean;
  refresh(): void;
  stop(): void;
}

export class SpeakerHeartbeats {
  readonly fence: DefenceFence;
  /** This process's boot id: in its beats, and with the slow liveness Lease on its Lease and info record. */
  readonly bootId = randomBytes(8).toString('hex');
  private readonly declaration: SilenceDeclaration | undefined;
  private exchange: BeatExchange | undefined;
  private socket: BeatTransport | undefined;

  constructor(
    private readonly hb: HeartbeatDeps,
    private readonly o: SpeakerHeartbeatsOptions,
  ) {
    // No exchange (not started yet, or its socket would not open): acks prove nothing.
    const ackHorizon = (): number => this.exchange?.ackHorizon() ?? Number.NEGATIVE_INFINITY;
    if (o.slow !== undefined) {
      const renewNow = o.slow.renewNow;
      this.declaration = new SilenceDeclaration({ clock: o.clock, ackHorizon, declare: () => renewNow() }, o.fence);
      this.fence = this.declaration;
    } else {
      this.fence = new SilenceFence(o.clock, { renewedAt: o.renewedAt, quietMs: o.quietMs, ackHorizon }, o.fence);
    }
  }

  /**
   * Opens the socket and starts beating. A socket that cannot open (the port
   * taken, the address not on this node) is logged with its code and the
   * speaker runs on without heartbeats: it advertises no endpoint, so its
   * peers judge it by its Lease, as they judge a speaker without heartbeats.
   */
  async start(): Promise<void> {
    const { log } = this.o;
    try {
      this.socket = await this.hb.open(
        this.hb.address,
        (datagram, from) => this.exchange?.received(datagram, from),
        (err) => log.warn({ err, code: errorCode(err) }, 'heartbeat socket error'),
      );
    } catch (err) {
      log.error(
        { err, code: errorCode(err), address: formatUdpEndpoint(this.hb.address) },
        'cannot open the heartbeat socket: running without heartbeats (peers judge this node by its Lease)',
      );
      return;
    }
    this.exchange = new BeatExchange({
      me: this.o.sources.me,
      clock: this.o.clock,
      log,
      key: this.hb.key,
      transport: this.socket,
      metrics: this.o.metrics,
      plan: beatPlan(this.o.sources),
      onChange: this.o.onSilence,
      bootId: this.bootId,
      ...(this.o.slow === undefined ? {} : { witness: DEFAULT_WITNESS_TIMING, beating: this.o.slow.beating, timing: SLOW_BEAT_TIMING }),
    });
    this.exchange.start();
    log.info({ address: formatUdpEndpoint(this.hb.address) }, 'heartbeats on');
  }

  stop(): void {
    this.exchange?.stop();
    this.socket?.close();
    this.fence.stop();
  }

  /**
   * What this node's liveness Lease says of its heartbeats. Fast: where it
   * takes them and its quiet time (none before they run). Slow: its boot and
   * what it declares about takeovers by silence (called once per renewal
   * write: the declaration counts from the moment it is sent).
   */
  annotations(): Record<string, string> {
    if (this.declaration !== undefined) return { [BOOT_ANNOTATION]: this.bootId, [SILENCE_ANNOTATION]: this.declaration.sending() };
    if (this.exchange === undefined) return {};
    return { [HEARTBEAT_ANNOTATION]: formatUdpEndpoint(this.hb.address), [QUIET_ANNOTATION]: String(this.o.quietMs) };
  }

  /** Slow: what the info record says of its heartbeats (where it takes them, once they run) and its boot. */
  infoAnnotations(): Record<string, string> {
    return {
      [BOOT_ANNOTATION]: this.bootId,
      ...(this.exchange === undefined ? {} : { [HEARTBEAT_ANNOTATION]: formatUdpEndpoint(this.hb.address) }),
    };
  }

  /** A renewal carrying annotations() was answered (or failed): what the Lease declares may have changed. */
  renewed(ok: boolean): void {
    this.declaration?.answered(ok);
  }

  isSilent(node: string): boolean {
    return this.exchange?.isSilent(node) === true;
  }

  /** Slow: the boot of node's process if a second standby witnessed its silence. */
  witnessedSilent(node: string): string | undefined {
    return this.exchange?.witnessedSilent(node);
  }

  /** Whether a fresh beat of node is on record (its liveness needs no Lease read). */
  hears(node: string): boolean {
    return this.exchange?.hears(node) === true;
  }

  /** Whether node has acked this process's beats for forMs without a break (a crash, a stall, a lost path). */
  ackedSteadily(node: string, forMs: number): boolean {
    return this.exchange?.ackedSteadily(node, forMs) === true;
  }

  /** The holders this node stands by for, by its views now (whose liveness it must be able to judge). */
  watchedHolders(): string[] {
    return [...holdersToWatch(this.o.sources.me, beatPlan(this.o.sources).heldByOthers(), DEFAULT_FANOUT).keys()];
  }

  renewalSeen(node: string): void {
    this.exchange?.renewalSeen(node);
  }

  /** Who holds what may have changed. */
  replan(): void {
    this.exchange?.replan();
  }
}
